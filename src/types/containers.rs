//! The SSZ containers of the light-client protocol, one module per fork family.
//!
//! Every container is generic over the preset's `SYNC_COMMITTEE_SIZE` (`S`: 512 on mainnet, 32 on
//! the minimal preset of local devnets); nothing else in these types depends on the preset.
//! Bellatrix reuses altair's containers and fulu reuses electra's: only their context bytes
//! differ (see [`super::forked`]).

use ssz_rs::prelude::*;

use crate::primitives::{
    quoted_u64, BlsPublicKey, BlsSignature, ByteList, Bytes32, ExecutionAddress, LogsBloom, Root,
    Slot, Uint256,
};

/// `BeaconBlockHeader`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct BeaconBlockHeader {
    /// Slot of the block.
    #[serde(with = "quoted_u64")]
    pub slot: Slot,
    /// Index of the proposer.
    #[serde(with = "quoted_u64")]
    pub proposer_index: u64,
    /// Root of the parent block.
    pub parent_root: Root,
    /// Root of the post-state.
    pub state_root: Root,
    /// Root of the block body.
    pub body_root: Root,
}

/// `SyncCommittee`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct SyncCommittee<const S: usize> {
    /// Members' public keys.
    pub pubkeys: Vector<BlsPublicKey, S>,
    /// Aggregate of all members' keys.
    pub aggregate_pubkey: BlsPublicKey,
}

/// `SyncAggregate`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct SyncAggregate<const S: usize> {
    /// Which members signed.
    pub sync_committee_bits: Bitvector<S>,
    /// Their aggregate signature.
    pub sync_committee_signature: BlsSignature,
}

/// `MAX_EXTRA_DATA_BYTES`.
pub const MAX_EXTRA_DATA_BYTES: usize = 32;

macro_rules! execution_payload_header {
    ($(#[$doc:meta])* $name:ident { $($(#[$extra_doc:meta])* $extra:ident),* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Hash of the parent execution block.
            pub parent_hash: Bytes32,
            /// Beneficiary of the fees.
            pub fee_recipient: ExecutionAddress,
            /// Execution state root.
            pub state_root: Bytes32,
            /// Receipts root.
            pub receipts_root: Bytes32,
            /// Logs bloom.
            pub logs_bloom: LogsBloom,
            /// RANDAO mix of the previous slot.
            pub prev_randao: Bytes32,
            /// Execution block number.
            #[serde(with = "quoted_u64")]
            pub block_number: u64,
            /// Gas limit.
            #[serde(with = "quoted_u64")]
            pub gas_limit: u64,
            /// Gas used.
            #[serde(with = "quoted_u64")]
            pub gas_used: u64,
            /// Timestamp.
            #[serde(with = "quoted_u64")]
            pub timestamp: u64,
            /// Extra data.
            pub extra_data: ByteList<MAX_EXTRA_DATA_BYTES>,
            /// Base fee per gas.
            pub base_fee_per_gas: Uint256,
            /// Hash of the execution block.
            pub block_hash: Bytes32,
            /// Root of the transactions list.
            pub transactions_root: Root,
            /// Root of the withdrawals list.
            pub withdrawals_root: Root,
            $(
                $(#[$extra_doc])*
                #[serde(with = "quoted_u64")]
                pub $extra: u64,
            )*
        }
    };
}

execution_payload_header!(
    /// Capella `ExecutionPayloadHeader`.
    ExecutionPayloadHeaderCapella {}
);
execution_payload_header!(
    /// Deneb `ExecutionPayloadHeader` (unchanged through electra and fulu).
    ExecutionPayloadHeaderDeneb {
        /// Blob gas used.
        blob_gas_used,
        /// Excess blob gas.
        excess_blob_gas
    }
);

/// Depth of `execution_branch` (`floorlog2(EXECUTION_PAYLOAD_GINDEX)`).
pub const EXECUTION_BRANCH_DEPTH: usize = 4;

/// The four light-client containers of one fork family, given its header type and the depths of
/// its Merkle branches (`floorlog2` of the generalized indices).
macro_rules! light_client_containers {
    (header = $header:ty, current = $current:expr, next = $next:expr, finality = $finality:expr) => {
        use ssz_rs::prelude::*;

        use crate::primitives::{quoted_u64, Bytes32, Slot};
        use crate::types::containers::{SyncAggregate, SyncCommittee};

        /// Depth of `current_sync_committee_branch`.
        pub const CURRENT_SYNC_COMMITTEE_BRANCH_DEPTH: usize = $current;
        /// Depth of `next_sync_committee_branch`.
        pub const NEXT_SYNC_COMMITTEE_BRANCH_DEPTH: usize = $next;
        /// Depth of `finality_branch`.
        pub const FINALITY_BRANCH_DEPTH: usize = $finality;

        /// `LightClientBootstrap`.
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            Default,
            SimpleSerialize,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(deny_unknown_fields)]
        pub struct LightClientBootstrap<const S: usize> {
            /// Header of the checkpoint block.
            pub header: $header,
            /// Sync committee of the header's period.
            pub current_sync_committee: SyncCommittee<S>,
            /// Proof of `current_sync_committee` in the header's state.
            pub current_sync_committee_branch: Vector<Bytes32, $current>,
        }

        /// `LightClientUpdate`.
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            Default,
            SimpleSerialize,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(deny_unknown_fields)]
        pub struct LightClientUpdate<const S: usize> {
            /// Header attested by the sync committee.
            pub attested_header: $header,
            /// Next sync committee of the attested state.
            pub next_sync_committee: SyncCommittee<S>,
            /// Proof of `next_sync_committee`.
            pub next_sync_committee_branch: Vector<Bytes32, $next>,
            /// Finalized header of the attested state.
            pub finalized_header: $header,
            /// Proof of the finalized checkpoint.
            pub finality_branch: Vector<Bytes32, $finality>,
            /// The sync committee's signature.
            pub sync_aggregate: SyncAggregate<S>,
            /// Slot at which the aggregate was signed.
            #[serde(with = "quoted_u64")]
            pub signature_slot: Slot,
        }

        /// `LightClientFinalityUpdate`.
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            Default,
            SimpleSerialize,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(deny_unknown_fields)]
        pub struct LightClientFinalityUpdate<const S: usize> {
            /// Header attested by the sync committee.
            pub attested_header: $header,
            /// Finalized header of the attested state.
            pub finalized_header: $header,
            /// Proof of the finalized checkpoint.
            pub finality_branch: Vector<Bytes32, $finality>,
            /// The sync committee's signature.
            pub sync_aggregate: SyncAggregate<S>,
            /// Slot at which the aggregate was signed.
            #[serde(with = "quoted_u64")]
            pub signature_slot: Slot,
        }

        /// `LightClientOptimisticUpdate`.
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            Default,
            SimpleSerialize,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(deny_unknown_fields)]
        pub struct LightClientOptimisticUpdate<const S: usize> {
            /// Header attested by the sync committee.
            pub attested_header: $header,
            /// The sync committee's signature.
            pub sync_aggregate: SyncAggregate<S>,
            /// Slot at which the aggregate was signed.
            #[serde(with = "quoted_u64")]
            pub signature_slot: Slot,
        }
    };
}

