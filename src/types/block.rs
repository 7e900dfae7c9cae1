//! Beacon blocks: `SignedBeaconBlock`, `BeaconBlock`, `BeaconBlockBody` and everything in them,
//! for capella, deneb, electra and fulu (fulu's containers are electra's; only the context bytes
//! differ), on both presets.
//!
//! The containers that do not depend on the preset sit at the top of this module. The rest is
//! generated once per preset by `preset_blocks!` into [`mainnet`] and [`minimal`]: in consensus
//! specs 1.7 the presets differ, for these types, only in `SYNC_COMMITTEE_SIZE`,
//! `MAX_COMMITTEES_PER_SLOT` (electra's attestation bitfields and indices) and
//! `MAX_WITHDRAWALS_PER_PAYLOAD`. Each preset module has the per-fork containers in `capella`,
//! `deneb` and `electra`, and fork-tagged enums ([`mainnet::SignedBeaconBlock`] & co.); the
//! enum [`SignedBeaconBlock`] here adds the preset as a run-time choice.
//!
//! Decoding is bounded: at most [`MAX_BLOCK_SSZ_SIZE`] bytes (the wire's `MAX_PAYLOAD_SIZE`),
//! every list is checked against its limit, and the value must encode back to the very bytes it
//! came from (ssz_rs alone accepts a few non-canonical offset layouts). `hash_tree_root` never
//! builds a tree of a list's limit: transactions are `ByteList[2**30]` in a `List[_, 2**20]`,
//! and both levels pad with zero subtrees (see [`crate::primitives`] and ssz_rs's virtual
//! padding).
//!
//! JSON follows Lodestar's `toJson` (the Beacon API): integers as decimal strings, bytes as
//! lowercase `0x`-hex, `ExecutionAddress` fields EIP-55 checksummed (read in any case),
//! bitfields as `0x`-hex of their SSZ, and no unknown fields.

use serde_json::Value;
use ssz_rs::prelude::*;

use super::containers::BeaconBlockHeader;
use super::TypeError;
use crate::chain::{Fork, Preset};
use crate::primitives::{
    checksummed_address, quoted_u64, BlsPublicKey, BlsSignature, ByteList, ByteVector, Bytes32,
    Epoch, ExecutionAddress, Root, Slot,
};

/// Largest SSZ encoding accepted for any block type: the wire's `MAX_PAYLOAD_SIZE` (10 MiB).
/// A block's SSZ bound is far larger (2^50 bytes of transactions); no peer may send more than
/// this.
pub const MAX_BLOCK_SSZ_SIZE: usize = 10 * 1024 * 1024;

/// `MAX_VALIDATORS_PER_COMMITTEE` (both presets).
pub const MAX_VALIDATORS_PER_COMMITTEE: usize = 2048;
/// `MAX_PROPOSER_SLASHINGS`.
pub const MAX_PROPOSER_SLASHINGS: usize = 16;
/// `MAX_ATTESTER_SLASHINGS` (before electra).
pub const MAX_ATTESTER_SLASHINGS: usize = 2;
/// `MAX_ATTESTATIONS` (before electra).
pub const MAX_ATTESTATIONS: usize = 128;
/// `MAX_ATTESTER_SLASHINGS_ELECTRA`.
pub const MAX_ATTESTER_SLASHINGS_ELECTRA: usize = 1;
/// `MAX_ATTESTATIONS_ELECTRA`.
pub const MAX_ATTESTATIONS_ELECTRA: usize = 8;
/// `MAX_DEPOSITS`.
pub const MAX_DEPOSITS: usize = 16;
/// `MAX_VOLUNTARY_EXITS`.
pub const MAX_VOLUNTARY_EXITS: usize = 16;
/// `MAX_BLS_TO_EXECUTION_CHANGES`.
pub const MAX_BLS_TO_EXECUTION_CHANGES: usize = 16;
/// `DEPOSIT_CONTRACT_TREE_DEPTH + 1`: length of a deposit's proof.
pub const DEPOSIT_PROOF_LENGTH: usize = 33;
/// `MAX_BYTES_PER_TRANSACTION`.
pub const MAX_BYTES_PER_TRANSACTION: usize = 1 << 30;
/// `MAX_TRANSACTIONS_PER_PAYLOAD`.
pub const MAX_TRANSACTIONS_PER_PAYLOAD: usize = 1 << 20;
/// `MAX_BLOB_COMMITMENTS_PER_BLOCK` (4096 on both presets since consensus specs 1.6).
pub const MAX_BLOB_COMMITMENTS_PER_BLOCK: usize = 4096;
/// `MAX_DEPOSIT_REQUESTS_PER_PAYLOAD` (both presets).
pub const MAX_DEPOSIT_REQUESTS_PER_PAYLOAD: usize = 8192;
/// `MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD` (both presets).
pub const MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD: usize = 16;
/// `MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD` (both presets).
pub const MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD: usize = 2;

/// An execution-layer transaction, opaque.
pub type Transaction = ByteList<MAX_BYTES_PER_TRANSACTION>;
/// A KZG commitment to a blob.
pub type KzgCommitment = ByteVector<48>;

/// Serde adapter for `List[uint64, N]` as an array of decimal strings.
pub mod quoted_u64_list {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};
    use ssz_rs::List;

    /// Writes the values as decimal strings.
    pub fn serialize<S: Serializer, const N: usize>(
        values: &List<u64, N>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(values.iter().map(u64::to_string))
    }

    /// Reads an array of decimal strings (or numbers), at most `N` of them.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<List<u64, N>, D::Error> {
        #[derive(Deserialize)]
        struct Quoted(#[serde(with = "crate::primitives::quoted_u64")] u64);
        let values: Vec<Quoted> = Vec::deserialize(deserializer)?;
        List::try_from(values.into_iter().map(|q| q.0).collect::<Vec<_>>())
            .map_err(|(_, error)| D::Error::custom(error))
    }
}

/// `Checkpoint`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The epoch.
    #[serde(with = "quoted_u64")]
    pub epoch: Epoch,
    /// Root of the epoch's first block.
    pub root: Root,
}

