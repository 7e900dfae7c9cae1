//! # beacon-p2p
//!
//! Ethereum consensus-layer light-client data — bootstraps, updates, finality and optimistic
//! updates — straight from beacon-chain peers over libp2p, in the browser (wasm32) and natively.
//!
//! Layers, each importing only the ones below it:
//!
//! | layer | module | owns |
//! |---|---|---|
//! | entry points | `bin/`, [`js`] (wasm32), `bridge` (native) | CLI, the JS promise API, relay + discovery + HTTP |
//! | client | [`client`] | the public API: `Client`, its config and events |
//! | sources | [`node`], [`rpc`] | peers: libp2p swarm, behaviour, peer manager, request scheduler; Beacon-API sources (`rpc` takes the node's request type) |
//! | verify | [`verify`] | the light-client sync protocol: store, Merkle proofs, BLS; pure, no I/O |
//! | wire | [`wire`] | req/resp `ssz_snappy` framing, gossip snappy and message-ids, protocol ids, limits |
//! | types | [`types`] | SSZ containers per fork and preset, p2p messages, Beacon-API JSON |
//! | chain | [`chain`] | networks, presets, fork schedule incl. BPO, fork digests |
//! | primitives | [`primitives`] | byte vectors, roots, `uint256`, JSON conventions |

#[cfg(not(target_arch = "wasm32"))]
pub mod bridge;
pub mod chain;
pub mod client;
#[cfg(target_arch = "wasm32")]
pub mod js;
pub mod node;
mod platform;
pub mod primitives;
pub mod rpc;
pub mod types;
pub mod verify;
pub mod wire;
