//! Gossipsub encoding of the light-client topics: topic strings, snappy *block* payloads and the
//! Altair message-id.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::protocol::MAX_PAYLOAD_SIZE;
use super::snappy::{decode_block, encode_block};
use super::WireError;
use crate::primitives::ForkDigest;

/// `MESSAGE_DOMAIN_VALID_SNAPPY`.
pub const MESSAGE_DOMAIN_VALID_SNAPPY: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
/// `MESSAGE_DOMAIN_INVALID_SNAPPY`.
pub const MESSAGE_DOMAIN_INVALID_SNAPPY: [u8; 4] = [0x00, 0x00, 0x00, 0x00];

/// The gossip topics a light client follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GossipKind {
    /// `light_client_finality_update`.
    LightClientFinalityUpdate,
    /// `light_client_optimistic_update`.
    LightClientOptimisticUpdate,
}

impl GossipKind {
    /// Both kinds.
    pub const ALL: [GossipKind; 2] = [
        GossipKind::LightClientFinalityUpdate,
        GossipKind::LightClientOptimisticUpdate,
    ];

    /// The topic name.
    pub fn name(self) -> &'static str {
        match self {
            GossipKind::LightClientFinalityUpdate => "light_client_finality_update",
            GossipKind::LightClientOptimisticUpdate => "light_client_optimistic_update",
        }
    }
}

/// A topic `/eth2/<fork digest>/<name>/ssz_snappy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GossipTopic {
    /// Digest of the fork the messages belong to.
    pub fork_digest: ForkDigest,
    /// Which topic.
    pub kind: GossipKind,
}

impl fmt::Display for GossipTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/eth2/{}/{}/ssz_snappy",
            hex::encode(self.fork_digest.0),
            self.kind.name()
        )
    }
}

impl FromStr for GossipTopic {
    type Err = WireError;

    fn from_str(topic: &str) -> Result<Self, Self::Err> {
        let invalid = |detail: &str| WireError::Topic {
            topic: topic.chars().take(200).collect(),
            detail: detail.to_string(),
        };
        let parts: Vec<&str> = topic.split('/').collect();
        let [empty, "eth2", digest, name, encoding] = parts.as_slice() else {
            return Err(invalid("expected /eth2/<fork digest>/<name>/ssz_snappy"));
        };
        if !empty.is_empty() {
            return Err(invalid("must start with /"));
        }
        if *encoding != "ssz_snappy" {
            return Err(invalid("encoding must be ssz_snappy"));
        }
        let fork_digest = (digest.len() == 8)
            .then(|| ForkDigest::from_hex(digest).ok())
            .flatten()
            .ok_or_else(|| invalid("fork digest must be 8 hex digits"))?;
        let kind = GossipKind::ALL
            .into_iter()
            .find(|kind| kind.name() == *name)
            .ok_or_else(|| invalid("not a light-client topic"))?;
        Ok(GossipTopic { fork_digest, kind })
    }
}

/// The Altair message-id: `sha256(domain ‖ uint64_le(len(topic)) ‖ topic ‖ data)[:20]`, with the
/// valid-snappy domain over the decompressed data, or the invalid domain over the raw data when
/// it does not decompress (within `MAX_PAYLOAD_SIZE`).
pub fn message_id(topic: &str, data: &[u8]) -> [u8; 20] {
    let mut hasher = Sha256::new();
    let decompressed = decode_block(data, MAX_PAYLOAD_SIZE);
    let (domain, body) = match &decompressed {
        Ok(payload) => (MESSAGE_DOMAIN_VALID_SNAPPY, payload.as_slice()),
        Err(_) => (MESSAGE_DOMAIN_INVALID_SNAPPY, data),
    };
    hasher.update(domain);
    // The topic length is a uint64 on every target (usize is 4 bytes on wasm32).
    hasher.update((topic.len() as u64).to_le_bytes());
    hasher.update(topic.as_bytes());
    hasher.update(body);
    let digest = hasher.finalize();
    let mut id = [0u8; 20];
    id.copy_from_slice(&digest[..20]);
    id
}

/// Compresses an SSZ payload for publishing.
pub fn encode_payload(ssz: &[u8]) -> Vec<u8> {
    encode_block(ssz)
}

/// Decompresses a gossip message's data, refusing payloads longer than `max_len` (the SSZ
/// type's largest encoding) before allocating.
pub fn decode_payload(data: &[u8], max_len: usize) -> Result<Vec<u8>, WireError> {
    decode_block(data, max_len.min(MAX_PAYLOAD_SIZE))
}