/// `AttestationData`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct AttestationData {
    /// Slot attested to.
    #[serde(with = "quoted_u64")]
    pub slot: Slot,
    /// Committee index (0 from electra on: the committees are in `committee_bits`).
    #[serde(with = "quoted_u64")]
    pub index: u64,
    /// LMD GHOST vote.
    pub beacon_block_root: Root,
    /// FFG source.
    pub source: Checkpoint,
    /// FFG target.
    pub target: Checkpoint,
}

/// `Eth1Data`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Eth1Data {
    /// Root of the deposit tree.
    pub deposit_root: Root,
    /// Number of deposits.
    #[serde(with = "quoted_u64")]
    pub deposit_count: u64,
    /// Execution block hash.
    pub block_hash: Bytes32,
}

/// `SignedBeaconBlockHeader`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct SignedBeaconBlockHeader {
    /// The header.
    pub message: BeaconBlockHeader,
    /// The proposer's signature.
    pub signature: BlsSignature,
}

/// `ProposerSlashing`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct ProposerSlashing {
    /// First header.
    pub signed_header_1: SignedBeaconBlockHeader,
    /// Conflicting header.
    pub signed_header_2: SignedBeaconBlockHeader,
}

/// `DepositData`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct DepositData {
    /// The validator's key.
    pub pubkey: BlsPublicKey,
    /// Withdrawal credentials.
    pub withdrawal_credentials: Bytes32,
    /// Amount in Gwei.
    #[serde(with = "quoted_u64")]
    pub amount: u64,
    /// Signature over the deposit message.
    pub signature: BlsSignature,
}

/// `Deposit`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Deposit {
    /// Merkle path to the deposit root.
    pub proof: Vector<Bytes32, DEPOSIT_PROOF_LENGTH>,
    /// The deposit.
    pub data: DepositData,
}

/// `VoluntaryExit`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct VoluntaryExit {
    /// Earliest epoch of the exit.
    #[serde(with = "quoted_u64")]
    pub epoch: Epoch,
    /// The exiting validator.
    #[serde(with = "quoted_u64")]
    pub validator_index: u64,
}

/// `SignedVoluntaryExit`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct SignedVoluntaryExit {
    /// The exit.
    pub message: VoluntaryExit,
    /// The validator's signature.
    pub signature: BlsSignature,
}

/// `Withdrawal`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Withdrawal index.
    #[serde(with = "quoted_u64")]
    pub index: u64,
    /// The validator.
    #[serde(with = "quoted_u64")]
    pub validator_index: u64,
    /// Where the Gwei goes.
    #[serde(with = "checksummed_address")]
    pub address: ExecutionAddress,
    /// Amount in Gwei.
    #[serde(with = "quoted_u64")]
    pub amount: u64,
}

/// `BLSToExecutionChange`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct BlsToExecutionChange {
    /// The validator.
    #[serde(with = "quoted_u64")]
    pub validator_index: u64,
    /// Its BLS withdrawal key.
    pub from_bls_pubkey: BlsPublicKey,
    /// The new execution withdrawal address.
    #[serde(with = "checksummed_address")]
    pub to_execution_address: ExecutionAddress,
}

/// `SignedBLSToExecutionChange`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct SignedBlsToExecutionChange {
    /// The change.
    pub message: BlsToExecutionChange,
    /// Signature by the BLS withdrawal key.
    pub signature: BlsSignature,
}

/// `DepositRequest` (electra).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct DepositRequest {
    /// The validator's key.
    pub pubkey: BlsPublicKey,
    /// Withdrawal credentials.
    pub withdrawal_credentials: Bytes32,
    /// Amount in Gwei.
    #[serde(with = "quoted_u64")]
    pub amount: u64,
    /// Signature over the deposit message.
    pub signature: BlsSignature,
    /// Index in the deposit contract.
    #[serde(with = "quoted_u64")]
    pub index: u64,
}

/// `WithdrawalRequest` (electra).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalRequest {
    /// The withdrawal address asking.
    #[serde(with = "checksummed_address")]
    pub source_address: ExecutionAddress,
    /// The validator.
    pub validator_pubkey: BlsPublicKey,
    /// Amount in Gwei (0: full exit).
    #[serde(with = "quoted_u64")]
    pub amount: u64,
}

/// `ConsolidationRequest` (electra).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct ConsolidationRequest {
    /// The withdrawal address asking.
    #[serde(with = "checksummed_address")]
    pub source_address: ExecutionAddress,
    /// The validator consolidated away.
    pub source_pubkey: BlsPublicKey,
    /// The validator consolidated into.
    pub target_pubkey: BlsPublicKey,
}

/// `ExecutionRequests` (electra; the same limits on both presets).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct ExecutionRequests {
    /// Deposit requests.
    pub deposits: List<DepositRequest, MAX_DEPOSIT_REQUESTS_PER_PAYLOAD>,
    /// Withdrawal requests.
    pub withdrawals: List<WithdrawalRequest, MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD>,
    /// Consolidation requests.
    pub consolidations: List<ConsolidationRequest, MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD>,
}

/// `IndexedAttestation` and `AttesterSlashing` with `$limit` attesting indices (phase0's
/// committee size, electra's slot of committees); `$fork_doc` names the fork in the docs.
macro_rules! indexed_attestation_types {
    (#[doc = $fork_doc:literal] $limit:ident) => {
        #[doc = concat!($fork_doc, " `IndexedAttestation`.")]
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
        pub struct IndexedAttestation {
            /// Sorted indices of the attesters.
            #[serde(with = "crate::types::block::quoted_u64_list")]
            pub attesting_indices: List<u64, $limit>,
            /// What was attested.
            pub data: $crate::types::block::AttestationData,
            /// Aggregate signature.
            pub signature: $crate::primitives::BlsSignature,
        }

        #[doc = concat!($fork_doc, " `AttesterSlashing`.")]
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
        pub struct AttesterSlashing {
            /// First attestation.
            pub attestation_1: IndexedAttestation,
            /// Conflicting attestation.
            pub attestation_2: IndexedAttestation,
        }
    };
}

