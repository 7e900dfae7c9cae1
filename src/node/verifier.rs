//! The node's verified mode: every light-client object a peer sends — answer or gossip — goes
//! through the [`LightClientStore`] before it is handed out or forwarded, and the peer is judged
//! by what it proved: invalid ⇒ bad data (score, retry elsewhere, gossip REJECT), valid but not
//! newer ⇒ ignored without penalty.

use libp2p::PeerId;
use serde::Serialize;

use super::peers::Outcome;
use super::scheduler::{LightClientRequest, Origin};
use super::{Node, NodeEvent};
use crate::primitives::{Root, Slot};
use crate::types::{LightClientKind, LightClientObject};
use crate::verify::{Change, LightClientStore, Verdict, VerifiedHeader, VerifyError};

/// Gossip may arrive this much ahead of our clock (`MAXIMUM_GOSSIP_CLOCK_DISPARITY`).
const CLOCK_DISPARITY_MS: u64 = 500;

/// The store and the checkpoint it starts from.
#[derive(Debug)]
pub(super) struct Verifier {
    checkpoint: Root,
    store: Option<LightClientStore>,
}

impl Verifier {
    pub(super) fn new(checkpoint: Root) -> Self {
        Verifier {
            checkpoint,
            store: None,
        }
    }

    /// Whether a bootstrap for `root` is the one the store waits for.
    pub(super) fn wants_bootstrap(&self, root: &Root) -> bool {
        self.store.is_none() && *root == self.checkpoint
    }
}

/// What the store made of a valid object.
enum Judged {
    /// It moved a head or a committee on.
    Changed,
    /// Valid, nothing new.
    Unchanged,
    /// Not checkable now or older than the store (from the future, another period).
    Stale,
}

/// Who sent an object the store judges: a peer (its record counts what it proved) or a
/// Beacon-API source (the client keeps its score).
#[derive(Debug, Clone, Copy)]
pub(super) enum Sender<'a> {
    /// A peer.
    Peer(PeerId),
    /// A Beacon-API source, by URL.
    Rpc(&'a str),
}

impl std::fmt::Display for Sender<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sender::Peer(peer) => write!(f, "{peer}"),
            Sender::Rpc(url) => f.write_str(url),
        }
    }
}

/// A header the store verified, as events and `Client::verified_heads` report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedHead {
    /// Its slot.
    pub slot: Slot,
    /// Its block root.
    pub block_root: Root,
    /// How many sync-committee members signed the update that proved it (`None` for the
    /// checkpoint itself).
    pub participation: Option<usize>,
    /// The sync committee's size.
    pub sync_committee_size: usize,
    /// The light-client header, as the Beacon API has it.
    pub header: serde_json::Value,
}

/// The newest finalized and optimistic headers the store verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedHeads {
    /// The checkpoint the store started from.
    pub checkpoint: Root,
    /// The newest finalized header.
    pub finalized: VerifiedHead,
    /// The newest optimistic (attested, signed by a majority) header.
    pub optimistic: VerifiedHead,
    /// The sync-committee period of the finalized header.
    pub period: u64,
    /// Whether the next period's committee is known.
    pub next_sync_committee_known: bool,
}

fn head(header: &VerifiedHeader, participation: Option<usize>, size: usize) -> VerifiedHead {
    VerifiedHead {
        slot: header.slot(),
        block_root: header.block_root,
        participation,
        sync_committee_size: size,
        header: header.header.to_beacon_api_json()["data"].clone(),
    }
}

impl Node {
    /// The current slot by our clock, with the gossip clock disparity allowed; `u64::MAX` when
    /// the network has no genesis time (nothing is "from the future" then).
    fn verification_slot(&self) -> Slot {
        let now = self
            .config
            .clock
            .now_unix_ms()
            .saturating_add(CLOCK_DISPARITY_MS);
        self.config.chain.slot_at_unix_ms(now).unwrap_or(Slot::MAX)
    }

    /// Starts verifying from `checkpoint` (keeps the store if it already starts there).
    pub(super) fn verify_from(&mut self, checkpoint: Root) {
        if self
            .verifier
            .as_ref()
            .is_some_and(|verifier| verifier.checkpoint == checkpoint)
        {
            return;
        }
        tracing::info!(%checkpoint, "verifying light-client data from a checkpoint");
        self.verifier = Some(Verifier::new(checkpoint));
    }

