//! Types layer: the SSZ containers of the light-client protocol for every fork and both presets,
//! the p2p messages, and their Beacon-API JSON form.
//!
//! Light-client types come as fork-tagged enums ([`LightClientUpdate`] & co.), generic over the
//! preset's sync committee size `S`; [`crate::with_preset!`] picks `S` at run time. For tools
//! that work by type *name* (the `ssz` subcommand, conformance tests) there is [`decode_named`].

pub mod block;
pub mod containers;
mod forked;
mod object;

use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use ssz_rs::prelude::{Merkleized, SimpleSerialize};

use crate::chain::{Fork, Preset};
pub use crate::primitives;
use crate::primitives::Root;
pub use block::SignedBeaconBlock;
pub use containers::{
    BeaconBlockHeader, BeaconBlocksByRangeRequest, BeaconBlocksByRootRequest, EnrForkId,
    ErrorMessage, LightClientUpdatesByRangeRequest, MetaDataV1, MetaDataV2, MetaDataV3, StatusV1,
    StatusV2, SyncAggregate, SyncCommittee, MAX_REQUEST_BLOCKS_DENEB,
    MAX_REQUEST_LIGHT_CLIENT_UPDATES,
};
pub use forked::{
    HasBeaconHeader, LightClientBootstrap, LightClientFinalityUpdate, LightClientHeader,
    LightClientOptimisticUpdate, LightClientUpdate,
};
pub use object::{LightClientKind, LightClientObject};

/// Why bytes or JSON could not be read as a type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// The SSZ bytes do not decode.
    #[error("{type_name} ({fork}): invalid SSZ: {detail}")]
    Decode {
        /// The type.
        type_name: &'static str,
        /// The fork whose container was expected.
        fork: Fork,
        /// What is wrong.
        detail: String,
    },
    /// The SSZ length is outside the type's bounds.
    #[error("{type_name} ({fork}): {length} bytes, outside the SSZ bounds {min}..={max}")]
    Length {
        /// The type.
        type_name: &'static str,
        /// The fork whose container was expected.
        fork: Fork,
        /// The length given.
        length: usize,
        /// Smallest valid encoding.
        min: usize,
        /// Largest valid encoding.
        max: usize,
    },
    /// The type does not exist at that fork.
    #[error("{type_name} does not exist at {fork}")]
    NoSuchFork {
        /// The type.
        type_name: &'static str,
        /// The fork asked for.
        fork: Fork,
    },
    /// The Beacon-API JSON is not of the expected shape.
    #[error("invalid Beacon-API JSON: {0}")]
    Json(String),
}

/// Every SSZ type the project reads, by the name the specs and the conformance vectors use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SszTypeName {
    /// `LightClientHeader`.
    LightClientHeader,
    /// `LightClientBootstrap`.
    LightClientBootstrap,
    /// `LightClientUpdate`.
    LightClientUpdate,
    /// `LightClientFinalityUpdate`.
    LightClientFinalityUpdate,
    /// `LightClientOptimisticUpdate`.
    LightClientOptimisticUpdate,
    /// `Status` v1.
    StatusV1,
    /// `Status` v2.
    StatusV2,
    /// `MetaData` v1.
    MetaDataV1,
    /// `MetaData` v2.
    MetaDataV2,
    /// `MetaData` v3.
    MetaDataV3,
    /// `Ping` (a `uint64` sequence number).
    Ping,
    /// `Goodbye` (a `uint64` reason).
    Goodbye,
    /// `ENRForkID`.
    EnrForkId,
    /// `ErrorMessage`.
    ErrorMessage,
    /// `LightClientUpdatesByRangeRequest`.
    LightClientUpdatesByRangeRequest,
    /// A block root (`Root`), the request of `light_client_bootstrap`.
    Root,
    /// `BeaconBlocksByRangeRequest`.
    BeaconBlocksByRangeRequest,
    /// `BeaconBlocksByRootRequest` (`List[Root, MAX_REQUEST_BLOCKS_DENEB]`).
    BeaconBlocksByRootRequest,
    /// `SignedBeaconBlock` (per fork: capella and later).
    SignedBeaconBlock,
    /// `BeaconBlock` (per fork: capella and later).
    BeaconBlock,
    /// `BeaconBlockBody` (per fork: capella and later).
    BeaconBlockBody,
    /// `BeaconBlockHeader`.
    BeaconBlockHeader,
    /// `SignedBeaconBlockHeader`.
    SignedBeaconBlockHeader,
    /// `ExecutionPayload` (per fork: capella and later).
    ExecutionPayload,
    /// `ExecutionRequests`.
    ExecutionRequests,
    /// `DepositRequest`.
    DepositRequest,
    /// `WithdrawalRequest`.
    WithdrawalRequest,
    /// `ConsolidationRequest`.
    ConsolidationRequest,
    /// `Attestation`.
    Attestation,
    /// `IndexedAttestation`.
    IndexedAttestation,
    /// `AttesterSlashing`.
    AttesterSlashing,
    /// `AttestationData`.
    AttestationData,
    /// `Checkpoint`.
    Checkpoint,
    /// `Eth1Data`.
    Eth1Data,
    /// `ProposerSlashing`.
    ProposerSlashing,
    /// `Deposit`.
    Deposit,
    /// `DepositData`.
    DepositData,
    /// `VoluntaryExit`.
    VoluntaryExit,
    /// `SignedVoluntaryExit`.
    SignedVoluntaryExit,
    /// `SyncAggregate`.
    SyncAggregate,
    /// `Withdrawal`.
    Withdrawal,
    /// `BLSToExecutionChange`.
    BlsToExecutionChange,
    /// `SignedBLSToExecutionChange`.
    SignedBlsToExecutionChange,
}