/// Phase0 attestation types (used up to deneb): one committee per attestation.
pub mod phase0 {
    use ssz_rs::prelude::*;

    use super::{AttestationData, MAX_VALIDATORS_PER_COMMITTEE};
    use crate::primitives::BlsSignature;

    indexed_attestation_types!(
        /// Phase0
        MAX_VALIDATORS_PER_COMMITTEE
    );

    /// Phase0 `Attestation`.
    #[derive(
        Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
    )]
    #[serde(deny_unknown_fields)]
    pub struct Attestation {
        /// Which committee members attested.
        pub aggregation_bits: Bitlist<MAX_VALIDATORS_PER_COMMITTEE>,
        /// What was attested.
        pub data: AttestationData,
        /// Aggregate signature.
        pub signature: BlsSignature,
    }
}

/// Decodes `bytes` as `T`: bounded, and canonical (the value must encode to the same bytes).
pub(crate) fn decode_checked<T: SimpleSerialize>(
    type_name: &'static str,
    fork: Fork,
    bytes: &[u8],
) -> Result<T, TypeError> {
    let (min, max) = bounds_of::<T>();
    if bytes.len() < min || bytes.len() > max {
        return Err(TypeError::Length {
            type_name,
            fork,
            length: bytes.len(),
            min,
            max,
        });
    }
    let decode_error = |detail: String| TypeError::Decode {
        type_name,
        fork,
        detail,
    };
    let value = T::deserialize(bytes).map_err(|error| decode_error(error.to_string()))?;
    let mut again = Vec::with_capacity(bytes.len());
    value
        .serialize(&mut again)
        .map_err(|error| decode_error(error.to_string()))?;
    if again != bytes {
        return Err(decode_error("non-canonical encoding".into()));
    }
    Ok(value)
}

/// Smallest and largest encoding of `T`: its fixed size, or from the encoding of its default
/// (every list empty) up to [`MAX_BLOCK_SSZ_SIZE`] for variable-size types.
pub(crate) fn bounds_of<T: SimpleSerialize>() -> (usize, usize) {
    if !T::is_variable_size() {
        return (T::size_hint(), T::size_hint());
    }
    let mut buffer = Vec::new();
    // A default container has empty lists and bitlists: within every bound, so it serializes.
    let min: usize = T::default().serialize(&mut buffer).unwrap_or_default();
    (min, MAX_BLOCK_SSZ_SIZE)
}

/// `hash_tree_root` of a value whose lists are within their limits (checked when it was
/// decoded or built from JSON).
pub(crate) fn root_of<T: SimpleSerialize + Clone>(value: &T) -> Root {
    // ssz_rs merkleizes through `&mut self` (for caching); hash a copy.
    let node = value
        .clone()
        .hash_tree_root()
        .expect("lists within their limits always merkleize");
    Root::try_from(node.as_ref()).expect("32-byte root")
}

/// The SSZ encoding of a value whose lists are within their limits.
pub(crate) fn ssz_of<T: SimpleSerialize>(value: &T) -> Vec<u8> {
    let mut buffer = Vec::new();
    value
        .serialize(&mut buffer)
        .expect("lists within their limits always serialize");
    buffer
}

/// The JSON value of a container.
pub(crate) fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("consensus containers always convert to JSON")
}

/// Reads a container from its JSON.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    type_name: &'static str,
    fork: Fork,
    value: &Value,
) -> Result<T, TypeError> {
    T::deserialize(value).map_err(|error| TypeError::Json(format!("{type_name} ({fork}): {error}")))
}

