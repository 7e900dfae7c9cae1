//! `LightClientStore` and the sync protocol's state transitions
//! (consensus-specs `altair/light-client/sync-protocol.md`, with the capella, deneb and electra
//! changes; fulu changes nothing here). Pure: the caller passes the current slot.

use std::sync::OnceLock;

use super::bls::CommitteeKeys;
use super::header::{beacon_root, check_light_client_header, is_empty_header};
use super::merkle::{is_valid_normalized_merkle_branch, StateField};
use super::signing::{compute_signing_root, sync_committee_domain};
use super::update::{BootstrapView, UpdateView};
use super::VerifyError;
use crate::chain::ChainConfig;
use crate::primitives::{Bytes32, Root, Slot};
use crate::types::block::root_of;
use crate::types::{LightClientHeader, SyncCommittee};

/// `MIN_SYNC_COMMITTEE_PARTICIPANTS`.
pub const MIN_SYNC_COMMITTEE_PARTICIPANTS: u64 = 1;

/// A sync committee with its keys, each decompressed the first time a signature needs it.
#[derive(Debug)]
pub struct Committee<const S: usize> {
    /// The committee as the state has it.
    pub committee: SyncCommittee<S>,
    keys: OnceLock<CommitteeKeys>,
}

impl<const S: usize> Clone for Committee<S> {
    fn clone(&self) -> Self {
        Committee {
            committee: self.committee.clone(),
            keys: self.keys.clone(),
        }
    }
}

impl<const S: usize> Committee<S> {
    fn new(committee: SyncCommittee<S>) -> Self {
        Committee {
            committee,
            keys: OnceLock::new(),
        }
    }

    fn keys(&self) -> &CommitteeKeys {
        self.keys.get_or_init(|| {
            CommitteeKeys::lazy(
                &self.committee.pubkeys,
                Some(&self.committee.aggregate_pubkey),
            )
        })
    }
}

/// What an accepted object changed in the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    /// The finalized header moved forward.
    pub finalized: bool,
    /// The optimistic header moved forward.
    pub optimistic: bool,
    /// The next sync committee became known, or the committees rotated.
    pub committee: bool,
    /// The update became the best one kept for a forced update.
    pub best_update: bool,
}

impl Change {
    /// Whether the object was valid but brought nothing new: no newer header, no committee. (It
    /// may still have become the best update kept for a forced update; that alone is not news.)
    pub fn is_empty(&self) -> bool {
        !(self.finalized || self.optimistic || self.committee)
    }
}

/// The light-client store of one network and preset.
#[derive(Debug, Clone)]
pub struct Store<const S: usize> {
    finalized_header: LightClientHeader,
    current_sync_committee: Committee<S>,
    next_sync_committee: Option<Committee<S>>,
    best_valid_update: Option<UpdateView<S>>,
    optimistic_header: LightClientHeader,
    previous_max_active_participants: u64,
    current_max_active_participants: u64,
}

fn check_state_branch(
    chain: &ChainConfig,
    field: StateField,
    leaf: &Root,
    branch: &[Bytes32],
    attested_slot: Slot,
    state_root: &Root,
) -> Result<(), VerifyError> {
    let gindex = field.gindex(chain.fork_at_slot(attested_slot));
    if is_valid_normalized_merkle_branch(leaf, branch, gindex, state_root) {
        Ok(())
    } else {
        Err(VerifyError::InvalidBranch {
            branch: field.name(),
        })
    }
}

impl<const S: usize> Store<S> {
    /// `initialize_light_client_store(trusted_block_root, bootstrap)`.
    pub fn initialize(
        chain: &ChainConfig,
        trusted_block_root: &Root,
        bootstrap: BootstrapView<S>,
    ) -> Result<Self, VerifyError> {
        check_light_client_header(chain, &bootstrap.header, "bootstrap")?;
        let beacon = bootstrap.header.beacon();
        let root = beacon_root(beacon);
        if root != *trusted_block_root {
            return Err(VerifyError::WrongCheckpoint {
                expected: *trusted_block_root,
                got: root,
            });
        }
        check_state_branch(
            chain,
            StateField::CurrentSyncCommittee,
            &root_of(&bootstrap.current_sync_committee),
            &bootstrap.current_sync_committee_branch,
            beacon.slot,
            &beacon.state_root,
        )?;
        Ok(Store {
            finalized_header: bootstrap.header.clone(),
            current_sync_committee: Committee::new(bootstrap.current_sync_committee),
            next_sync_committee: None,
            best_valid_update: None,
            optimistic_header: bootstrap.header,
            previous_max_active_participants: 0,
            current_max_active_participants: 0,
        })
    }

    /// The newest finalized header.
    pub fn finalized_header(&self) -> &LightClientHeader {
        &self.finalized_header
    }

    /// The newest optimistic header.
    pub fn optimistic_header(&self) -> &LightClientHeader {
        &self.optimistic_header
    }

