//! Gossipsub as the consensus p2p spec sets it up (anonymous messages, the spec's message-id,
//! mesh parameters, 10 MiB messages), and validation of light-client gossip before it is
//! forwarded: REJECT what is malformed, IGNORE what is not newer than what we forwarded.

use std::time::Duration;

use libp2p::gossipsub::{self, MessageAcceptance, MessageId, ValidationMode};

use crate::chain::ChainConfig;
use crate::types::{LightClientKind, LightClientObject};
use crate::wire::gossip::{decode_payload, message_id, GossipKind, GossipTopic};
use crate::wire::MAX_PAYLOAD_SIZE;

/// The gossipsub configuration of the consensus p2p spec (phase0 "Topics and messages").
pub fn config() -> Result<gossipsub::Config, String> {
    gossipsub::ConfigBuilder::default()
        .mesh_n(8)
        .mesh_n_low(6)
        .mesh_n_high(12)
        .gossip_lazy(6)
        .heartbeat_interval(Duration::from_millis(700))
        .fanout_ttl(Duration::from_secs(60))
        .history_length(6)
        .history_gossip(3)
        // seen_ttl: 550 heartbeats of 0.7 s.
        .duplicate_cache_time(Duration::from_millis(550 * 700))
        .max_transmit_size(MAX_PAYLOAD_SIZE)
        .validation_mode(ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(|message: &gossipsub::Message| {
            MessageId::from(message_id(message.topic.as_str(), &message.data).to_vec())
        })
        .build()
        .map_err(|error| error.to_string())
}

/// Light-client gossip validation state: the newest update forwarded of each kind.
#[derive(Debug, Default)]
pub struct GossipValidator {
    /// (finalized slot, supermajority) of the newest finality update forwarded.
    finality: Option<(u64, bool)>,
    /// Attested slot of the newest optimistic update forwarded.
    optimistic: Option<u64>,
}

/// What validation decided, and the object when it is accepted.
pub struct Validation {
    /// Forward, ignore or reject.
    pub acceptance: MessageAcceptance,
    /// The decoded object, when accepted.
    pub object: Option<LightClientObject>,
    /// Why it was not accepted.
    pub reason: Option<String>,
}

impl GossipValidator {
    /// Validates a message on `topic` (a light-client topic of `chain`).
    pub fn validate(&mut self, chain: &ChainConfig, topic: &str, data: &[u8]) -> Validation {
        self.validate_with(chain, topic, data, |_| None)
    }

    /// [`GossipValidator::validate`], with a further check of the decoded object before it can
    /// count as the newest forwarded: `verify` returns the acceptance and reason for an object
    /// it refuses (the light-client store's verdict), `None` to let it through.
    pub fn validate_with(
        &mut self,
        chain: &ChainConfig,
        topic: &str,
        data: &[u8],
        verify: impl FnOnce(&LightClientObject) -> Option<(MessageAcceptance, String)>,
    ) -> Validation {
        let object = match decode(chain, topic, data) {
            Ok(object) => object,
            Err(reason) => {
                return Validation {
                    acceptance: MessageAcceptance::Reject,
                    object: None,
                    reason: Some(reason),
                }
            }
        };
        // Verified before it may move "the newest forwarded" on: a forged update must not make
        // the honest ones that follow look old.
        if let Some((acceptance, reason)) = verify(&object) {
            return Validation {
                acceptance,
                object: None,
                reason: Some(reason),
            };
        }
        if self.is_newer(chain, &object) {
            Validation {
                acceptance: MessageAcceptance::Accept,
                object: Some(object),
                reason: None,
            }
        } else {
            Validation {
                acceptance: MessageAcceptance::Ignore,
                object: None,
                reason: Some("not newer than an update already forwarded".into()),
            }
        }
    }

    /// Whether `object` is newer than the newest forwarded of its kind; if so, it becomes that.
    fn is_newer(&mut self, chain: &ChainConfig, object: &LightClientObject) -> bool {
        match object.kind {
            LightClientKind::FinalityUpdate => {
                let finalized = object.finalized_slot.unwrap_or_default();
                let supermajority = object.participation.unwrap_or_default() * 3
                    > chain.preset.sync_committee_size() * 2;
                let newer = match self.finality {
                    None => true,
                    Some((slot, had_supermajority)) => {
                        finalized > slot
                            || (finalized == slot && supermajority && !had_supermajority)
                    }
                };
                if newer {
                    self.finality = Some((finalized, supermajority));
                }
                newer
            }
            _ => {
                let newer = self.optimistic.is_none_or(|slot| object.slot > slot);
                if newer {
                    self.optimistic = Some(object.slot);
                }
                newer
            }
        }
    }
}

/// Decodes a message on a light-client `topic` of `chain`; `Err` says why it is malformed.
fn decode(chain: &ChainConfig, topic: &str, data: &[u8]) -> Result<LightClientObject, String> {
    let Ok(topic) = topic.parse::<GossipTopic>() else {
        return Err(format!("not a light-client topic: {topic}"));
    };
    let Some(fork) = chain
        .fork_for_digest(&topic.fork_digest)
        .filter(|fork| fork.has_light_client())
    else {
        return Err(format!("topic digest {} is not ours", topic.fork_digest));
    };
    let kind = match topic.kind {
        GossipKind::LightClientFinalityUpdate => LightClientKind::FinalityUpdate,
        GossipKind::LightClientOptimisticUpdate => LightClientKind::OptimisticUpdate,
    };
    let object = crate::types::ssz_bounds_named(
        kind.type_name()
            .parse()
            .expect("light-client type names parse"),
        fork,
        chain.preset,
    )
    .map_err(|error| error.to_string())
    .and_then(|(_, max)| decode_payload(data, max).map_err(|error| error.to_string()))
    .and_then(|ssz| {
        LightClientObject::decode(kind, fork, chain.preset, &ssz).map_err(|e| e.to_string())
    })?;
    // The object's own slot must belong to the topic's digest.
    if chain.fork_digest_at_slot(object.slot) != topic.fork_digest {
        return Err(format!(
            "attested slot {} belongs to another fork digest than the topic's",
            object.slot
        ));
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Network;
    use crate::primitives::Root;

    fn vector(name: &str, file: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/data/vectors/public/gossip/{name}/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn accepts_new_ignores_old_rejects_malformed() {
        let mut chain = Network::Mainnet.config();
        chain.genesis_validators_root =
            Root::from_hex("0x68c1cd5973bb2a2935284a423a75453d211452b3ff1e3606f2632c8f575196d6")
                .unwrap();
        let name = "light_client_finality_update_electra_random_ok";
        let topic = "/eth2/a18a22b5/light_client_finality_update/ssz_snappy";
        let data = vector(name, "message_data.bin");
        let mut validator = GossipValidator::default();

        let first = validator.validate(&chain, topic, &data);
        assert!(matches!(first.acceptance, MessageAcceptance::Accept));
        assert!(first.object.is_some());
        // The same update again is not newer: ignored, not forwarded, not punished.
        let again = validator.validate(&chain, topic, &data);
        assert!(matches!(again.acceptance, MessageAcceptance::Ignore));
        // Not snappy, or not the type: rejected.
        let garbage = validator.validate(
            &chain,
            topic,
            &vector("invalid_not_snappy", "message_data.bin"),
        );
        assert!(matches!(garbage.acceptance, MessageAcceptance::Reject));
        let truncated = validator.validate(&chain, topic, &data[..data.len() / 2]);
        assert!(matches!(truncated.acceptance, MessageAcceptance::Reject));
        // The right bytes on another fork's topic: rejected.
        let wrong = validator.validate(
            &chain,
            "/eth2/cbf435bb/light_client_finality_update/ssz_snappy",
            &data,
        );
        assert!(
            matches!(wrong.acceptance, MessageAcceptance::Reject),
            "{:?}",
            wrong.reason
        );
        let foreign = validator.validate(
            &chain,
            "/eth2/00000000/light_client_finality_update/ssz_snappy",
            &data,
        );
        assert!(matches!(foreign.acceptance, MessageAcceptance::Reject));
    }
}