/// An `ExecutionPayload`: capella's fields, then `$extra` uint64 fields (deneb's blob gas).
/// `MAX_WITHDRAWALS_PER_PAYLOAD` is the preset's, from where it is invoked.
macro_rules! execution_payload {
    ($(#[$doc:meta])* $name:ident { $($(#[$extra_doc:meta])* $extra:ident),* }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Hash of the parent execution block.
            pub parent_hash: $crate::primitives::Bytes32,
            /// Beneficiary of the fees.
            #[serde(with = "crate::primitives::checksummed_address")]
            pub fee_recipient: $crate::primitives::ExecutionAddress,
            /// Execution state root.
            pub state_root: $crate::primitives::Bytes32,
            /// Receipts root.
            pub receipts_root: $crate::primitives::Bytes32,
            /// Logs bloom.
            pub logs_bloom: $crate::primitives::LogsBloom,
            /// RANDAO mix of the previous slot.
            pub prev_randao: $crate::primitives::Bytes32,
            /// Execution block number.
            #[serde(with = "crate::primitives::quoted_u64")]
            pub block_number: u64,
            /// Gas limit.
            #[serde(with = "crate::primitives::quoted_u64")]
            pub gas_limit: u64,
            /// Gas used.
            #[serde(with = "crate::primitives::quoted_u64")]
            pub gas_used: u64,
            /// Timestamp.
            #[serde(with = "crate::primitives::quoted_u64")]
            pub timestamp: u64,
            /// Extra data.
            pub extra_data:
                $crate::primitives::ByteList<{ $crate::types::containers::MAX_EXTRA_DATA_BYTES }>,
            /// Base fee per gas.
            pub base_fee_per_gas: $crate::primitives::Uint256,
            /// Hash of the execution block.
            pub block_hash: $crate::primitives::Bytes32,
            /// The transactions, opaque.
            pub transactions: List<
                $crate::types::block::Transaction,
                { $crate::types::block::MAX_TRANSACTIONS_PER_PAYLOAD },
            >,
            /// Withdrawals processed by the block.
            pub withdrawals: List<$crate::types::block::Withdrawal, MAX_WITHDRAWALS_PER_PAYLOAD>,
            $(
                $(#[$extra_doc])*
                #[serde(with = "crate::primitives::quoted_u64")]
                pub $extra: u64,
            )*
        }
    };
}

/// A `BeaconBlockBody`: capella's fields with the fork's attester-slashing and attestation
/// limits, then `$extra` fields of the named types (deneb's blob commitments, electra's
/// requests). `Attestation`, `AttesterSlashing` and `SyncAggregate` are the fork's and preset's,
/// from where it is invoked.
macro_rules! beacon_block_body {
    (
        $(#[$doc:meta])*
        attester_slashings: $slashings:ident, attestations: $attestations:ident
        $(, $(#[$extra_doc:meta])* $extra:ident: $extra_type:ident)*
    ) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(deny_unknown_fields)]
        pub struct BeaconBlockBody {
            /// RANDAO reveal.
            pub randao_reveal: $crate::primitives::BlsSignature,
            /// Eth1 vote.
            pub eth1_data: $crate::types::block::Eth1Data,
            /// Graffiti.
            pub graffiti: $crate::primitives::Bytes32,
            /// Proposer slashings.
            pub proposer_slashings: List<
                $crate::types::block::ProposerSlashing,
                { $crate::types::block::MAX_PROPOSER_SLASHINGS },
            >,
            /// Attester slashings.
            pub attester_slashings: List<AttesterSlashing, { $crate::types::block::$slashings }>,
            /// Attestations.
            pub attestations: List<Attestation, { $crate::types::block::$attestations }>,
            /// Deposits.
            pub deposits:
                List<$crate::types::block::Deposit, { $crate::types::block::MAX_DEPOSITS }>,
            /// Voluntary exits.
            pub voluntary_exits: List<
                $crate::types::block::SignedVoluntaryExit,
                { $crate::types::block::MAX_VOLUNTARY_EXITS },
            >,
            /// Sync committee signature of the parent.
            pub sync_aggregate: SyncAggregate,
            /// The execution payload.
            pub execution_payload: ExecutionPayload,
            /// Withdrawal credential changes.
            pub bls_to_execution_changes: List<
                $crate::types::block::SignedBlsToExecutionChange,
                { $crate::types::block::MAX_BLS_TO_EXECUTION_CHANGES },
            >,
            $(
                $(#[$extra_doc])*
                pub $extra: $crate::types::block::$extra_type,
            )*
        }
    };
}

/// `blob_kzg_commitments` (deneb and later).
pub type BlobKzgCommitments = List<KzgCommitment, MAX_BLOB_COMMITMENTS_PER_BLOCK>;

/// `BeaconBlock` and `SignedBeaconBlock` around a fork's body.
macro_rules! block_containers {
    () => {
        /// `BeaconBlock`.
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
        pub struct BeaconBlock {
            /// Slot of the block.
            #[serde(with = "crate::primitives::quoted_u64")]
            pub slot: crate::primitives::Slot,
            /// Index of the proposer.
            #[serde(with = "crate::primitives::quoted_u64")]
            pub proposer_index: u64,
            /// Root of the parent block.
            pub parent_root: crate::primitives::Root,
            /// Root of the post-state.
            pub state_root: crate::primitives::Root,
            /// The body.
            pub body: BeaconBlockBody,
        }

        /// `SignedBeaconBlock`.
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
        pub struct SignedBeaconBlock {
            /// The block.
            pub message: BeaconBlock,
            /// The proposer's signature.
            pub signature: crate::primitives::BlsSignature,
        }
    };
}

/// A fork-tagged enum over one container type of the four block forks.
macro_rules! forked_block_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            /// Capella.
            Capella(capella::$name),
            /// Deneb.
            Deneb(deneb::$name),
            /// Electra.
            Electra(electra::$name),
            /// Fulu (electra's container).
            Fulu(electra::$name),
        }

        impl $name {
            /// The SSZ type name.
            pub const TYPE_NAME: &'static str = stringify!($name);

            /// The fork whose container this is.
            pub fn fork(&self) -> Fork {
                match self {
                    Self::Capella(_) => Fork::Capella,
                    Self::Deneb(_) => Fork::Deneb,
                    Self::Electra(_) => Fork::Electra,
                    Self::Fulu(_) => Fork::Fulu,
                }
            }

            /// Decodes the SSZ bytes of `fork`'s container (capella or later).
            pub fn from_ssz(fork: Fork, bytes: &[u8]) -> Result<Self, TypeError> {
                use $crate::types::block::decode_checked as decode;
                let name = Self::TYPE_NAME;
                Ok(match fork {
                    Fork::Phase0 | Fork::Altair | Fork::Bellatrix => {
                        return Err(TypeError::NoSuchFork { type_name: name, fork })
                    }
                    Fork::Capella => Self::Capella(decode(name, fork, bytes)?),
                    Fork::Deneb => Self::Deneb(decode(name, fork, bytes)?),
                    Fork::Electra => Self::Electra(decode(name, fork, bytes)?),
                    Fork::Fulu => Self::Fulu(decode(name, fork, bytes)?),
                })
            }

            /// Smallest and largest accepted SSZ encoding at `fork` (the largest is capped at
            /// [`MAX_BLOCK_SSZ_SIZE`](crate::types::block::MAX_BLOCK_SSZ_SIZE)).
            pub fn ssz_bounds(fork: Fork) -> Result<(usize, usize), TypeError> {
                use $crate::types::block::bounds_of;
                Ok(match fork {
                    Fork::Phase0 | Fork::Altair | Fork::Bellatrix => {
                        return Err(TypeError::NoSuchFork { type_name: Self::TYPE_NAME, fork })
                    }
                    Fork::Capella => bounds_of::<capella::$name>(),
                    Fork::Deneb => bounds_of::<deneb::$name>(),
                    Fork::Electra | Fork::Fulu => bounds_of::<electra::$name>(),
                })
            }

            /// The SSZ encoding.
            pub fn to_ssz(&self) -> Vec<u8> {
                use $crate::types::block::ssz_of;
                match self {
                    Self::Capella(inner) => ssz_of(inner),
                    Self::Deneb(inner) => ssz_of(inner),
                    Self::Electra(inner) | Self::Fulu(inner) => ssz_of(inner),
                }
            }

            /// `hash_tree_root` of the container.
            pub fn hash_tree_root(&self) -> Root {
                use $crate::types::block::root_of;
                match self {
                    Self::Capella(inner) => root_of(inner),
                    Self::Deneb(inner) => root_of(inner),
                    Self::Electra(inner) | Self::Fulu(inner) => root_of(inner),
                }
            }

            /// The container's Beacon-API JSON (the `data` of a response).
            pub fn to_json_data(&self) -> Value {
                use $crate::types::block::json_of;
                match self {
                    Self::Capella(inner) => json_of(inner),
                    Self::Deneb(inner) => json_of(inner),
                    Self::Electra(inner) | Self::Fulu(inner) => json_of(inner),
                }
            }

            /// Reads the container's Beacon-API JSON for a known fork.
            pub fn from_json_data(fork: Fork, data: &Value) -> Result<Self, TypeError> {
                use $crate::types::block::from_json;
                let name = Self::TYPE_NAME;
                Ok(match fork {
                    Fork::Phase0 | Fork::Altair | Fork::Bellatrix => {
                        return Err(TypeError::NoSuchFork { type_name: name, fork })
                    }
                    Fork::Capella => Self::Capella(from_json(name, fork, data)?),
                    Fork::Deneb => Self::Deneb(from_json(name, fork, data)?),
                    Fork::Electra => Self::Electra(from_json(name, fork, data)?),
                    Fork::Fulu => Self::Fulu(from_json(name, fork, data)?),
                })
            }
        }
    };
}