    /// Whether the next period's committee is known (`is_next_sync_committee_known`).
    pub fn is_next_sync_committee_known(&self) -> bool {
        self.next_sync_committee.is_some()
    }

    /// The committee of the finalized header's period.
    pub fn current_sync_committee(&self) -> &SyncCommittee<S> {
        &self.current_sync_committee.committee
    }

    /// `get_safety_threshold(store)`.
    pub fn safety_threshold(&self) -> u64 {
        self.previous_max_active_participants
            .max(self.current_max_active_participants)
            / 2
    }

    /// `validate_light_client_update(store, update, current_slot, genesis_validators_root)`.
    pub fn validate(
        &self,
        chain: &ChainConfig,
        update: &UpdateView<S>,
        current_slot: Slot,
    ) -> Result<(), VerifyError> {
        let participation = update.participation();
        if participation < MIN_SYNC_COMMITTEE_PARTICIPANTS {
            return Err(VerifyError::TooFewParticipants {
                participation,
                minimum: MIN_SYNC_COMMITTEE_PARTICIPANTS,
            });
        }
        check_light_client_header(chain, &update.attested_header, "attested")?;
        let attested = update.attested_header.beacon();
        let attested_slot = attested.slot;
        let finalized_slot = update.finalized_slot();
        if update.signature_slot > current_slot {
            return Err(VerifyError::FromTheFuture {
                signature_slot: update.signature_slot,
                current_slot,
            });
        }
        if !(update.signature_slot > attested_slot && attested_slot >= finalized_slot) {
            return Err(VerifyError::SlotOrder {
                signature_slot: update.signature_slot,
                attested_slot,
                finalized_slot,
            });
        }
        let period = |slot| chain.sync_committee_period_at_slot(slot);
        let store_period = period(self.finalized_header.beacon().slot);
        let signature_period = period(update.signature_slot);
        let allowed = if self.is_next_sync_committee_known() {
            signature_period == store_period || signature_period == store_period + 1
        } else {
            signature_period == store_period
        };
        if !allowed {
            return Err(VerifyError::UnverifiablePeriod {
                signature_period,
                store_period,
                next_known: self.is_next_sync_committee_known(),
            });
        }
        let attested_period = period(attested_slot);
        let has_next_sync_committee = !self.is_next_sync_committee_known()
            && update.next_sync_committee.is_some()
            && attested_period == store_period;
        if !(attested_slot > self.finalized_header.beacon().slot || has_next_sync_committee) {
            return Err(VerifyError::NotRelevant {
                attested_slot,
                finalized_slot: self.finalized_header.beacon().slot,
            });
        }
        if let Some((finalized_header, branch)) = &update.finality {
            // The genesis checkpoint is the zero root, with an empty header.
            let leaf = if finalized_slot == 0 {
                if !is_empty_header(finalized_header) {
                    return Err(VerifyError::Unproven {
                        what: "genesis finalized header",
                    });
                }
                Root::default()
            } else {
                check_light_client_header(chain, finalized_header, "finalized")?;
                beacon_root(finalized_header.beacon())
            };
            check_state_branch(
                chain,
                StateField::FinalizedRoot,
                &leaf,
                branch,
                attested_slot,
                &attested.state_root,
            )?;
        }
        if let Some((committee, branch)) = &update.next_sync_committee {
            if attested_period == store_period {
                if let Some(known) = &self.next_sync_committee {
                    if known.committee != *committee {
                        return Err(VerifyError::ConflictingNextSyncCommittee);
                    }
                }
            }
            check_state_branch(
                chain,
                StateField::NextSyncCommittee,
                &root_of(committee),
                branch,
                attested_slot,
                &attested.state_root,
            )?;
        }
        let committee = if signature_period == store_period {
            &self.current_sync_committee
        } else {
            self.next_sync_committee
                .as_ref()
                .expect("checked above: the next committee is known")
        };
        let domain = sync_committee_domain(chain, update.signature_slot);
        let signing_root = compute_signing_root(&beacon_root(attested), &domain);
        committee
            .keys()
            .fast_aggregate_verify(
                update.sync_aggregate.sync_committee_bits.iter().by_vals(),
                &signing_root,
                &update.sync_aggregate.sync_committee_signature,
            )
            .map_err(VerifyError::Signature)
    }