/// Altair (and bellatrix) light-client types: the header is the beacon header alone.
pub mod altair {
    use super::BeaconBlockHeader;

    /// Altair `LightClientHeader`.
    #[derive(
        Debug,
        Clone,
        PartialEq,
        Eq,
        Default,
        ssz_rs::prelude::SimpleSerialize,
        serde::Serialize,
        serde::Deserialize,
    )]
    #[serde(deny_unknown_fields)]
    pub struct LightClientHeader {
        /// The beacon block header.
        pub beacon: BeaconBlockHeader,
    }

    light_client_containers!(
        header = LightClientHeader,
        current = 5,
        next = 5,
        finality = 6
    );
}

/// Capella light-client types: the header carries the execution payload header and its proof.
pub mod capella {
    use super::{BeaconBlockHeader, ExecutionPayloadHeaderCapella, EXECUTION_BRANCH_DEPTH};

    /// Capella `LightClientHeader`.
    #[derive(
        Debug,
        Clone,
        PartialEq,
        Eq,
        Default,
        ssz_rs::prelude::SimpleSerialize,
        serde::Serialize,
        serde::Deserialize,
    )]
    #[serde(deny_unknown_fields)]
    pub struct LightClientHeader {
        /// The beacon block header.
        pub beacon: BeaconBlockHeader,
        /// The execution payload header.
        pub execution: ExecutionPayloadHeaderCapella,
        /// Proof of `execution` in the block body.
        pub execution_branch: ssz_rs::prelude::Vector<super::Bytes32, EXECUTION_BRANCH_DEPTH>,
    }

    light_client_containers!(
        header = LightClientHeader,
        current = 5,
        next = 5,
        finality = 6
    );
}

/// Deneb light-client types: the execution header gains the blob gas fields.
pub mod deneb {
    use super::{BeaconBlockHeader, ExecutionPayloadHeaderDeneb, EXECUTION_BRANCH_DEPTH};

    /// Deneb (and electra, fulu) `LightClientHeader`.
    #[derive(
        Debug,
        Clone,
        PartialEq,
        Eq,
        Default,
        ssz_rs::prelude::SimpleSerialize,
        serde::Serialize,
        serde::Deserialize,
    )]
    #[serde(deny_unknown_fields)]
    pub struct LightClientHeader {
        /// The beacon block header.
        pub beacon: BeaconBlockHeader,
        /// The execution payload header.
        pub execution: ExecutionPayloadHeaderDeneb,
        /// Proof of `execution` in the block body.
        pub execution_branch: ssz_rs::prelude::Vector<super::Bytes32, EXECUTION_BRANCH_DEPTH>,
    }

    light_client_containers!(
        header = LightClientHeader,
        current = 5,
        next = 5,
        finality = 6
    );
}