/// Evaluates `$body` with `$inner` bound to whichever fork's container `$value` holds.
macro_rules! each_block_fork {
    ($value:expr, $inner:ident => $body:expr) => {
        match $value {
            Self::Capella($inner) => $body,
            Self::Deneb($inner) => $body,
            Self::Electra($inner) | Self::Fulu($inner) => $body,
        }
    };
}

/// The preset-dependent block types, as module `$preset`.
macro_rules! preset_blocks {
    (
        $(#[$doc:meta])* $preset:ident, $preset_value:expr,
        sync_committee_size = $sync:expr,
        max_committees_per_slot = $committees:expr,
        max_withdrawals_per_payload = $withdrawals:expr
    ) => {
        $(#[$doc])*
        pub mod $preset {
            use serde_json::{json, Value};

            use $crate::chain::{Fork, Preset};
            use $crate::primitives::Root;
            use $crate::types::containers::BeaconBlockHeader;
            use $crate::types::TypeError;

            /// The preset.
            pub const PRESET: Preset = $preset_value;
            /// `SYNC_COMMITTEE_SIZE`.
            pub const SYNC_COMMITTEE_SIZE: usize = $sync;
            /// `MAX_COMMITTEES_PER_SLOT`.
            pub const MAX_COMMITTEES_PER_SLOT: usize = $committees;
            /// `MAX_WITHDRAWALS_PER_PAYLOAD`.
            pub const MAX_WITHDRAWALS_PER_PAYLOAD: usize = $withdrawals;
            /// `MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT`: electra's attestation
            /// bitlist and indexed-attestation limit.
            pub const MAX_ATTESTERS_PER_SLOT: usize =
                super::MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT;

            /// `SyncAggregate` of this preset.
            pub type SyncAggregate = $crate::types::containers::SyncAggregate<SYNC_COMMITTEE_SIZE>;

            /// Capella blocks.
            pub mod capella {
                use ssz_rs::prelude::*;

                use super::{SyncAggregate, MAX_WITHDRAWALS_PER_PAYLOAD};
                use $crate::types::block::phase0::{Attestation, AttesterSlashing};

                execution_payload!(
                    /// Capella `ExecutionPayload`.
                    ExecutionPayload {}
                );

                beacon_block_body!(
                    /// Capella `BeaconBlockBody`.
                    attester_slashings: MAX_ATTESTER_SLASHINGS,
                    attestations: MAX_ATTESTATIONS
                );

                block_containers!();
            }

            /// Deneb blocks: blob gas in the payload, blob commitments in the body.
            pub mod deneb {
                use ssz_rs::prelude::*;

                use super::{SyncAggregate, MAX_WITHDRAWALS_PER_PAYLOAD};
                use $crate::types::block::phase0::{Attestation, AttesterSlashing};

                execution_payload!(
                    /// Deneb `ExecutionPayload` (unchanged through electra and fulu).
                    ExecutionPayload {
                        /// Blob gas used.
                        blob_gas_used,
                        /// Excess blob gas.
                        excess_blob_gas
                    }
                );

                beacon_block_body!(
                    /// Deneb `BeaconBlockBody`.
                    attester_slashings: MAX_ATTESTER_SLASHINGS,
                    attestations: MAX_ATTESTATIONS,
                    /// KZG commitments of the block's blobs.
                    blob_kzg_commitments: BlobKzgCommitments
                );

                block_containers!();
            }

            /// Electra (and fulu) blocks: multi-committee attestations, execution requests.
            pub mod electra {
                use ssz_rs::prelude::*;

                use super::{SyncAggregate, MAX_ATTESTERS_PER_SLOT, MAX_COMMITTEES_PER_SLOT};
                use $crate::primitives::BlsSignature;
                pub use super::deneb::ExecutionPayload;
                use $crate::types::block::*;

                indexed_attestation_types!(
                    /// Electra
                    MAX_ATTESTERS_PER_SLOT
                );

                /// Electra `Attestation`.
                #[derive(
                    Debug, Clone, PartialEq, Eq, Default, SimpleSerialize, serde::Serialize, serde::Deserialize,
                )]
                #[serde(deny_unknown_fields)]
                pub struct Attestation {
                    /// Which members of the committees in `committee_bits` attested.
                    pub aggregation_bits: Bitlist<MAX_ATTESTERS_PER_SLOT>,
                    /// What was attested.
                    pub data: AttestationData,
                    /// Aggregate signature.
                    pub signature: BlsSignature,
                    /// Which committees of the slot are aggregated.
                    pub committee_bits: Bitvector<MAX_COMMITTEES_PER_SLOT>,
                }


                beacon_block_body!(
                    /// Electra `BeaconBlockBody`.
                    attester_slashings: MAX_ATTESTER_SLASHINGS_ELECTRA,
                    attestations: MAX_ATTESTATIONS_ELECTRA,
                    /// KZG commitments of the block's blobs.
                    blob_kzg_commitments: BlobKzgCommitments,
                    /// Requests from the execution layer.
                    execution_requests: ExecutionRequests
                );

                block_containers!();
            }

            forked_block_type!(
                /// `SignedBeaconBlock` of any block fork, this preset.
                SignedBeaconBlock
            );
            forked_block_type!(
                /// `BeaconBlock` of any block fork, this preset.
                BeaconBlock
            );
            forked_block_type!(
                /// `BeaconBlockBody` of any block fork, this preset.
                BeaconBlockBody
            );

            impl SignedBeaconBlock {
                /// The block's slot.
                pub fn slot(&self) -> $crate::primitives::Slot {
                    each_block_fork!(self, inner => inner.message.slot)
                }

                /// The proposer's index.
                pub fn proposer_index(&self) -> u64 {
                    each_block_fork!(self, inner => inner.message.proposer_index)
                }

                /// Root of the parent block.
                pub fn parent_root(&self) -> Root {
                    each_block_fork!(self, inner => inner.message.parent_root)
                }

                /// Root of the post-state.
                pub fn state_root(&self) -> Root {
                    each_block_fork!(self, inner => inner.message.state_root)
                }

                /// The proposer's signature.
                pub fn signature(&self) -> $crate::primitives::BlsSignature {
                    each_block_fork!(self, inner => inner.signature)
                }

                /// The block root: `hash_tree_root` of the message (the `BeaconBlock`).
                pub fn block_root(&self) -> Root {
                    use $crate::types::block::root_of;
                    each_block_fork!(self, inner => root_of(&inner.message))
                }

                /// The block's header (its root is the block root).
                pub fn header(&self) -> BeaconBlockHeader {
                    use $crate::types::block::root_of;
                    each_block_fork!(self, inner => BeaconBlockHeader {
                        slot: inner.message.slot,
                        proposer_index: inner.message.proposer_index,
                        parent_root: inner.message.parent_root,
                        state_root: inner.message.state_root,
                        body_root: root_of(&inner.message.body),
                    })
                }

                /// `GET /eth/v2/beacon/blocks/{block_id}`'s JSON:
                /// `{"version", "execution_optimistic", "finalized", "data"}`.
                pub fn to_beacon_api_json(&self, execution_optimistic: bool, finalized: bool) -> Value {
                    json!({
                        "version": self.fork().name(),
                        "execution_optimistic": execution_optimistic,
                        "finalized": finalized,
                        "data": self.to_json_data(),
                    })
                }

                /// Reads `GET /eth/v2/beacon/blocks/{block_id}`'s JSON (`execution_optimistic`
                /// and `finalized` may be absent; no other field may be present).
                pub fn from_beacon_api_json(value: &Value) -> Result<Self, TypeError> {
                    let (fork, data) = $crate::types::block::read_block_response(value)?;
                    Self::from_json_data(fork, data)
                }
            }
        }
    };
}

