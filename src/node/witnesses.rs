//! Who vouched for which header at a slot, in unverified mode: without a store nothing says which
//! of two different headers for one slot is right, so the second is reported
//! ([`super::NodeEvent::SourcesDisagree`]) rather than quietly taking the first's place.

use std::collections::BTreeMap;

use super::verifier::Sender;
use super::{Node, NodeEvent};
use crate::primitives::{Root, Slot};

/// Slots remembered (the newest ones).
const KEPT_SLOTS: usize = 256;
/// Distinct roots remembered per slot: more than two already says enough.
const ROOTS_PER_SLOT: usize = 4;

/// The header roots sources served per slot, and who served each first.
#[derive(Debug, Default)]
pub(super) struct Witnesses {
    by_slot: BTreeMap<Slot, SlotWitnesses>,
}

#[derive(Debug, Default)]
struct SlotWitnesses {
    roots: Vec<(Root, String)>,
    /// A root past [`ROOTS_PER_SLOT`] was reported: later ones are not (a liar could make
    /// up any number).
    overflowed: bool,
}

impl Witnesses {
    /// Notes that `source` served the header `root` at `slot`. When another root is known for
    /// the slot: that root and who served it first (once per new root).
    pub(super) fn note(&mut self, slot: Slot, root: Root, source: &str) -> Option<(Root, String)> {
        let seen = self.by_slot.entry(slot).or_default();
        if seen.roots.iter().any(|(known, _)| *known == root) {
            return None;
        }
        let earlier = seen.roots.first().cloned();
        if seen.roots.len() < ROOTS_PER_SLOT {
            seen.roots.push((root, source.to_string()));
        } else if std::mem::replace(&mut seen.overflowed, true) {
            return None;
        }
        while self.by_slot.len() > KEPT_SLOTS {
            self.by_slot.pop_first();
        }
        earlier
    }
}

impl Node {
    /// Notes that `sender` served `root` as the `header` at `slot`; reports a disagreement.
    pub(super) fn witness(
        &mut self,
        sender: &Sender<'_>,
        header: &'static str,
        slot: u64,
        root: Root,
    ) {
        let source = sender.to_string();
        if let Some(earlier) = self.witnesses.note(slot, root, &source) {
            tracing::warn!(slot, header, earlier = %earlier.0, earlier_from = %earlier.1, later = %root, later_from = %source, "sources disagree");
            self.emit(NodeEvent::SourcesDisagree {
                slot,
                header,
                earlier,
                later: (root, source),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(byte: u8) -> Root {
        Root::from([byte; 32])
    }

    #[test]
    fn a_second_root_for_a_slot_is_reported_once_with_who_served_the_first() {
        let mut witnesses = Witnesses::default();
        assert_eq!(witnesses.note(10, root(1), "peer A"), None);
        assert_eq!(witnesses.note(10, root(1), "peer B"), None, "agreeing");
        assert_eq!(witnesses.note(11, root(2), "peer B"), None, "another slot");
        assert_eq!(
            witnesses.note(10, root(3), "http://api"),
            Some((root(1), "peer A".to_string()))
        );
        assert_eq!(
            witnesses.note(10, root(3), "peer C"),
            None,
            "reported already"
        );
    }

    #[test]
    fn made_up_roots_past_the_limit_are_reported_once() {
        let mut witnesses = Witnesses::default();
        let reports = (0..100u8)
            .filter(|byte| witnesses.note(5, root(*byte), "liar").is_some())
            .count();
        // Roots 2, 3 and 4 each, then one for all the rest.
        assert_eq!(reports, ROOTS_PER_SLOT);
    }

    #[test]
    fn memory_is_bounded() {
        let mut witnesses = Witnesses::default();
        for slot in 0..10_000u64 {
            for byte in 0..8 {
                witnesses.note(slot, root(byte), "peer");
            }
        }
        assert_eq!(witnesses.by_slot.len(), KEPT_SLOTS);
        assert!(witnesses
            .by_slot
            .values()
            .all(|seen| seen.roots.len() <= ROOTS_PER_SLOT));
    }
}
