//! Fork-independent views of the light-client objects the store works on: the spec's algorithm
//! reads every update as a `LightClientUpdate`, with absent parts (a finality update's next sync
//! committee, an optimistic update's finality proof) empty.

use super::VerifyError;
use crate::primitives::{Bytes32, Slot};
use crate::types::{
    LightClientBootstrap, LightClientFinalityUpdate, LightClientHeader,
    LightClientOptimisticUpdate, LightClientUpdate, SyncAggregate, SyncCommittee,
};

/// A bootstrap's parts.
#[derive(Debug, Clone)]
pub struct BootstrapView<const S: usize> {
    /// The checkpoint's header.
    pub header: LightClientHeader,
    /// The sync committee of the header's period.
    pub current_sync_committee: SyncCommittee<S>,
    /// Its proof in the header's state.
    pub current_sync_committee_branch: Vec<Bytes32>,
}

/// Any of the three updates, as the sync protocol reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateView<const S: usize> {
    /// The header the committee signed.
    pub attested_header: LightClientHeader,
    /// The attested state's next sync committee and its proof (`is_sync_committee_update`).
    pub next_sync_committee: Option<(SyncCommittee<S>, Vec<Bytes32>)>,
    /// The attested state's finalized header and its proof (`is_finality_update`).
    pub finality: Option<(LightClientHeader, Vec<Bytes32>)>,
    /// The committee's signature and who signed.
    pub sync_aggregate: SyncAggregate<S>,
    /// Slot of the signature.
    pub signature_slot: Slot,
}

impl<const S: usize> UpdateView<S> {
    /// `update.attested_header.beacon.slot`.
    pub fn attested_slot(&self) -> Slot {
        self.attested_header.beacon().slot
    }

    /// `update.finalized_header.beacon.slot` (0, the empty header's, without a finality proof).
    pub fn finalized_slot(&self) -> Slot {
        self.finality
            .as_ref()
            .map_or(0, |(header, _)| header.beacon().slot)
    }

    /// `sum(sync_aggregate.sync_committee_bits)`.
    pub fn participation(&self) -> u64 {
        self.sync_aggregate.sync_committee_bits.count_ones() as u64
    }
}

fn is_zero(branch: &[Bytes32]) -> bool {
    branch.iter().all(|node| node.0 == [0u8; 32])
}

/// Evaluates `$body` with `$inner` the container of `$value`'s fork and `$header` the
/// `LightClientHeader` variant of the same fork.
macro_rules! with_fork_header {
    ($kind:ident, $value:expr, |$inner:ident, $header:ident| $body:expr) => {
        match $value {
            $kind::Altair($inner) => {
                let $header = LightClientHeader::Altair;
                $body
            }
            $kind::Bellatrix($inner) => {
                let $header = LightClientHeader::Bellatrix;
                $body
            }
            $kind::Capella($inner) => {
                let $header = LightClientHeader::Capella;
                $body
            }
            $kind::Deneb($inner) => {
                let $header = LightClientHeader::Deneb;
                $body
            }
            $kind::Electra($inner) => {
                let $header = LightClientHeader::Electra;
                $body
            }
            $kind::Fulu($inner) => {
                let $header = LightClientHeader::Fulu;
                $body
            }
        }
    };
}

/// A part and its proof, or `None` when the proof is absent (all zero), in which case the part
/// must be the empty container (`update.finalized_header == LightClientHeader()` without a
/// finality proof, and the same for the next sync committee).
fn proven<T: Default + PartialEq + Clone>(
    value: &T,
    branch: &[Bytes32],
    what: &'static str,
) -> Result<Option<(T, Vec<Bytes32>)>, VerifyError> {
    if !is_zero(branch) {
        return Ok(Some((value.clone(), branch.to_vec())));
    }
    if *value == T::default() {
        Ok(None)
    } else {
        Err(VerifyError::Unproven { what })
    }
}

impl<const S: usize> From<&LightClientBootstrap<S>> for BootstrapView<S> {
    fn from(value: &LightClientBootstrap<S>) -> Self {
        with_fork_header!(LightClientBootstrap, value, |inner, header| BootstrapView {
            header: header(inner.header.clone()),
            current_sync_committee: inner.current_sync_committee.clone(),
            current_sync_committee_branch: inner.current_sync_committee_branch.to_vec(),
        })
    }
}

impl<const S: usize> TryFrom<&LightClientUpdate<S>> for UpdateView<S> {
    type Error = VerifyError;

    fn try_from(value: &LightClientUpdate<S>) -> Result<Self, VerifyError> {
        with_fork_header!(LightClientUpdate, value, |inner, header| {
            Ok(UpdateView {
                attested_header: header(inner.attested_header.clone()),
                next_sync_committee: proven(
                    &inner.next_sync_committee,
                    &inner.next_sync_committee_branch,
                    "next sync committee",
                )?,
                finality: proven(
                    &inner.finalized_header,
                    &inner.finality_branch,
                    "finalized header",
                )?
                .map(|(finalized, branch)| (header(finalized), branch)),
                sync_aggregate: inner.sync_aggregate.clone(),
                signature_slot: inner.signature_slot,
            })
        })
    }
}

impl<const S: usize> TryFrom<&LightClientFinalityUpdate<S>> for UpdateView<S> {
    type Error = VerifyError;

    fn try_from(value: &LightClientFinalityUpdate<S>) -> Result<Self, VerifyError> {
        with_fork_header!(LightClientFinalityUpdate, value, |inner, header| {
            Ok(UpdateView {
                attested_header: header(inner.attested_header.clone()),
                next_sync_committee: None,
                finality: proven(
                    &inner.finalized_header,
                    &inner.finality_branch,
                    "finalized header",
                )?
                .map(|(finalized, branch)| (header(finalized), branch)),
                sync_aggregate: inner.sync_aggregate.clone(),
                signature_slot: inner.signature_slot,
            })
        })
    }
}

impl<const S: usize> From<&LightClientOptimisticUpdate<S>> for UpdateView<S> {
    fn from(value: &LightClientOptimisticUpdate<S>) -> Self {
        with_fork_header!(LightClientOptimisticUpdate, value, |inner, header| {
            UpdateView {
                attested_header: header(inner.attested_header.clone()),
                next_sync_committee: None,
                finality: None,
                sync_aggregate: inner.sync_aggregate.clone(),
                signature_slot: inner.signature_slot,
            }
        })
    }
}