preset_blocks!(
    /// Block types of the mainnet preset.
    mainnet, Preset::Mainnet,
    sync_committee_size = 512,
    max_committees_per_slot = 64,
    max_withdrawals_per_payload = 16
);

preset_blocks!(
    /// Block types of the minimal preset (local devnets).
    minimal, Preset::Minimal,
    sync_committee_size = 32,
    max_committees_per_slot = 4,
    max_withdrawals_per_payload = 4
);

/// Checks the envelope of a block response and returns its fork and `data`.
pub(crate) fn read_block_response(value: &Value) -> Result<(Fork, &Value), TypeError> {
    let object = value
        .as_object()
        .ok_or_else(|| TypeError::Json("a block response must be an object".into()))?;
    if let Some(key) = object.keys().find(|key| {
        !matches!(
            key.as_str(),
            "version" | "execution_optimistic" | "finalized" | "data"
        )
    }) {
        return Err(TypeError::Json(format!("unknown field {key:?}")));
    }
    for flag in ["execution_optimistic", "finalized"] {
        if object.get(flag).is_some_and(|v| !v.is_boolean()) {
            return Err(TypeError::Json(format!("{flag:?} must be a boolean")));
        }
    }
    let version = object
        .get("version")
        .and_then(Value::as_str)
        .ok_or_else(|| TypeError::Json("missing string field \"version\"".into()))?;
    let fork: Fork = version
        .parse()
        .map_err(|_| TypeError::Json(format!("unknown version {version:?}")))?;
    let data = object
        .get("data")
        .ok_or_else(|| TypeError::Json("missing field \"data\"".into()))?;
    Ok((fork, data))
}

/// Runs `$body` with `$module` naming the block types module of `$preset`.
macro_rules! with_block_preset {
    ($preset:expr, $module:ident => $body:expr) => {
        match $preset {
            Preset::Mainnet => {
                use mainnet as $module;
                $body
            }
            Preset::Minimal => {
                use minimal as $module;
                $body
            }
        }
    };
}

/// A `SignedBeaconBlock` of any block fork and either preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedBeaconBlock {
    /// Mainnet preset.
    Mainnet(mainnet::SignedBeaconBlock),
    /// Minimal preset.
    Minimal(minimal::SignedBeaconBlock),
}

/// Evaluates `$body` with `$inner` bound to the preset's block.
macro_rules! each_preset {
    ($value:expr, $inner:ident => $body:expr) => {
        match $value {
            SignedBeaconBlock::Mainnet($inner) => $body,
            SignedBeaconBlock::Minimal($inner) => $body,
        }
    };
}

impl SignedBeaconBlock {
    /// The SSZ type name.
    pub const TYPE_NAME: &'static str = "SignedBeaconBlock";