impl SszTypeName {
    /// Every name.
    pub const ALL: [SszTypeName; 43] = [
        SszTypeName::LightClientHeader,
        SszTypeName::LightClientBootstrap,
        SszTypeName::LightClientUpdate,
        SszTypeName::LightClientFinalityUpdate,
        SszTypeName::LightClientOptimisticUpdate,
        SszTypeName::StatusV1,
        SszTypeName::StatusV2,
        SszTypeName::MetaDataV1,
        SszTypeName::MetaDataV2,
        SszTypeName::MetaDataV3,
        SszTypeName::Ping,
        SszTypeName::Goodbye,
        SszTypeName::EnrForkId,
        SszTypeName::ErrorMessage,
        SszTypeName::LightClientUpdatesByRangeRequest,
        SszTypeName::Root,
        SszTypeName::BeaconBlocksByRangeRequest,
        SszTypeName::BeaconBlocksByRootRequest,
        SszTypeName::SignedBeaconBlock,
        SszTypeName::BeaconBlock,
        SszTypeName::BeaconBlockBody,
        SszTypeName::BeaconBlockHeader,
        SszTypeName::SignedBeaconBlockHeader,
        SszTypeName::ExecutionPayload,
        SszTypeName::ExecutionRequests,
        SszTypeName::DepositRequest,
        SszTypeName::WithdrawalRequest,
        SszTypeName::ConsolidationRequest,
        SszTypeName::Attestation,
        SszTypeName::IndexedAttestation,
        SszTypeName::AttesterSlashing,
        SszTypeName::AttestationData,
        SszTypeName::Checkpoint,
        SszTypeName::Eth1Data,
        SszTypeName::ProposerSlashing,
        SszTypeName::Deposit,
        SszTypeName::DepositData,
        SszTypeName::VoluntaryExit,
        SszTypeName::SignedVoluntaryExit,
        SszTypeName::SyncAggregate,
        SszTypeName::Withdrawal,
        SszTypeName::BlsToExecutionChange,
        SszTypeName::SignedBlsToExecutionChange,
    ];

