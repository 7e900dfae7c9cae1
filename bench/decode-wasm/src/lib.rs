//! The two decoding workloads of `bench/parts/decode.sh`, written once and run natively (the
//! `bench-decode` binary) and as wasm in Node (the `#[wasm_bindgen]` exports below).
//!
//! Both decode exactly what a light client receives and end with `hash_tree_root` of the whole
//! decoded object (the root the conformance vectors' `roots.yaml` holds), so that every
//! implementation does the same work and can be checked against the others.

pub mod hashing;

use beacon_p2p::chain::{ChainConfig, Fork, Network, MAINNET_SYNC_COMMITTEE_SIZE as S};
use beacon_p2p::types::{LightClientFinalityUpdate, LightClientUpdate};
use beacon_p2p::wire::gossip::decode_payload;
use beacon_p2p::wire::{Protocol, ResponseReader};
use wasm_bindgen::prelude::*;

/// Most chunks in one `light_client_updates_by_range` response.
pub const MAX_UPDATES: u64 = 128;

/// Mainnet's chain config (its fork digests name the context bytes of the stream).
pub fn mainnet() -> ChainConfig {
    Network::Mainnet.config()
}

/// Workload (a): one `light_client_updates_by_range` response stream (result byte, context
/// bytes, varint, snappy frames with CRC per chunk) → per chunk the fork from the context bytes,
/// the SSZ `LightClientUpdate` of that fork, and its `hash_tree_root`.
pub fn updates_stream_roots(chain: &ChainConfig, stream: &[u8]) -> Result<Vec<[u8; 32]>, String> {
    let chunks = futures::executor::block_on(
        ResponseReader::new(
            stream,
            Protocol::LightClientUpdatesByRange,
            chain,
            MAX_UPDATES,
        )
        .read_all(),
    )
    .map_err(|error| error.to_string())?;
    chunks
        .iter()
        .map(|chunk| {
            let fork = chunk.fork.ok_or("success chunk without context bytes")?;
            let update = LightClientUpdate::<S>::from_ssz(fork, &chunk.payload)
                .map_err(|e| e.to_string())?;
            Ok(update.hash_tree_root().0)
        })
        .collect()
}

/// Workload (b), one message: a gossip `light_client_finality_update` payload (snappy block
/// format) of `fork` → decompressed within the type's largest encoding, SSZ
/// `LightClientFinalityUpdate`, `hash_tree_root`.
pub fn gossip_finality_root(fork: Fork, data: &[u8]) -> Result<[u8; 32], String> {
    let (_, max) = LightClientFinalityUpdate::<S>::ssz_bounds(fork).map_err(|e| e.to_string())?;
    let ssz = decode_payload(data, max).map_err(|e| e.to_string())?;
    let update = LightClientFinalityUpdate::<S>::from_ssz(fork, &ssz).map_err(|e| e.to_string())?;
    Ok(update.hash_tree_root().0)
}

/// The wasm entry points. The chain config is built once, as a client does at start-up.
#[wasm_bindgen]
pub struct Decoder {
    chain: ChainConfig,
}

#[wasm_bindgen]
impl Decoder {
    /// A decoder for mainnet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Decoder {
        Decoder { chain: mainnet() }
    }

    /// Workload (a): the roots of every update in the stream, concatenated (32 bytes each).
    #[wasm_bindgen(js_name = updatesStreamRoots)]
    pub fn updates_stream_roots(&self, stream: &[u8]) -> Result<Vec<u8>, JsError> {
        let roots = updates_stream_roots(&self.chain, stream).map_err(|e| JsError::new(&e))?;
        Ok(roots.concat())
    }

    /// Workload (b), one electra gossip finality update: its root.
    #[wasm_bindgen(js_name = gossipFinalityRoot)]
    pub fn gossip_finality_root(&self, data: &[u8]) -> Result<Vec<u8>, JsError> {
        let root = gossip_finality_root(Fork::Electra, data).map_err(|e| JsError::new(&e))?;
        Ok(root.to_vec())
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

/// The hashing experiment (src/hashing.rs) in wasm: `n` dependent pair hashes.
#[wasm_bindgen(js_name = hashPairChain)]
pub fn hash_pair_chain(n: u32, compress: bool) -> Vec<u8> {
    hashing::hash_pair_chain(n, compress).to_vec()
}

/// The experiment in wasm: `LightClientUpdate::ssz_bounds(Electra)` `n` times; the upper bound.
#[wasm_bindgen(js_name = updateBounds)]
pub fn update_bounds(n: u32) -> u32 {
    (0..n)
        .map(|_| hashing::update_bounds().1 as u32)
        .max()
        .unwrap_or(0)
}

/// The hashing experiment in wasm: one update's sync committee, hashed both ways.
#[wasm_bindgen]
pub struct Committee {
    committee: beacon_p2p::types::SyncCommittee<S>,
    update: LightClientUpdate<S>,
}

#[wasm_bindgen]
impl Committee {
    /// The `next_sync_committee` of an electra `LightClientUpdate` (SSZ).
    #[wasm_bindgen(constructor)]
    pub fn new(update_ssz: &[u8]) -> Committee {
        Committee {
            committee: hashing::next_sync_committee(update_ssz),
            update: hashing::decode_update(update_ssz),
        }
    }

    /// Clones the whole update (what `hash_tree_root(&self)` does first); its signature slot.
    #[wasm_bindgen(js_name = cloneUpdate)]
    pub fn clone_update(&self) -> u32 {
        std::hint::black_box(self.update.clone()).signature_slot() as u32
    }

    /// `hash_tree_root` of the whole update, as the workload computes it.
    #[wasm_bindgen(js_name = updateRoot)]
    pub fn update_root(&self) -> Vec<u8> {
        self.update.hash_tree_root().0.to_vec()
    }

    /// `hash_tree_root` as beacon-p2p computes it today.
    #[wasm_bindgen(js_name = rootSszRs)]
    pub fn root_ssz_rs(&self) -> Vec<u8> {
        hashing::committee_root_ssz_rs(&self.committee).to_vec()
    }

    /// `hash_tree_root` in one flat pass, pairs through the `Digest` API or `compress256`.
    #[wasm_bindgen(js_name = rootFlat)]
    pub fn root_flat(&self, compress: bool) -> Vec<u8> {
        let pair = if compress {
            hashing::hash_pair_compress
        } else {
            hashing::hash_pair_digest
        };
        hashing::committee_root_flat(&self.committee, pair).to_vec()
    }
}
