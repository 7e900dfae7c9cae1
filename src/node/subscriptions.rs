//! The node's light-client gossip: which topics it follows as the fork digest moves on (forks
//! and blob-parameter-only forks alike), and what it does with a message once
//! [`GossipValidator`](super::gossip::GossipValidator) has judged it.

use std::collections::HashSet;

use libp2p::gossipsub::{self, MessageAcceptance};

use super::peers::Outcome;
use super::verifier::Sender;
use super::{Node, NodeEvent};
use crate::chain::ChainConfig;
use crate::primitives::ForkDigest;
use crate::types::LightClientKind;
use crate::verify::Verdict;
use crate::wire::gossip::{GossipKind, GossipTopic};

impl Node {
    /// The epoch `config.clock` is in (0 before genesis or without a genesis time).
    pub(super) fn current_epoch(&self) -> u64 {
        self.config.clock.current_epoch(&self.config.chain)
    }

    pub(super) fn current_digest(&self) -> ForkDigest {
        self.config.chain.fork_digest(self.current_epoch())
    }

    /// Subscribes to the light-client topics of the current digest, and of the next one within
    /// an epoch of its activation; leaves old digests two epochs after a transition.
    pub(super) fn update_subscriptions(&mut self) {
        let wanted = wanted_digests(&self.config.chain, self.current_epoch());
        for digest in wanted.difference(&self.subscribed.clone()) {
            for topic in light_client_topics(*digest) {
                if let Err(error) = self.swarm.behaviour_mut().gossipsub.subscribe(&topic) {
                    tracing::warn!(%topic, %error, "cannot subscribe");
                }
            }
            tracing::info!(digest = %digest, "subscribed to light-client gossip");
            self.subscribed.insert(*digest);
        }
        for digest in self.subscribed.clone().difference(&wanted) {
            for topic in light_client_topics(*digest) {
                self.swarm.behaviour_mut().gossipsub.unsubscribe(&topic);
            }
            self.subscribed.remove(digest);
        }
    }

    pub(super) fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        else {
            return;
        };
        let chain = self.config.chain.clone();
        // The store's verdict first (verified mode); the validator then checks "newer".
        let mut validator = std::mem::take(&mut self.validator);
        let validation =
            validator.validate_with(&chain, message.topic.as_str(), &message.data, |object| {
                match self.verify_gossip(propagation_source, object) {
                    Verdict::Accepted => None,
                    Verdict::Ignored => Some((
                        MessageAcceptance::Ignore,
                        "not newer than the verified store".into(),
                    )),
                    Verdict::Rejected => Some((
                        MessageAcceptance::Reject,
                        "does not verify against the light-client store".into(),
                    )),
                }
            });
        self.validator = validator;
        if matches!(validation.acceptance, MessageAcceptance::Reject) {
            let now = web_time::Instant::now();
            if self.peers.report(propagation_source, Outcome::BadData, now) {
                tracing::info!(peer = %propagation_source, "score too low, disconnecting");
                self.say_goodbye(propagation_source, super::GOODBYE_BAD_SCORE);
            }
        }
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(
                &message_id,
                &propagation_source,
                validation.acceptance,
            );
        match validation.object {
            Some(object) => {
                tracing::debug!(peer = %propagation_source, slot = object.slot, kind = ?object.kind, "gossip accepted");
                self.learn(
                    Sender::Peer(propagation_source),
                    std::slice::from_ref(&object),
                );
                let event = match object.kind {
                    LightClientKind::FinalityUpdate => NodeEvent::FinalityUpdate(object),
                    _ => NodeEvent::OptimisticUpdate(object),
                };
                self.emit(event);
            }
            None => tracing::debug!(
                peer = %propagation_source,
                reason = validation.reason.as_deref().unwrap_or(""),
                "gossip not forwarded"
            ),
        }
    }
}

/// The gossipsub topics of the light-client updates under `digest`.
fn light_client_topics(digest: ForkDigest) -> [gossipsub::IdentTopic; 2] {
    GossipKind::ALL.map(|kind| {
        gossipsub::IdentTopic::new(
            GossipTopic {
                fork_digest: digest,
                kind,
            }
            .to_string(),
        )
    })
}

/// The digests whose light-client topics to follow at `epoch`: the current one, the next one from
/// an epoch before it activates, and the previous one for two epochs after a transition (fork or
/// blob-parameter-only fork alike).
pub fn wanted_digests(chain: &ChainConfig, epoch: u64) -> HashSet<ForkDigest> {
    let periods = chain.digest_periods();
    let mut wanted = HashSet::new();
    wanted.insert(chain.fork_digest(epoch));
    for (index, period) in periods.iter().enumerate() {
        if period.epoch > epoch && period.epoch <= epoch.saturating_add(1) {
            wanted.insert(period.digest);
        }
        if index > 0 && period.epoch <= epoch && epoch < period.epoch.saturating_add(2) {
            wanted.insert(periods[index - 1].digest);
        }
    }
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Network;

    #[test]
    fn gossip_topics_move_across_fork_and_bpo_boundaries() {
        let chain = Network::Mainnet.config();
        let digest = |epoch| chain.fork_digest(epoch);
        let bpo1 = 412_672;
        // Well inside Fulu: one digest.
        assert_eq!(
            wanted_digests(&chain, bpo1 - 10),
            HashSet::from([digest(bpo1 - 10)])
        );
        // An epoch before BPO1: the next digest too.
        assert_eq!(
            wanted_digests(&chain, bpo1 - 1),
            HashSet::from([digest(bpo1 - 1), digest(bpo1)])
        );
        // Just after: the new one, and the old one for two epochs.
        assert_eq!(
            wanted_digests(&chain, bpo1 + 1),
            HashSet::from([digest(bpo1), digest(bpo1 - 1)])
        );
        assert_eq!(
            wanted_digests(&chain, bpo1 + 2),
            HashSet::from([digest(bpo1)])
        );
        // The Electra → Fulu fork works the same way.
        let fulu = 411_392;
        assert!(wanted_digests(&chain, fulu - 1).contains(&digest(fulu)));
        assert_ne!(digest(fulu - 1), digest(fulu));
    }
}