/// Electra (and fulu) light-client types: deneb's header, deeper state proofs (EIP-7688 moved
/// the sync committees and the finalized checkpoint to new generalized indices).
pub mod electra {
    pub use super::deneb::LightClientHeader;

    light_client_containers!(
        header = LightClientHeader,
        current = 6,
        next = 6,
        finality = 7
    );
}

/// `Status` v1.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct StatusV1 {
    /// Digest of the sender's current fork.
    pub fork_digest: crate::primitives::ForkDigest,
    /// Root of the sender's finalized checkpoint.
    pub finalized_root: Root,
    /// Epoch of the sender's finalized checkpoint.
    #[serde(with = "quoted_u64")]
    pub finalized_epoch: u64,
    /// Root of the sender's head block.
    pub head_root: Root,
    /// Slot of the sender's head block.
    #[serde(with = "quoted_u64")]
    pub head_slot: Slot,
}

/// `Status` v2 (Fulu): adds the earliest slot the sender can serve.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct StatusV2 {
    /// Digest of the sender's current fork.
    pub fork_digest: crate::primitives::ForkDigest,
    /// Root of the sender's finalized checkpoint.
    pub finalized_root: Root,
    /// Epoch of the sender's finalized checkpoint.
    #[serde(with = "quoted_u64")]
    pub finalized_epoch: u64,
    /// Root of the sender's head block.
    pub head_root: Root,
    /// Slot of the sender's head block.
    #[serde(with = "quoted_u64")]
    pub head_slot: Slot,
    /// Earliest slot whose blocks the sender serves.
    #[serde(with = "quoted_u64")]
    pub earliest_available_slot: Slot,
}

/// `MetaData` v1 (phase0 + attnets; kept for decoding old peers).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct MetaDataV1 {
    /// Sequence number, bumped when the metadata changes.
    #[serde(with = "quoted_u64")]
    pub seq_number: u64,
    /// Attestation subnets the node is subscribed to.
    pub attnets: Bitvector<64>,
}

/// `MetaData` v2 (Altair): adds sync-committee subnets.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct MetaDataV2 {
    /// Sequence number, bumped when the metadata changes.
    #[serde(with = "quoted_u64")]
    pub seq_number: u64,
    /// Attestation subnets the node is subscribed to.
    pub attnets: Bitvector<64>,
    /// Sync-committee subnets the node is subscribed to.
    pub syncnets: Bitvector<4>,
}

/// `MetaData` v3 (Fulu): adds the custody group count.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct MetaDataV3 {
    /// Sequence number, bumped when the metadata changes.
    #[serde(with = "quoted_u64")]
    pub seq_number: u64,
    /// Attestation subnets the node is subscribed to.
    pub attnets: Bitvector<64>,
    /// Sync-committee subnets the node is subscribed to.
    pub syncnets: Bitvector<4>,
    /// Number of custody groups the node custodies.
    #[serde(with = "quoted_u64")]
    pub custody_group_count: u64,
}

/// `ENRForkID`, the `eth2` field of a consensus node's ENR.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct EnrForkId {
    /// Digest of the node's current fork.
    pub fork_digest: crate::primitives::ForkDigest,
    /// Version of the next scheduled fork (the current one if none is scheduled).
    pub next_fork_version: crate::primitives::Version,
    /// Epoch of the next scheduled fork (`FAR_FUTURE_EPOCH` if none).
    #[serde(with = "quoted_u64")]
    pub next_fork_epoch: u64,
}

/// `LightClientUpdatesByRangeRequest`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct LightClientUpdatesByRangeRequest {
    /// First sync-committee period.
    #[serde(with = "quoted_u64")]
    pub start_period: u64,
    /// Number of periods.
    #[serde(with = "quoted_u64")]
    pub count: u64,
}

/// `MAX_REQUEST_LIGHT_CLIENT_UPDATES`.
pub const MAX_REQUEST_LIGHT_CLIENT_UPDATES: u64 = 128;

/// `BeaconBlocksByRangeRequest` (`beacon_blocks_by_range/2`; `step` is deprecated and must be 1).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct BeaconBlocksByRangeRequest {
    /// First slot.
    #[serde(with = "quoted_u64")]
    pub start_slot: u64,
    /// Number of slots.
    #[serde(with = "quoted_u64")]
    pub count: u64,
    /// Always 1.
    #[serde(with = "quoted_u64")]
    pub step: u64,
}

/// `MAX_REQUEST_BLOCKS_DENEB`: most blocks one `beacon_blocks_by_*` request may ask for.
pub const MAX_REQUEST_BLOCKS_DENEB: u64 = 128;

/// `BeaconBlocksByRootRequest`: `List[Root, MAX_REQUEST_BLOCKS_DENEB]`.
pub type BeaconBlocksByRootRequest = List<Root, { MAX_REQUEST_BLOCKS_DENEB as usize }>;

/// `ErrorMessage`: the payload of a response chunk whose result is not success.
pub type ErrorMessage = ByteList<256>;