    /// Decodes the SSZ bytes of `fork`'s `SignedBeaconBlock` on `preset`.
    pub fn from_ssz(fork: Fork, preset: Preset, bytes: &[u8]) -> Result<Self, TypeError> {
        Ok(match preset {
            Preset::Mainnet => Self::Mainnet(mainnet::SignedBeaconBlock::from_ssz(fork, bytes)?),
            Preset::Minimal => Self::Minimal(minimal::SignedBeaconBlock::from_ssz(fork, bytes)?),
        })
    }

    /// Smallest and largest accepted SSZ encoding (the largest capped at
    /// [`MAX_BLOCK_SSZ_SIZE`]).
    pub fn ssz_bounds(fork: Fork, preset: Preset) -> Result<(usize, usize), TypeError> {
        with_block_preset!(preset, types => types::SignedBeaconBlock::ssz_bounds(fork))
    }

    /// Reads the Beacon API's `GET /eth/v2/beacon/blocks/{block_id}` JSON on `preset`.
    pub fn from_beacon_api_json(preset: Preset, value: &Value) -> Result<Self, TypeError> {
        Ok(match preset {
            Preset::Mainnet => {
                Self::Mainnet(mainnet::SignedBeaconBlock::from_beacon_api_json(value)?)
            }
            Preset::Minimal => {
                Self::Minimal(minimal::SignedBeaconBlock::from_beacon_api_json(value)?)
            }
        })
    }

    /// Reads the `data` of a block response for a known fork and preset.
    pub fn from_json_data(fork: Fork, preset: Preset, data: &Value) -> Result<Self, TypeError> {
        Ok(match preset {
            Preset::Mainnet => {
                Self::Mainnet(mainnet::SignedBeaconBlock::from_json_data(fork, data)?)
            }
            Preset::Minimal => {
                Self::Minimal(minimal::SignedBeaconBlock::from_json_data(fork, data)?)
            }
        })
    }

    /// The preset.
    pub fn preset(&self) -> Preset {
        match self {
            Self::Mainnet(_) => Preset::Mainnet,
            Self::Minimal(_) => Preset::Minimal,
        }
    }

    /// The fork whose container this is.
    pub fn fork(&self) -> Fork {
        each_preset!(self, inner => inner.fork())
    }

    /// The SSZ encoding.
    pub fn to_ssz(&self) -> Vec<u8> {
        each_preset!(self, inner => inner.to_ssz())
    }

    /// `hash_tree_root` of the `SignedBeaconBlock` container (not the block root).
    pub fn hash_tree_root(&self) -> Root {
        each_preset!(self, inner => inner.hash_tree_root())
    }

    /// The block root: `hash_tree_root` of the message.
    pub fn block_root(&self) -> Root {
        each_preset!(self, inner => inner.block_root())
    }

    /// The block's header (its root is the block root).
    pub fn header(&self) -> BeaconBlockHeader {
        each_preset!(self, inner => inner.header())
    }

    /// The block's slot.
    pub fn slot(&self) -> Slot {
        each_preset!(self, inner => inner.slot())
    }

    /// Root of the parent block.
    pub fn parent_root(&self) -> Root {
        each_preset!(self, inner => inner.parent_root())
    }

    /// The proposer's index.
    pub fn proposer_index(&self) -> u64 {
        each_preset!(self, inner => inner.proposer_index())
    }

    /// The `data` of a block response: `{"message", "signature"}`.
    pub fn to_json_data(&self) -> Value {
        each_preset!(self, inner => inner.to_json_data())
    }

    /// `GET /eth/v2/beacon/blocks/{block_id}`'s JSON.
    pub fn to_beacon_api_json(&self, execution_optimistic: bool, finalized: bool) -> Value {
        each_preset!(self, inner => inner.to_beacon_api_json(execution_optimistic, finalized))
    }
}

