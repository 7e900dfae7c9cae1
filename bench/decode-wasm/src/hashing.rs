//! The experiment of bench/README.md ("Profile"): what changes to beacon-p2p's
//! hashing and decoding would save, measured without touching `src/`.
//!
//! 1. `hash_pair` (two 32-byte nodes → one) through the `Digest` API, as
//!    `beacon_p2p::primitives::hash_pair` and ssz_rs do, against feeding the 64-byte block and
//!    the constant padding block straight to `sha2::compress256`.
//! 2. `hash_tree_root` of a mainnet `SyncCommittee` (512 keys; most of an update's hashing)
//!    through ssz_rs's generic `Vector` merkleization (allocates per level and per element),
//!    against one flat pass: key leaves into one buffer, then the tree in place.
//! 3. (not hashing, found by the same profile) `LightClientUpdate::ssz_bounds`, which the
//!    response reader and `from_ssz` call for every chunk, serializes a default value of the
//!    whole container (512 keys) each time to learn its fixed size.
//! 4. (same) `hash_tree_root(&self)` clones the whole object first (ssz_rs merkleizes through
//!    `&mut self`): the cost of that clone for an update.

use beacon_p2p::chain::{Fork, MAINNET_SYNC_COMMITTEE_SIZE as S};
use beacon_p2p::types::{LightClientUpdate, SyncCommittee};
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};
use ssz_rs::prelude::Merkleized;

/// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The padding block of a 64-byte message: 0x80, zeros, bit length 512 (big endian).
const PAD_64: [u8; 64] = {
    let mut block = [0u8; 64];
    block[0] = 0x80;
    block[62] = 0x02;
    block
};

/// As beacon-p2p hashes a pair today.
pub fn hash_pair_digest(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The candidate: two compressions, no buffering or padding logic.
pub fn hash_pair_compress(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    let mut state = IV;
    sha2::compress256(
        &mut state,
        &[GenericArray::from(block), GenericArray::from(PAD_64)],
    );
    let mut out = [0u8; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// `n` dependent pair hashes (each input is the previous output), so nothing is hoisted.
pub fn hash_pair_chain(n: u32, compress: bool) -> [u8; 32] {
    let mut left = [0u8; 32];
    let right = [0x5au8; 32];
    for _ in 0..n {
        left = if compress {
            hash_pair_compress(&left, &right)
        } else {
            hash_pair_digest(&left, &right)
        };
    }
    left
}

/// An electra `LightClientUpdate` from its SSZ.
pub fn decode_update(update_ssz: &[u8]) -> LightClientUpdate<S> {
    LightClientUpdate::<S>::from_ssz(Fork::Electra, update_ssz).expect("update decodes")
}

/// The sync committee of an electra `LightClientUpdate`'s SSZ.
pub fn next_sync_committee(update_ssz: &[u8]) -> SyncCommittee<S> {
    match LightClientUpdate::<S>::from_ssz(Fork::Electra, update_ssz).expect("update decodes") {
        LightClientUpdate::Electra(inner) => inner.next_sync_committee,
        _ => unreachable!(),
    }
}

/// `hash_tree_root` as beacon-p2p computes it today (ssz_rs derive + our `ByteVector`).
pub fn committee_root_ssz_rs(committee: &SyncCommittee<S>) -> [u8; 32] {
    let mut owned = committee.clone();
    let node = owned.hash_tree_root().expect("merkleizes");
    node.as_ref().try_into().expect("32 bytes")
}

/// One flat pass with `pair` as the hash: leaf of a 48-byte key = H(key[..32] ‖ key[32..] ‖ 0^16).
pub fn committee_root_flat(
    committee: &SyncCommittee<S>,
    pair: fn(&[u8; 32], &[u8; 32]) -> [u8; 32],
) -> [u8; 32] {
    fn key_leaf(key: &[u8; 48], pair: fn(&[u8; 32], &[u8; 32]) -> [u8; 32]) -> [u8; 32] {
        let mut low = [0u8; 32];
        let mut high = [0u8; 32];
        low.copy_from_slice(&key[..32]);
        high[..16].copy_from_slice(&key[32..]);
        pair(&low, &high)
    }
    let mut layer: Vec<[u8; 32]> = committee
        .pubkeys
        .iter()
        .map(|key| key_leaf(&key.0, pair))
        .collect();
    let mut width = layer.len();
    while width > 1 {
        for index in 0..width / 2 {
            layer[index] = pair(&layer[2 * index], &layer[2 * index + 1]);
        }
        width /= 2;
    }
    pair(&layer[0], &key_leaf(&committee.aggregate_pubkey.0, pair))
}

/// One call of `LightClientUpdate::ssz_bounds(Electra)` (made twice per response chunk today).
pub fn update_bounds() -> (usize, usize) {
    LightClientUpdate::<S>::ssz_bounds(Fork::Electra).expect("electra has updates")
}