    /// The spelling the specs and the conformance vectors use.
    pub fn name(self) -> &'static str {
        match self {
            SszTypeName::LightClientHeader => "LightClientHeader",
            SszTypeName::LightClientBootstrap => "LightClientBootstrap",
            SszTypeName::LightClientUpdate => "LightClientUpdate",
            SszTypeName::LightClientFinalityUpdate => "LightClientFinalityUpdate",
            SszTypeName::LightClientOptimisticUpdate => "LightClientOptimisticUpdate",
            SszTypeName::StatusV1 => "StatusV1",
            SszTypeName::StatusV2 => "StatusV2",
            SszTypeName::MetaDataV1 => "MetaDataV1",
            SszTypeName::MetaDataV2 => "MetaDataV2",
            SszTypeName::MetaDataV3 => "MetaDataV3",
            SszTypeName::Ping => "Ping",
            SszTypeName::Goodbye => "Goodbye",
            SszTypeName::EnrForkId => "ENRForkID",
            SszTypeName::ErrorMessage => "ErrorMessage",
            SszTypeName::LightClientUpdatesByRangeRequest => "LightClientUpdatesByRangeRequest",
            SszTypeName::Root => "Root",
            SszTypeName::BeaconBlocksByRangeRequest => "BeaconBlocksByRangeRequest",
            SszTypeName::BeaconBlocksByRootRequest => "BeaconBlocksByRootRequest",
            SszTypeName::SignedBeaconBlock => "SignedBeaconBlock",
            SszTypeName::BeaconBlock => "BeaconBlock",
            SszTypeName::BeaconBlockBody => "BeaconBlockBody",
            SszTypeName::BeaconBlockHeader => "BeaconBlockHeader",
            SszTypeName::SignedBeaconBlockHeader => "SignedBeaconBlockHeader",
            SszTypeName::ExecutionPayload => "ExecutionPayload",
            SszTypeName::ExecutionRequests => "ExecutionRequests",
            SszTypeName::DepositRequest => "DepositRequest",
            SszTypeName::WithdrawalRequest => "WithdrawalRequest",
            SszTypeName::ConsolidationRequest => "ConsolidationRequest",
            SszTypeName::Attestation => "Attestation",
            SszTypeName::IndexedAttestation => "IndexedAttestation",
            SszTypeName::AttesterSlashing => "AttesterSlashing",
            SszTypeName::AttestationData => "AttestationData",
            SszTypeName::Checkpoint => "Checkpoint",
            SszTypeName::Eth1Data => "Eth1Data",
            SszTypeName::ProposerSlashing => "ProposerSlashing",
            SszTypeName::Deposit => "Deposit",
            SszTypeName::DepositData => "DepositData",
            SszTypeName::VoluntaryExit => "VoluntaryExit",
            SszTypeName::SignedVoluntaryExit => "SignedVoluntaryExit",
            SszTypeName::SyncAggregate => "SyncAggregate",
            SszTypeName::Withdrawal => "Withdrawal",
            SszTypeName::BlsToExecutionChange => "BLSToExecutionChange",
            SszTypeName::SignedBlsToExecutionChange => "SignedBLSToExecutionChange",
        }
    }

    /// Whether the type has a container per fork (and a Beacon-API `version`).
    pub fn is_light_client(self) -> bool {
        matches!(
            self,
            SszTypeName::LightClientHeader
                | SszTypeName::LightClientBootstrap
                | SszTypeName::LightClientUpdate
                | SszTypeName::LightClientFinalityUpdate
                | SszTypeName::LightClientOptimisticUpdate
        )
    }
}

impl SszTypeName {
    /// Whether the type is a beacon block or part of one ([`block`]); their JSON in
    /// [`DecodedValue`] is the bare value, as in a block's `data`.
    pub fn is_block(self) -> bool {
        matches!(
            self,
            SszTypeName::SignedBeaconBlock
                | SszTypeName::BeaconBlock
                | SszTypeName::BeaconBlockBody
                | SszTypeName::BeaconBlockHeader
                | SszTypeName::SignedBeaconBlockHeader
                | SszTypeName::ExecutionPayload
                | SszTypeName::ExecutionRequests
                | SszTypeName::DepositRequest
                | SszTypeName::WithdrawalRequest
                | SszTypeName::ConsolidationRequest
                | SszTypeName::Attestation
                | SszTypeName::IndexedAttestation
                | SszTypeName::AttesterSlashing
                | SszTypeName::AttestationData
                | SszTypeName::Checkpoint
                | SszTypeName::Eth1Data
                | SszTypeName::ProposerSlashing
                | SszTypeName::Deposit
                | SszTypeName::DepositData
                | SszTypeName::VoluntaryExit
                | SszTypeName::SignedVoluntaryExit
                | SszTypeName::SyncAggregate
                | SszTypeName::Withdrawal
                | SszTypeName::BlsToExecutionChange
                | SszTypeName::SignedBlsToExecutionChange
        )
    }
}

