//! Verification layer: the light-client sync protocol over the [`crate::types`], between the
//! types and the [`crate::node`]. Pure functions and a store; no I/O, no clock (every call
//! takes the current slot), so everything here runs offline on recorded data.
//!
//! - [`merkle`]: generalized indices by fork, the (normalized) branch check;
//! - [`header`]: `is_valid_light_client_header` (execution payload proofs by the slot's fork);
//! - [`signing`]: `DOMAIN_SYNC_COMMITTEE` domains and signing roots;
//! - [`bls`]: `FastAggregateVerify` with each committee's keys decompressed once;
//! - [`update`]: every update read as the spec reads it, whatever its kind and fork;
//! - [`store`]: `LightClientStore`: initialize, validate, process, force update,
//!   `is_better_update`;
//! - [`LightClientStore`] (here): the store for a network of either preset, fed
//!   [`LightClientObject`]s as the node hands them out.

pub mod bls;
pub mod header;
pub mod merkle;
pub mod signing;
pub mod store;
pub mod update;

use crate::chain::{ChainConfig, Preset, MAINNET_SYNC_COMMITTEE_SIZE, MINIMAL_SYNC_COMMITTEE_SIZE};
use crate::primitives::{Root, Slot};
use crate::types::{
    LightClientBootstrap, LightClientFinalityUpdate, LightClientHeader, LightClientKind,
    LightClientObject, LightClientOptimisticUpdate, LightClientUpdate, TypeError,
};
pub use bls::BlsError;
pub use store::{Change, Store};
pub use update::{BootstrapView, UpdateView};

/// What to do with an object that did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Valid as far as it can be checked, but not of use now (older than the store, a period
    /// the store cannot check yet, signed in the future by our clock): gossip IGNORE, no penalty.
    Ignore,
    /// It proves something false or is malformed: the sender lied or is broken. Gossip REJECT,
    /// scored as bad data.
    Reject,
}

/// How an object fared against the store: what a peer that sent it is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid and newer: hand it out, forward it.
    Accepted,
    /// Valid but not newer, or not checkable now: drop it quietly.
    Ignored,
    /// Proves something false: drop it and hold it against the sender.
    Rejected,
}

impl Verdict {
    /// The verdict on what [`LightClientStore::process`] returned.
    pub fn of(result: &Result<Change, VerifyError>) -> Verdict {
        match result {
            Ok(change) if change.is_empty() => Verdict::Ignored,
            Ok(_) => Verdict::Accepted,
            Err(error) => match error.disposition() {
                Disposition::Ignore => Verdict::Ignored,
                Disposition::Reject => Verdict::Rejected,
            },
        }
    }

    /// `accepted`, `ignored` or `rejected`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Ignored => "ignored",
            Verdict::Rejected => "rejected",
        }
    }
}