    /// `process_light_client_update`: validates `update`, then applies it by the spec's rules.
    pub fn process(
        &mut self,
        chain: &ChainConfig,
        update: UpdateView<S>,
        current_slot: Slot,
    ) -> Result<Change, VerifyError> {
        self.validate(chain, &update, current_slot)?;
        let mut change = Change::default();
        let participation = update.participation();
        if self
            .best_valid_update
            .as_ref()
            .is_none_or(|best| is_better_update(chain, &update, best))
        {
            self.best_valid_update = Some(update.clone());
            change.best_update = true;
        }
        self.current_max_active_participants =
            self.current_max_active_participants.max(participation);
        if participation > self.safety_threshold()
            && update.attested_slot() > self.optimistic_header.beacon().slot
        {
            self.optimistic_header = update.attested_header.clone();
            change.optimistic = true;
        }
        let period = |slot| chain.sync_committee_period_at_slot(slot);
        let has_finalized_next_sync_committee = !self.is_next_sync_committee_known()
            && update.next_sync_committee.is_some()
            && update.finality.is_some()
            && period(update.finalized_slot()) == period(update.attested_slot());
        if participation * 3 >= S as u64 * 2
            && (update.finalized_slot() > self.finalized_header.beacon().slot
                || has_finalized_next_sync_committee)
        {
            change = self.apply(chain, &update, change)?;
            self.best_valid_update = None;
        }
        Ok(change)
    }

    /// `process_light_client_store_force_update`: after `UPDATE_TIMEOUT` slots without
    /// finality, the best valid update is applied with its attested header as finalized.
    pub fn force_update(
        &mut self,
        chain: &ChainConfig,
        current_slot: Slot,
    ) -> Result<Change, VerifyError> {
        let timeout =
            chain.preset.slots_per_epoch() * chain.preset.epochs_per_sync_committee_period();
        if current_slot <= self.finalized_header.beacon().slot.saturating_add(timeout) {
            return Ok(Change::default());
        }
        let Some(mut best) = self.best_valid_update.take() else {
            return Ok(Change::default());
        };
        if best.finalized_slot() <= self.finalized_header.beacon().slot {
            best.finality = Some((best.attested_header.clone(), Vec::new()));
        }
        self.apply(chain, &best, Change::default())
    }

    /// `apply_light_client_update`.
    fn apply(
        &mut self,
        chain: &ChainConfig,
        update: &UpdateView<S>,
        mut change: Change,
    ) -> Result<Change, VerifyError> {
        let period = |slot| chain.sync_committee_period_at_slot(slot);
        let store_period = period(self.finalized_header.beacon().slot);
        let finalized_period = period(update.finalized_slot());
        let next = update
            .next_sync_committee
            .as_ref()
            .map(|(committee, _)| Committee::new(committee.clone()));
        match &self.next_sync_committee {
            None => {
                if finalized_period != store_period {
                    return Err(VerifyError::SkipsPeriod {
                        finalized_period,
                        store_period,
                    });
                }
                change.committee |= next.is_some();
                self.next_sync_committee = next;
            }
            Some(_) if finalized_period == store_period + 1 => {
                let rotated = self.next_sync_committee.take().expect("matched Some");
                self.current_sync_committee = rotated;
                self.next_sync_committee = next;
                self.previous_max_active_participants = self.current_max_active_participants;
                self.current_max_active_participants = 0;
                change.committee = true;
            }
            Some(_) => {}
        }
        if update.finalized_slot() > self.finalized_header.beacon().slot {
            let (finalized, _) = update
                .finality
                .as_ref()
                .expect("a finalized slot above 0 comes with a finality proof");
            self.finalized_header = finalized.clone();
            change.finalized = true;
            if self.finalized_header.beacon().slot > self.optimistic_header.beacon().slot {
                self.optimistic_header = self.finalized_header.clone();
                change.optimistic = true;
            }
        }
        Ok(change)
    }
}

/// `is_better_update(new_update, old_update)`.
pub fn is_better_update<const S: usize>(
    chain: &ChainConfig,
    new: &UpdateView<S>,
    old: &UpdateView<S>,
) -> bool {
    let period = |slot| chain.sync_committee_period_at_slot(slot);
    let max = S as u64;
    let (new_active, old_active) = (new.participation(), old.participation());
    let new_supermajority = new_active * 3 >= max * 2;
    let old_supermajority = old_active * 3 >= max * 2;
    if new_supermajority != old_supermajority {
        return new_supermajority;
    }
    if !new_supermajority && new_active != old_active {
        return new_active > old_active;
    }
    let relevant_committee = |update: &UpdateView<S>| {
        update.next_sync_committee.is_some()
            && period(update.attested_slot()) == period(update.signature_slot)
    };
    if relevant_committee(new) != relevant_committee(old) {
        return relevant_committee(new);
    }
    if new.finality.is_some() != old.finality.is_some() {
        return new.finality.is_some();
    }
    if new.finality.is_some() {
        let committee_finality = |update: &UpdateView<S>| {
            period(update.finalized_slot()) == period(update.attested_slot())
        };
        if committee_finality(new) != committee_finality(old) {
            return committee_finality(new);
        }
    }
    if new_active != old_active {
        return new_active > old_active;
    }
    if new.attested_slot() != old.attested_slot() {
        return new.attested_slot() < old.attested_slot();
    }
    new.signature_slot < old.signature_slot
}