impl fmt::Display for SszTypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A type name that is not one we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SSZ type {0:?} (known: {list})", list = SszTypeName::ALL.map(SszTypeName::name).join(", "))]
pub struct UnknownTypeName(pub String);

impl FromStr for SszTypeName {
    type Err = UnknownTypeName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SszTypeName::ALL
            .into_iter()
            .find(|name| name.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownTypeName(text.to_string()))
    }
}

/// A value decoded by type name: its JSON, root and canonical re-encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedValue {
    /// The type.
    pub type_name: SszTypeName,
    /// The fork of the container (light-client and block types).
    pub fork: Option<Fork>,
    /// Beacon-API JSON: `{"version", "data"}` for light-client types, the bare value otherwise
    /// (block types included).
    pub json: Value,
    /// `hash_tree_root`.
    pub root: Root,
    /// The value encoded again (equal to the input: every valid SSZ encoding is canonical).
    pub ssz: Vec<u8>,
}

/// Decodes `bytes` as the type called `type_name`, at `fork` for the light-client types (the
/// p2p types ignore `fork`), with the sync committee size of `preset`; block types use
/// `preset`'s limits and `fork`'s container (see [`block`]).
pub fn decode_named(
    type_name: SszTypeName,
    fork: Fork,
    preset: Preset,
    bytes: &[u8],
) -> Result<DecodedValue, TypeError> {
    macro_rules! light_client {
        ($ty:ident) => {
            crate::with_preset!(preset, S => {
                let value = $ty::<S>::from_ssz(fork, bytes)?;
                DecodedValue {
                    type_name,
                    fork: Some(fork),
                    json: value.to_beacon_api_json(),
                    root: value.hash_tree_root(),
                    ssz: value.to_ssz(),
                }
            })
        };
    }
    if let Some(result) = block::decode_named(type_name, fork, preset, bytes) {
        return result;
    }
    Ok(match type_name {
        SszTypeName::LightClientHeader => {
            let value = LightClientHeader::from_ssz(fork, bytes)?;
            DecodedValue {
                type_name,
                fork: Some(fork),
                json: value.to_beacon_api_json(),
                root: value.hash_tree_root(),
                ssz: value.to_ssz(),
            }
        }
        SszTypeName::LightClientBootstrap => light_client!(LightClientBootstrap),
        SszTypeName::LightClientUpdate => light_client!(LightClientUpdate),
        SszTypeName::LightClientFinalityUpdate => light_client!(LightClientFinalityUpdate),
        SszTypeName::LightClientOptimisticUpdate => light_client!(LightClientOptimisticUpdate),
        SszTypeName::StatusV1 => decode_plain::<StatusV1>(type_name, bytes)?,
        SszTypeName::StatusV2 => decode_plain::<StatusV2>(type_name, bytes)?,
        SszTypeName::MetaDataV1 => decode_plain::<MetaDataV1>(type_name, bytes)?,
        SszTypeName::MetaDataV2 => decode_plain::<MetaDataV2>(type_name, bytes)?,
        SszTypeName::MetaDataV3 => decode_plain::<MetaDataV3>(type_name, bytes)?,
        SszTypeName::Ping | SszTypeName::Goodbye => {
            let mut value = decode_plain_ssz::<u64>(type_name, bytes)?;
            DecodedValue {
                type_name,
                fork: None,
                json: Value::String(value.to_string()),
                root: root_of(&mut value),
                ssz: bytes.to_vec(),
            }
        }
        SszTypeName::EnrForkId => decode_plain::<EnrForkId>(type_name, bytes)?,
        SszTypeName::ErrorMessage => decode_plain::<ErrorMessage>(type_name, bytes)?,
        SszTypeName::LightClientUpdatesByRangeRequest => {
            decode_plain::<LightClientUpdatesByRangeRequest>(type_name, bytes)?
        }
        SszTypeName::Root => decode_plain::<Root>(type_name, bytes)?,
        SszTypeName::BeaconBlocksByRangeRequest => {
            decode_plain::<BeaconBlocksByRangeRequest>(type_name, bytes)?
        }
        SszTypeName::BeaconBlocksByRootRequest => {
            decode_plain::<BeaconBlocksByRootRequest>(type_name, bytes)?
        }
        other => unreachable!("{other} is a block type, decoded above"),
    })
}