/// Why an object does not verify against the store. Each variant names the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The bytes are not the object they claim to be.
    #[error(transparent)]
    Decode(#[from] TypeError),
    /// A bootstrap where an update was expected, or the other way round.
    #[error("a {kind:?} cannot be {action}")]
    WrongKind {
        /// The object's kind.
        kind: LightClientKind,
        /// What was attempted.
        action: &'static str,
    },
    /// The bootstrap's header is not the trusted checkpoint.
    #[error("the bootstrap is for block {got}, not the checkpoint {expected}")]
    WrongCheckpoint {
        /// The trusted block root.
        expected: Root,
        /// The bootstrap header's root.
        got: Root,
    },
    /// `is_valid_light_client_header` fails.
    #[error("invalid {role} header at slot {slot}: {detail}")]
    InvalidHeader {
        /// Which header of the object.
        role: &'static str,
        /// Its slot.
        slot: Slot,
        /// What is wrong.
        detail: String,
    },
    /// A Merkle branch does not prove its leaf in the attested (or bootstrap) state.
    #[error("the {branch} branch does not match the state root")]
    InvalidBranch {
        /// Which branch.
        branch: &'static str,
    },
    /// A part without a proof is not empty, as the spec requires.
    #[error("a {what} without a proof must be empty")]
    Unproven {
        /// Which part.
        what: &'static str,
    },
    /// Fewer signers than `MIN_SYNC_COMMITTEE_PARTICIPANTS`.
    #[error("{participation} sync-committee participants, fewer than the minimum {minimum}")]
    TooFewParticipants {
        /// Signers.
        participation: u64,
        /// The minimum.
        minimum: u64,
    },
    /// Signed at a slot that has not come yet by our clock.
    #[error("signed at slot {signature_slot}, after the current slot {current_slot}")]
    FromTheFuture {
        /// The signature slot.
        signature_slot: Slot,
        /// Our current slot.
        current_slot: Slot,
    },
    /// `signature_slot > attested slot >= finalized slot` does not hold.
    #[error("slots out of order: signature {signature_slot}, attested {attested_slot}, finalized {finalized_slot} (the signature must come after the attested header, which must not be older than the finalized one)")]
    SlotOrder {
        /// The signature slot.
        signature_slot: Slot,
        /// The attested header's slot.
        attested_slot: Slot,
        /// The finalized header's slot.
        finalized_slot: Slot,
    },
    /// Signed in a period whose committee the store does not know.
    #[error("signed in sync-committee period {signature_period}; the store (period {store_period}, next committee {}) can only check {}", if *next_known { "known" } else { "unknown" }, if *next_known { "this period and the next" } else { "this period" })]
    UnverifiablePeriod {
        /// The period of the signature slot.
        signature_period: u64,
        /// The store's period.
        store_period: u64,
        /// Whether the next committee is known.
        next_known: bool,
    },
    /// Nothing newer than the store: not after its finalized header, no new committee.
    #[error("not newer than the store: attested slot {attested_slot}, store finalized at {finalized_slot}")]
    NotRelevant {
        /// The attested slot.
        attested_slot: Slot,
        /// The store's finalized slot.
        finalized_slot: Slot,
    },
    /// The update's next sync committee differs from the one the store already proved.
    #[error("the next sync committee differs from the one already known for this period")]
    ConflictingNextSyncCommittee,
    /// The sync aggregate's signature does not verify.
    #[error("sync aggregate: {0}")]
    Signature(#[source] BlsError),
    /// An update that would finalize a header more than a period ahead of the store.
    #[error("finalizes period {finalized_period} while the store is in period {store_period} without the next committee")]
    SkipsPeriod {
        /// Period of the update's finalized header.
        finalized_period: u64,
        /// The store's period.
        store_period: u64,
    },
}

impl VerifyError {
    /// Whether the sender is to blame.
    pub fn disposition(&self) -> Disposition {
        match self {
            VerifyError::FromTheFuture { .. }
            | VerifyError::UnverifiablePeriod { .. }
            | VerifyError::NotRelevant { .. } => Disposition::Ignore,
            _ => Disposition::Reject,
        }
    }

    /// A short stable name of the rule broken, for logs, counters and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Decode(_) => "decode",
            VerifyError::WrongKind { .. } => "wrong_kind",
            VerifyError::WrongCheckpoint { .. } => "wrong_checkpoint",
            VerifyError::InvalidHeader { .. } => "invalid_header",
            VerifyError::InvalidBranch { .. } => "invalid_branch",
            VerifyError::Unproven { .. } => "unproven",
            VerifyError::TooFewParticipants { .. } => "too_few_participants",
            VerifyError::FromTheFuture { .. } => "from_the_future",
            VerifyError::SlotOrder { .. } => "slot_order",
            VerifyError::UnverifiablePeriod { .. } => "unverifiable_period",
            VerifyError::NotRelevant { .. } => "not_relevant",
            VerifyError::ConflictingNextSyncCommittee => "conflicting_next_sync_committee",
            VerifyError::Signature(_) => "invalid_signature",
            VerifyError::SkipsPeriod { .. } => "skips_period",
        }
    }
}

/// A verified header as the store holds it: the block, and how many signed for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHeader {
    /// The light-client header.
    pub header: LightClientHeader,
    /// `hash_tree_root(header.beacon)`.
    pub block_root: Root,
}

impl VerifiedHeader {
    fn of(header: &LightClientHeader) -> Self {
        VerifiedHeader {
            header: header.clone(),
            block_root: header::beacon_root(header.beacon()),
        }
    }

    /// The header's slot.
    pub fn slot(&self) -> Slot {
        self.header.beacon().slot
    }
}

/// The store of one network, of either preset.
#[derive(Debug, Clone)]
pub struct LightClientStore {
    chain: ChainConfig,
    inner: PresetStore,
}

#[derive(Debug, Clone)]
enum PresetStore {
    Mainnet(Store<MAINNET_SYNC_COMMITTEE_SIZE>),
    Minimal(Store<MINIMAL_SYNC_COMMITTEE_SIZE>),
}

macro_rules! each_preset {
    ($value:expr, $store:ident, $size:ident => $body:expr) => {
        match $value {
            PresetStore::Mainnet($store) => {
                const $size: usize = MAINNET_SYNC_COMMITTEE_SIZE;
                $body
            }
            PresetStore::Minimal($store) => {
                const $size: usize = MINIMAL_SYNC_COMMITTEE_SIZE;
                $body
            }
        }
    };
}