    /// The verified heads, once the store is initialized.
    pub(super) fn verified_heads(&self) -> Option<VerifiedHeads> {
        let verifier = self.verifier.as_ref()?;
        let store = verifier.store.as_ref()?;
        let size = self.config.chain.preset.sync_committee_size();
        Some(VerifiedHeads {
            checkpoint: verifier.checkpoint,
            finalized: head(&store.finalized(), self.verified_participation.0, size),
            optimistic: head(&store.optimistic(), self.verified_participation.1, size),
            period: store.period(),
            next_sync_committee_known: store.is_next_sync_committee_known(),
        })
    }

    /// Checks objects a peer answered `request` with against the store; `Err` makes the answer
    /// bad data (the request is retried on another peer).
    pub(super) fn verify_fetched(
        &mut self,
        peer: Sender<'_>,
        request: &LightClientRequest,
        objects: &[LightClientObject],
    ) -> Result<(), (Outcome, String)> {
        let Some(verifier) = &mut self.verifier else {
            return Ok(());
        };
        if let LightClientRequest::Bootstrap(root) = request {
            if !verifier.wants_bootstrap(root) {
                // A bootstrap for another root cannot be checked against this store.
                return Ok(());
            }
            let bootstrap = objects.first().expect("a checked answer has one bootstrap");
            let store = LightClientStore::initialize(
                (*self.config.chain).clone(),
                &verifier.checkpoint,
                bootstrap,
            )
            .map_err(|error| {
                if let Sender::Peer(peer) = peer {
                    self.peers.record(peer).invalid += 1;
                }
                (
                    Outcome::BadData,
                    format!("bootstrap does not verify: {error}"),
                )
            })?;
            tracing::info!(%peer, slot = bootstrap.slot, "store initialized from the checkpoint");
            verifier.store = Some(store);
            self.after_change(
                Change {
                    finalized: true,
                    optimistic: true,
                    ..Change::default()
                },
                None,
            );
            return Ok(());
        }
        let latest = matches!(
            request,
            LightClientRequest::FinalityUpdate | LightClientRequest::OptimisticUpdate
        );
        for object in objects {
            match self.judge(peer, object) {
                Err(error) => {
                    return Err((
                        Outcome::BadData,
                        format!(
                            "{} at slot {} does not verify: {error}",
                            object.kind.type_name(),
                            object.slot
                        ),
                    ))
                }
                // "The latest" that is older than what the store proved: another peer may
                // have the newest (no penalty beyond "does not have it").
                Ok(Judged::Unchanged | Judged::Stale)
                    if latest && self.is_older_than_verified(object) =>
                {
                    return Err((
                        Outcome::Unavailable,
                        format!(
                            "its latest {} (slot {}) is older than the verified head",
                            object.kind.type_name(),
                            object.slot
                        ),
                    ))
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }

    /// Objects a Beacon-API source at `url` answered `request` with: judged by the store like a
    /// peer's answer (verified mode), then learned (heads, recent updates, bootstraps). `Err`
    /// says why they are not taken: `BadData` (does not verify), `Unavailable` (older than what
    /// the store proved).
    pub(super) fn take_served(
        &mut self,
        url: &str,
        request: &LightClientRequest,
        objects: &[LightClientObject],
    ) -> Result<(), (Outcome, String)> {
        request
            .check_objects(&self.config.chain, objects)
            .map_err(|reason| (Outcome::BadData, reason))?;
        self.verify_fetched(Sender::Rpc(url), request, objects)?;
        self.learn(Sender::Rpc(url), objects);
        if let (LightClientRequest::Bootstrap(_), Some(bootstrap)) = (request, objects.first()) {
            self.bootstraps
                .insert(bootstrap.clone(), Origin::Rpc(url.to_string()));
        }
        Ok(())
    }

    /// The verdict on a gossiped object (accepted ones are applied to the store). Without a
    /// store every object is accepted: the gossip validator's own checks decide.
    pub(super) fn verify_gossip(&mut self, peer: PeerId, object: &LightClientObject) -> Verdict {
        if self.store().is_none() {
            return Verdict::Accepted;
        }
        match self.judge(Sender::Peer(peer), object) {
            // Valid: gossip's own rule decides whether it is newer than what we forwarded (an
            // optimistic update is, even when a finality update already moved the store's head).
            Ok(Judged::Changed | Judged::Unchanged) => Verdict::Accepted,
            Ok(Judged::Stale) => Verdict::Ignored,
            Err(_) => Verdict::Rejected,
        }
    }

    /// Processes `object` from `peer`, counts what the peer proved, and reports what changed.
    /// `Err` only for objects that prove something false; valid objects that bring nothing new
    /// and objects that cannot be checked now are counted as stale.
    fn judge(
        &mut self,
        peer: Sender<'_>,
        object: &LightClientObject,
    ) -> Result<Judged, VerifyError> {
        let current_slot = self.verification_slot();
        let Some(store) = self.store_mut() else {
            return Ok(Judged::Unchanged);
        };
        if object.kind == LightClientKind::Bootstrap {
            return Ok(Judged::Unchanged);
        }
        let result = store.process(object, current_slot);
        let verdict = Verdict::of(&result);
        if let Sender::Peer(peer) = peer {
            let record = self.peers.record(peer);
            match verdict {
                Verdict::Accepted => {}
                Verdict::Ignored => record.stale += 1,
                Verdict::Rejected => record.invalid += 1,
            }
        }
        match result {
            Ok(change) => {
                if !change.is_empty() {
                    tracing::debug!(%peer, kind = ?object.kind, slot = object.slot, ?change, "verified");
                }
                self.after_change(change, object.participation);
                Ok(if change.is_empty() {
                    Judged::Unchanged
                } else {
                    Judged::Changed
                })
            }
            Err(error) if verdict == Verdict::Ignored => {
                tracing::debug!(%peer, kind = ?object.kind, slot = object.slot, %error, "not newer or not checkable");
                Ok(Judged::Stale)
            }
            Err(error) => {
                tracing::info!(%peer, kind = ?object.kind, slot = object.slot, %error, "peer sent data that does not verify");
                Err(error)
            }
        }
    }

    /// Whether a finality (optimistic) update's finalized (attested) header is older than the
    /// store's.
    fn is_older_than_verified(&self, object: &LightClientObject) -> bool {
        let Some(store) = self.store() else {
            return false;
        };
        match object.kind {
            LightClientKind::FinalityUpdate => {
                object.finalized_slot.unwrap_or(0) < store.finalized_slot()
            }
            _ => object.slot < store.optimistic_slot(),
        }
    }

    /// The store, once initialized.
    pub(super) fn store(&self) -> Option<&LightClientStore> {
        self.verifier.as_ref()?.store.as_ref()
    }

    fn store_mut(&mut self) -> Option<&mut LightClientStore> {
        self.verifier.as_mut()?.store.as_mut()
    }

    /// Applies a forced update when one is due (a long stretch without finality).
    pub(super) fn force_update_if_due(&mut self) {
        let current_slot = self.verification_slot();
        if current_slot == Slot::MAX {
            return;
        }
        let Some(store) = self.store_mut() else {
            return;
        };
        // The timeout is counted to the newest header the chain signed, not past it: a clock
        // far ahead of the data (a replay, a wrong clock) is not a stretch without finality,
        // while a real one shows as signed headers running ahead of the finalized one.
        let current_slot = current_slot.min(store.optimistic_slot());
        match store.force_update(current_slot) {
            Ok(change) if !change.is_empty() => {
                tracing::info!(
                    slot = store.finalized().slot(),
                    "forced update after the update timeout"
                );
                self.after_change(change, None);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "forced update failed"),
        }
    }

    /// Emits the verified-head events of `change` and points `head`/`finalized` block ids at
    /// the verified headers.
    fn after_change(&mut self, change: Change, participation: Option<usize>) {
        if change.finalized {
            self.verified_participation.0 = participation;
        }
        if change.optimistic {
            self.verified_participation.1 = participation;
        }
        let Some(heads) = self.verified_heads() else {
            return;
        };
        self.known.finalized = Some((heads.finalized.slot, heads.finalized.block_root));
        self.known.head = Some((heads.optimistic.slot, heads.optimistic.block_root));
        if change.finalized {
            self.emit(NodeEvent::VerifiedFinality(heads.finalized.clone()));
        }
        if change.optimistic {
            self.emit(NodeEvent::VerifiedOptimistic(heads.optimistic));
        }
    }
}