/// Smallest and largest SSZ encoding of a named type at `fork` with `preset`.
pub fn ssz_bounds_named(
    type_name: SszTypeName,
    fork: Fork,
    preset: Preset,
) -> Result<(usize, usize), TypeError> {
    fn fixed<T: SimpleSerialize>() -> (usize, usize) {
        (T::size_hint(), T::size_hint())
    }
    if let Some(result) = block::ssz_bounds_named(type_name, fork, preset) {
        return result;
    }
    Ok(match type_name {
        SszTypeName::LightClientHeader => LightClientHeader::ssz_bounds(fork)?,
        SszTypeName::LightClientBootstrap => {
            crate::with_preset!(preset, S => LightClientBootstrap::<S>::ssz_bounds(fork)?)
        }
        SszTypeName::LightClientUpdate => {
            crate::with_preset!(preset, S => LightClientUpdate::<S>::ssz_bounds(fork)?)
        }
        SszTypeName::LightClientFinalityUpdate => {
            crate::with_preset!(preset, S => LightClientFinalityUpdate::<S>::ssz_bounds(fork)?)
        }
        SszTypeName::LightClientOptimisticUpdate => {
            crate::with_preset!(preset, S => LightClientOptimisticUpdate::<S>::ssz_bounds(fork)?)
        }
        SszTypeName::StatusV1 => fixed::<StatusV1>(),
        SszTypeName::StatusV2 => fixed::<StatusV2>(),
        SszTypeName::MetaDataV1 => fixed::<MetaDataV1>(),
        SszTypeName::MetaDataV2 => fixed::<MetaDataV2>(),
        SszTypeName::MetaDataV3 => fixed::<MetaDataV3>(),
        SszTypeName::Ping | SszTypeName::Goodbye => fixed::<u64>(),
        SszTypeName::EnrForkId => fixed::<EnrForkId>(),
        SszTypeName::ErrorMessage => (0, 256),
        SszTypeName::LightClientUpdatesByRangeRequest => {
            fixed::<LightClientUpdatesByRangeRequest>()
        }
        SszTypeName::Root => fixed::<Root>(),
        SszTypeName::BeaconBlocksByRangeRequest => fixed::<BeaconBlocksByRangeRequest>(),
        SszTypeName::BeaconBlocksByRootRequest => (0, MAX_REQUEST_BLOCKS_DENEB as usize * 32),
        other => unreachable!("{other} is a block type, bounded above"),
    })
}

fn decode_plain_ssz<T: SimpleSerialize>(
    type_name: SszTypeName,
    bytes: &[u8],
) -> Result<T, TypeError> {
    T::deserialize(bytes).map_err(|error| TypeError::Decode {
        type_name: type_name.name(),
        // The p2p types are the same at every fork; phase0 is where they were defined.
        fork: Fork::Phase0,
        detail: error.to_string(),
    })
}

fn decode_plain<T: SimpleSerialize + serde::Serialize>(
    type_name: SszTypeName,
    bytes: &[u8],
) -> Result<DecodedValue, TypeError> {
    let mut value = decode_plain_ssz::<T>(type_name, bytes)?;
    let mut ssz = Vec::with_capacity(bytes.len());
    ssz_rs::Serialize::serialize(&value, &mut ssz).map_err(|error| TypeError::Decode {
        type_name: type_name.name(),
        fork: Fork::Phase0,
        detail: error.to_string(),
    })?;
    Ok(DecodedValue {
        type_name,
        fork: None,
        json: serde_json::to_value(&value).map_err(|error| TypeError::Json(error.to_string()))?,
        root: root_of(&mut value),
        ssz,
    })
}

fn root_of<T: Merkleized>(value: &mut T) -> Root {
    let node = value
        .hash_tree_root()
        .expect("fixed-layout p2p types always merkleize");
    Root::try_from(node.as_ref()).expect("32-byte root")
}