/// Reads an update object of any kind as the sync protocol does.
fn update_view<const S: usize>(object: &LightClientObject) -> Result<UpdateView<S>, VerifyError> {
    match object.kind {
        LightClientKind::Update => {
            UpdateView::try_from(&LightClientUpdate::<S>::from_ssz(object.fork, &object.ssz)?)
        }
        LightClientKind::FinalityUpdate => UpdateView::try_from(
            &LightClientFinalityUpdate::<S>::from_ssz(object.fork, &object.ssz)?,
        ),
        LightClientKind::OptimisticUpdate => Ok(UpdateView::from(
            &LightClientOptimisticUpdate::<S>::from_ssz(object.fork, &object.ssz)?,
        )),
        LightClientKind::Bootstrap => Err(VerifyError::WrongKind {
            kind: object.kind,
            action: "processed as an update",
        }),
    }
}

impl LightClientStore {
    /// `initialize_light_client_store`: the bootstrap must be for `checkpoint` and prove its
    /// sync committee.
    pub fn initialize(
        chain: ChainConfig,
        checkpoint: &Root,
        bootstrap: &LightClientObject,
    ) -> Result<Self, VerifyError> {
        if bootstrap.kind != LightClientKind::Bootstrap {
            return Err(VerifyError::WrongKind {
                kind: bootstrap.kind,
                action: "used to initialize the store",
            });
        }
        fn init<const S: usize>(
            chain: &ChainConfig,
            checkpoint: &Root,
            bootstrap: &LightClientObject,
        ) -> Result<Store<S>, VerifyError> {
            let value = LightClientBootstrap::<S>::from_ssz(bootstrap.fork, &bootstrap.ssz)?;
            Store::initialize(chain, checkpoint, BootstrapView::from(&value))
        }
        let inner = match chain.preset {
            Preset::Mainnet => PresetStore::Mainnet(init(&chain, checkpoint, bootstrap)?),
            Preset::Minimal => PresetStore::Minimal(init(&chain, checkpoint, bootstrap)?),
        };
        Ok(LightClientStore { chain, inner })
    }

    /// The network.
    pub fn chain(&self) -> &ChainConfig {
        &self.chain
    }

    /// Checks an update, finality update or optimistic update without changing the store.
    pub fn validate(
        &self,
        object: &LightClientObject,
        current_slot: Slot,
    ) -> Result<(), VerifyError> {
        each_preset!(&self.inner, store, S => {
            store.validate(&self.chain, &update_view::<S>(object)?, current_slot)
        })
    }

    /// `process_light_client_update` (and its finality/optimistic variants): what the object
    /// changed, or why it was not taken. First applies a forced update if one is due.
    pub fn process(
        &mut self,
        object: &LightClientObject,
        current_slot: Slot,
    ) -> Result<Change, VerifyError> {
        let chain = &self.chain;
        each_preset!(&mut self.inner, store, S => {
            let update = update_view::<S>(object)?;
            store.process(chain, update, current_slot)
        })
    }

    /// `process_light_client_store_force_update` at `current_slot`.
    pub fn force_update(&mut self, current_slot: Slot) -> Result<Change, VerifyError> {
        let chain = &self.chain;
        each_preset!(&mut self.inner, store, _S => store.force_update(chain, current_slot))
    }

    /// The newest finalized header.
    pub fn finalized(&self) -> VerifiedHeader {
        each_preset!(&self.inner, store, _S => VerifiedHeader::of(store.finalized_header()))
    }

    /// The newest optimistic header.
    pub fn optimistic(&self) -> VerifiedHeader {
        each_preset!(&self.inner, store, _S => VerifiedHeader::of(store.optimistic_header()))
    }

    /// The newest finalized header's slot.
    pub fn finalized_slot(&self) -> Slot {
        each_preset!(&self.inner, store, _S => store.finalized_header().beacon().slot)
    }

    /// The newest optimistic header's slot.
    pub fn optimistic_slot(&self) -> Slot {
        each_preset!(&self.inner, store, _S => store.optimistic_header().beacon().slot)
    }

    /// The sync-committee period of the finalized header.
    pub fn period(&self) -> u64 {
        self.chain
            .sync_committee_period_at_slot(self.finalized_slot())
    }

    /// Whether the next period's committee is known.
    pub fn is_next_sync_committee_known(&self) -> bool {
        each_preset!(&self.inner, store, _S => store.is_next_sync_committee_known())
    }
}
