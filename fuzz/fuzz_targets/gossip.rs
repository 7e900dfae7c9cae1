//! Gossip messages: first byte = preset, topic kind and one of the chain's fork digests; the
//! rest = the message data (snappy block). Checks the message-id against the decompressed
//! payload, the topic round trip, the size cap, and that accepted payloads are canonical.
#![no_main]

use beacon_p2p::types::{decode_named, ssz_bounds_named, SszTypeName};
use beacon_p2p::wire::gossip::{
    decode_payload, message_id, GossipKind, GossipTopic, MESSAGE_DOMAIN_VALID_SNAPPY,
};
use beacon_p2p_fuzz::{chain, digest_periods, preset_of};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, payload)) = data.split_first() else {
        return;
    };
    let preset = preset_of(choice);
    let chain = chain(preset);
    let periods = digest_periods(preset);
    let period = periods[usize::from(choice >> 2) % periods.len()];
    let kind = GossipKind::ALL[usize::from((choice >> 1) & 1)];

    let topic = GossipTopic {
        fork_digest: period.digest,
        kind,
    }
    .to_string();
    let id = message_id(&topic, payload);
    let parsed: GossipTopic = topic.parse().expect("a topic we built parses");
    assert_eq!(parsed.fork_digest, period.digest);
    assert_eq!(parsed.kind, kind);
    let fork = chain
        .fork_for_digest(&parsed.fork_digest)
        .expect("the digest belongs to the chain");
    assert_eq!(fork, period.fork);

    // The same bytes as a topic string: the parser must not panic, and what it accepts must
    // print as a topic that parses to the same value.
    if let Ok(text) = std::str::from_utf8(payload) {
        if let Ok(topic) = text.parse::<GossipTopic>() {
            assert_eq!(topic.to_string().parse::<GossipTopic>().ok(), Some(topic));
        }
    }

    let type_name = match kind {
        GossipKind::LightClientFinalityUpdate => SszTypeName::LightClientFinalityUpdate,
        GossipKind::LightClientOptimisticUpdate => SszTypeName::LightClientOptimisticUpdate,
    };
    // Phase0 has no light-client types.
    let Ok((_, max)) = ssz_bounds_named(type_name, fork, preset) else {
        return;
    };
    let Ok(ssz) = decode_payload(payload, max) else {
        return;
    };
    assert!(ssz.len() <= max, "{} bytes decompressed past {max}", ssz.len());

    // The data decompresses, so the message-id must use the valid-snappy domain.
    let mut hasher = Sha256::new();
    hasher.update(MESSAGE_DOMAIN_VALID_SNAPPY);
    hasher.update((topic.len() as u64).to_le_bytes());
    hasher.update(topic.as_bytes());
    hasher.update(&ssz);
    assert_eq!(id[..], hasher.finalize()[..20], "message-id domain/body mismatch");

    if let Ok(decoded) = decode_named(type_name, fork, preset, &ssz) {
        assert!(
            decoded.ssz == ssz,
            "{type_name} ({fork}): re-encoding differs"
        );
    }
});
