//! `is_valid_light_client_header`: a header's execution payload header is the one its block
//! body commits to, hashed as the fork of the header's *slot* has it.

use super::merkle::{depth, is_valid_merkle_branch, EXECUTION_PAYLOAD_GINDEX};
use super::VerifyError;
use crate::chain::{ChainConfig, Fork};
use crate::primitives::{Bytes32, Root};
use crate::types::block::root_of;
use crate::types::containers::{
    BeaconBlockHeader, ExecutionPayloadHeaderCapella, ExecutionPayloadHeaderDeneb,
};
use crate::types::LightClientHeader;

/// `hash_tree_root(header.beacon)`: the block root.
pub fn beacon_root(header: &BeaconBlockHeader) -> Root {
    root_of(header)
}

/// Whether `header` is its fork's empty `LightClientHeader()`.
pub fn is_empty_header(header: &LightClientHeader) -> bool {
    match header {
        LightClientHeader::Altair(inner) | LightClientHeader::Bellatrix(inner) => {
            *inner == Default::default()
        }
        LightClientHeader::Capella(inner) => *inner == Default::default(),
        LightClientHeader::Deneb(inner)
        | LightClientHeader::Electra(inner)
        | LightClientHeader::Fulu(inner) => *inner == Default::default(),
    }
}

/// Checks `header` as `is_valid_light_client_header` does, naming what is wrong. `role` says
/// which header of the object it is ("attested", "finalized", …) for the error.
pub fn check_light_client_header(
    chain: &ChainConfig,
    header: &LightClientHeader,
    role: &'static str,
) -> Result<(), VerifyError> {
    let beacon = header.beacon();
    let fork = chain.fork_at_slot(beacon.slot);
    let invalid = |detail: &str| VerifyError::InvalidHeader {
        role,
        slot: beacon.slot,
        detail: detail.to_string(),
    };
    // The execution part as (root under the slot's fork, branch), or None before capella.
    let (execution_root, branch): (Root, &[Bytes32]) = match header {
        LightClientHeader::Altair(_) | LightClientHeader::Bellatrix(_) => {
            if fork >= Fork::Capella {
                return Err(invalid(
                    "an altair header for a slot that has an execution payload",
                ));
            }
            return Ok(());
        }
        LightClientHeader::Capella(inner) => {
            if fork < Fork::Capella {
                return empty_execution(
                    inner.execution == ExecutionPayloadHeaderCapella::default(),
                    &inner.execution_branch,
                    invalid,
                );
            }
            let root = if fork >= Fork::Deneb {
                // A capella header carried into deneb reads as deneb's with no blob gas.
                root_of(&deneb_from_capella(&inner.execution))
            } else {
                root_of(&inner.execution)
            };
            (root, &inner.execution_branch[..])
        }
        LightClientHeader::Deneb(inner)
        | LightClientHeader::Electra(inner)
        | LightClientHeader::Fulu(inner) => {
            let execution = &inner.execution;
            if fork < Fork::Deneb
                && (execution.blob_gas_used != 0 || execution.excess_blob_gas != 0)
            {
                return Err(invalid("blob gas fields set before deneb"));
            }
            if fork < Fork::Capella {
                return empty_execution(
                    *execution == ExecutionPayloadHeaderDeneb::default(),
                    &inner.execution_branch,
                    invalid,
                );
            }
            let root = if fork >= Fork::Deneb {
                root_of(execution)
            } else {
                root_of(&capella_from_deneb(execution))
            };
            (root, &inner.execution_branch[..])
        }
    };
    let gindex = EXECUTION_PAYLOAD_GINDEX;
    if is_valid_merkle_branch(
        &execution_root,
        branch,
        depth(gindex),
        gindex % (1 << depth(gindex)),
        &beacon.body_root,
    ) {
        Ok(())
    } else {
        Err(invalid(
            "execution branch does not prove the execution payload header in the block body",
        ))
    }
}

fn empty_execution(
    is_default: bool,
    branch: &[Bytes32],
    invalid: impl Fn(&str) -> VerifyError,
) -> Result<(), VerifyError> {
    if is_default && branch.iter().all(|node| node.0 == [0u8; 32]) {
        Ok(())
    } else {
        Err(invalid("an execution payload header before capella"))
    }
}

fn deneb_from_capella(capella: &ExecutionPayloadHeaderCapella) -> ExecutionPayloadHeaderDeneb {
    ExecutionPayloadHeaderDeneb {
        parent_hash: capella.parent_hash,
        fee_recipient: capella.fee_recipient,
        state_root: capella.state_root,
        receipts_root: capella.receipts_root,
        logs_bloom: capella.logs_bloom,
        prev_randao: capella.prev_randao,
        block_number: capella.block_number,
        gas_limit: capella.gas_limit,
        gas_used: capella.gas_used,
        timestamp: capella.timestamp,
        extra_data: capella.extra_data.clone(),
        base_fee_per_gas: capella.base_fee_per_gas,
        block_hash: capella.block_hash,
        transactions_root: capella.transactions_root,
        withdrawals_root: capella.withdrawals_root,
        blob_gas_used: 0,
        excess_blob_gas: 0,
    }
}

fn capella_from_deneb(deneb: &ExecutionPayloadHeaderDeneb) -> ExecutionPayloadHeaderCapella {
    ExecutionPayloadHeaderCapella {
        parent_hash: deneb.parent_hash,
        fee_recipient: deneb.fee_recipient,
        state_root: deneb.state_root,
        receipts_root: deneb.receipts_root,
        logs_bloom: deneb.logs_bloom,
        prev_randao: deneb.prev_randao,
        block_number: deneb.block_number,
        gas_limit: deneb.gas_limit,
        gas_used: deneb.gas_used,
        timestamp: deneb.timestamp,
        extra_data: deneb.extra_data.clone(),
        base_fee_per_gas: deneb.base_fee_per_gas,
        block_hash: deneb.block_hash,
        transactions_root: deneb.transactions_root,
        withdrawals_root: deneb.withdrawals_root,
    }
}