/// The block-related names [`super::SszTypeName`] knows, decoded: JSON (the bare value), root
/// and re-encoding. `None` if `type_name` is not one of them.
pub(crate) fn decode_named(
    type_name: super::SszTypeName,
    fork: Fork,
    preset: Preset,
    bytes: &[u8],
) -> Option<Result<super::DecodedValue, TypeError>> {
    use super::SszTypeName as N;

    fn plain<T: SimpleSerialize + Clone + serde::Serialize>(
        type_name: N,
        fork: Fork,
        bytes: &[u8],
    ) -> Result<super::DecodedValue, TypeError> {
        let value: T = decode_checked(type_name.name(), fork, bytes)?;
        Ok(super::DecodedValue {
            type_name,
            fork: Some(fork),
            json: json_of(&value),
            root: root_of(&value),
            ssz: ssz_of(&value),
        })
    }

    macro_rules! forked {
        ($ty:ident) => {
            with_block_preset!(preset, types => types::$ty::from_ssz(fork, bytes).map(|value| {
                super::DecodedValue {
                    type_name,
                    fork: Some(fork),
                    json: value.to_json_data(),
                    root: value.hash_tree_root(),
                    ssz: value.to_ssz(),
                }
            }))
        };
    }

    /// Phase0's container before electra, the preset's electra container from electra on.
    macro_rules! attestation_type {
        ($ty:ident) => {
            if fork >= Fork::Electra {
                with_block_preset!(preset, types => plain::<types::electra::$ty>(type_name, fork, bytes))
            } else {
                plain::<phase0::$ty>(type_name, fork, bytes)
            }
        };
    }

    Some(match type_name {
        N::SignedBeaconBlock => forked!(SignedBeaconBlock),
        N::BeaconBlock => forked!(BeaconBlock),
        N::BeaconBlockBody => forked!(BeaconBlockBody),
        N::ExecutionPayload => match fork {
            Fork::Capella => {
                with_block_preset!(preset, types => plain::<types::capella::ExecutionPayload>(type_name, fork, bytes))
            }
            Fork::Deneb | Fork::Electra | Fork::Fulu => {
                with_block_preset!(preset, types => plain::<types::deneb::ExecutionPayload>(type_name, fork, bytes))
            }
            _ => Err(TypeError::NoSuchFork {
                type_name: type_name.name(),
                fork,
            }),
        },
        N::Attestation => attestation_type!(Attestation),
        N::IndexedAttestation => attestation_type!(IndexedAttestation),
        N::AttesterSlashing => attestation_type!(AttesterSlashing),
        N::SyncAggregate => {
            with_block_preset!(preset, types => plain::<types::SyncAggregate>(type_name, fork, bytes))
        }
        N::ExecutionRequests
        | N::DepositRequest
        | N::WithdrawalRequest
        | N::ConsolidationRequest
            if fork < Fork::Electra =>
        {
            Err(TypeError::NoSuchFork {
                type_name: type_name.name(),
                fork,
            })
        }
        N::Withdrawal | N::BlsToExecutionChange | N::SignedBlsToExecutionChange
            if fork < Fork::Capella =>
        {
            Err(TypeError::NoSuchFork {
                type_name: type_name.name(),
                fork,
            })
        }
        N::ExecutionRequests => plain::<ExecutionRequests>(type_name, fork, bytes),
        N::DepositRequest => plain::<DepositRequest>(type_name, fork, bytes),
        N::WithdrawalRequest => plain::<WithdrawalRequest>(type_name, fork, bytes),
        N::ConsolidationRequest => plain::<ConsolidationRequest>(type_name, fork, bytes),
        N::Withdrawal => plain::<Withdrawal>(type_name, fork, bytes),
        N::BlsToExecutionChange => plain::<BlsToExecutionChange>(type_name, fork, bytes),
        N::SignedBlsToExecutionChange => {
            plain::<SignedBlsToExecutionChange>(type_name, fork, bytes)
        }
        N::Checkpoint => plain::<Checkpoint>(type_name, fork, bytes),
        N::AttestationData => plain::<AttestationData>(type_name, fork, bytes),
        N::Eth1Data => plain::<Eth1Data>(type_name, fork, bytes),
        N::BeaconBlockHeader => plain::<BeaconBlockHeader>(type_name, fork, bytes),
        N::SignedBeaconBlockHeader => plain::<SignedBeaconBlockHeader>(type_name, fork, bytes),
        N::ProposerSlashing => plain::<ProposerSlashing>(type_name, fork, bytes),
        N::Deposit => plain::<Deposit>(type_name, fork, bytes),
        N::DepositData => plain::<DepositData>(type_name, fork, bytes),
        N::VoluntaryExit => plain::<VoluntaryExit>(type_name, fork, bytes),
        N::SignedVoluntaryExit => plain::<SignedVoluntaryExit>(type_name, fork, bytes),
        _ => return None,
    })
}

/// SSZ bounds of the block-related names; `None` if `type_name` is not one of them.
pub(crate) fn ssz_bounds_named(
    type_name: super::SszTypeName,
    fork: Fork,
    preset: Preset,
) -> Option<Result<(usize, usize), TypeError>> {
    // Decoding an empty input fails on the length check with the type's bounds in the error,
    // or with NoSuchFork: one place knows which container a name and fork mean.
    match decode_named(type_name, fork, preset, &[])? {
        Err(TypeError::Length { min, max, .. }) => Some(Ok((min, max))),
        Err(error) => Some(Err(error)),
        // Only a type whose encoding may be empty decodes from no bytes (none of these).
        Ok(_) => Some(Ok((0, MAX_BLOCK_SSZ_SIZE))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_the_presets() {
        assert_eq!(mainnet::MAX_ATTESTERS_PER_SLOT, 131_072);
        assert_eq!(minimal::MAX_ATTESTERS_PER_SLOT, 8_192);
        assert_eq!(MAX_BLOCK_SSZ_SIZE, crate::wire::MAX_PAYLOAD_SIZE);
    }

    #[test]
    fn hostile_bytes_are_errors() {
        let block = mainnet::SignedBeaconBlock::Electra(Default::default());
        let bytes = block.to_ssz();
        assert_eq!(
            mainnet::SignedBeaconBlock::from_ssz(Fork::Electra, &bytes).unwrap(),
            block
        );
        // Every truncation and every single-byte corruption of the offsets is an error or a
        // valid block, never a panic.
        for cut in 0..bytes.len() {
            assert!(mainnet::SignedBeaconBlock::from_ssz(Fork::Electra, &bytes[..cut]).is_err());
        }
        for index in 0..bytes.len() {
            for value in [0x00, 0x01, 0x7f, 0xff] {
                let mut corrupt = bytes.clone();
                corrupt[index] = value;
                let _ = mainnet::SignedBeaconBlock::from_ssz(Fork::Electra, &corrupt);
            }
        }
        assert!(matches!(
            mainnet::SignedBeaconBlock::from_ssz(Fork::Electra, &vec![0; MAX_BLOCK_SSZ_SIZE + 1]),
            Err(TypeError::Length { .. })
        ));
        assert!(matches!(
            mainnet::SignedBeaconBlock::from_ssz(Fork::Altair, &bytes),
            Err(TypeError::NoSuchFork { .. })
        ));
    }

    #[test]
    fn json_round_trip_and_envelope() {
        let mut block = minimal::deneb::SignedBeaconBlock::default();
        block.message.slot = 7;
        block.message.body.execution_payload.fee_recipient =
            ExecutionAddress::from_hex("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").unwrap();
        let block = SignedBeaconBlock::Minimal(minimal::SignedBeaconBlock::Deneb(block));
        let json = block.to_beacon_api_json(false, true);
        assert_eq!(json["version"], "deneb");
        assert_eq!(
            json["data"]["message"]["body"]["execution_payload"]["fee_recipient"],
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        );
        assert_eq!(
            SignedBeaconBlock::from_beacon_api_json(Preset::Minimal, &json).unwrap(),
            block
        );
        let mut extra = json.clone();
        extra["data"]["message"]["extra"] = Value::Bool(true);
        assert!(SignedBeaconBlock::from_beacon_api_json(Preset::Minimal, &extra).is_err());
        let mut outer = json.clone();
        outer["dependent_root"] = Value::Bool(true);
        assert!(SignedBeaconBlock::from_beacon_api_json(Preset::Minimal, &outer).is_err());
    }
}
