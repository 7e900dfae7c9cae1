//! Native side of `bench/parts/decode.sh`.
//!
//! ```text
//! bench-decode inputs DIR [--gossip N]             write the shared inputs + expected roots
//! bench-decode run DIR [--reps R] [--warmup W]     time both workloads, print JSON
//! bench-decode profile DIR updates|gossip ITERS    run one workload ITERS times (for callgrind)
//! bench-decode hashing DIR [--reps R]              the hashing experiment (src/hashing.rs), JSON
//! ```
//!
//! Inputs (same bytes for every implementation):
//! - `updates_stream.bin`: one 128-chunk `light_client_updates_by_range` response, mainnet
//!   preset, electra context bytes of mainnet, cycling the three electra `LightClientUpdate`
//!   `ssz_random` vectors (as `benches/decode.rs` does);
//! - `gossip.bin`: N gossip `light_client_finality_update` messages (`u32 LE length ‖ data`,
//!   data = snappy block), cycling 14 electra-layout vectors: the 8 electra/fulu gossip vectors'
//!   `message_data.bin` as recorded, and the 6 electra/fulu `ssz_random` `LightClientFinalityUpdate`
//!   payloads compressed with our encoder;
//! - `expected.json`: the root of every chunk/message;
//! - `first_update.ssz`: the first update of the stream, for the hashing experiment.
//!
//! The `ssz_random` vectors fill every uint64 (slots, proposer index, block number, gas,
//! timestamps) with values up to 2^64, which real chains never reach and which Lodestar's
//! types hold as JavaScript numbers (exact only below 2^53): Lodestar then hashes a different
//! value and returns another root. So each payload is first checked against its vector's root
//! (the consensus spec's `hash_tree_root`), then every uint64 field is reduced modulo 2^32 (a
//! realistic magnitude, bytes otherwise unchanged) and re-encoded; the expected root of a
//! changed payload is ours, and decode.sh checks that both Lodestar versions and the wasm build
//! agree with it. Payloads whose uint64s are already below 2^32 (the `sparse` gossip vectors)
//! keep their recorded bytes and the vector's root.

use std::path::{Path, PathBuf};
use std::time::Instant;

use beacon_p2p::chain::{Fork, MAINNET_SYNC_COMMITTEE_SIZE as S};
use beacon_p2p::types::containers::deneb::LightClientHeader;
use beacon_p2p::types::{LightClientFinalityUpdate, LightClientUpdate};
use beacon_p2p::wire::gossip::{decode_payload, encode_payload};
use beacon_p2p::wire::{encode_response_chunk, ResultCode};
use beacon_p2p_bench_decode::{gossip_finality_root, mainnet, updates_stream_roots, MAX_UPDATES};
use serde_json::{json, Value};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/vectors/public")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(root: &[u8]) -> String {
    let mut out = String::from("0x");
    for byte in root {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn flag(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .map(|i| args[i + 1].parse().expect("a number"))
        .unwrap_or(default)
}

/// Reduces a uint64 to a realistic magnitude; returns whether it changed.
fn realistic(value: &mut u64) -> bool {
    let old = *value;
    *value %= 1 << 32;
    old != *value
}

fn realistic_header(header: &mut LightClientHeader) -> bool {
    let e = &mut header.execution;
    [
        &mut header.beacon.slot,
        &mut header.beacon.proposer_index,
        &mut e.block_number,
        &mut e.gas_limit,
        &mut e.gas_used,
        &mut e.timestamp,
        &mut e.blob_gas_used,
        &mut e.excess_blob_gas,
    ]
    .into_iter()
    .fold(false, |changed, field| realistic(field) | changed)
}

/// An electra-layout `LightClientUpdate` vector, checked against its spec root, with realistic
/// uint64s: (SSZ, expected root, whether it changed).
fn realistic_update(ssz: &[u8], spec_root: &str) -> (Vec<u8>, String, bool) {
    let update = LightClientUpdate::<S>::from_ssz(Fork::Electra, ssz).expect("vector decodes");
    assert_eq!(hex(&update.hash_tree_root().0), spec_root, "vector root");
    let LightClientUpdate::Electra(mut inner) = update else {
        unreachable!()
    };
    let mut changed = realistic_header(&mut inner.attested_header);
    changed |= realistic_header(&mut inner.finalized_header);
    changed |= realistic(&mut inner.signature_slot);
    let update = LightClientUpdate::<S>::Electra(inner);
    let root = if changed {
        hex(&update.hash_tree_root().0)
    } else {
        spec_root.to_string()
    };
    (update.to_ssz(), root, changed)
}

/// The same for a `LightClientFinalityUpdate`.
fn realistic_finality(ssz: &[u8], spec_root: &str) -> (Vec<u8>, String, bool) {
    let update =
        LightClientFinalityUpdate::<S>::from_ssz(Fork::Electra, ssz).expect("vector decodes");
    assert_eq!(hex(&update.hash_tree_root().0), spec_root, "vector root");
    let LightClientFinalityUpdate::Electra(mut inner) = update else {
        unreachable!()
    };
    let mut changed = realistic_header(&mut inner.attested_header);
    changed |= realistic_header(&mut inner.finalized_header);
    changed |= realistic(&mut inner.signature_slot);
    let update = LightClientFinalityUpdate::<S>::Electra(inner);
    let root = if changed {
        hex(&update.hash_tree_root().0)
    } else {
        spec_root.to_string()
    };
    (update.to_ssz(), root, changed)
}

fn write_inputs(dir: &Path, gossip_count: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let chain = mainnet();
    let context = chain.fork_digest(chain.activation(Fork::Electra).unwrap().epoch);

    // (a) updates_by_range stream.
    let mut stream = Vec::new();
    let mut update_roots = Vec::new();
    let cases: Vec<(Vec<u8>, String)> = (0..3)
        .map(|i| {
            let case = vectors().join(format!(
                "mainnet/electra/ssz_static/LightClientUpdate/ssz_random/case_{i}"
            ));
            let meta = read_json(&case.join("meta.json"));
            let (ssz, root, _) = realistic_update(
                &read(&case.join("serialized.ssz")),
                meta["hash_tree_root"].as_str().unwrap(),
            );
            (ssz, root)
        })
        .collect();
    for index in 0..MAX_UPDATES as usize {
        let (payload, root) = &cases[index % cases.len()];
        stream.extend(encode_response_chunk(
            ResultCode::Success,
            Some(context),
            payload,
        ));
        update_roots.push(root.clone());
    }
    std::fs::write(dir.join("updates_stream.bin"), &stream).unwrap();
    std::fs::write(dir.join("first_update.ssz"), &cases[0].0).unwrap();

    // (b) gossip finality updates.
    let mut sources: Vec<(Vec<u8>, String)> = Vec::new();
    for fork in ["electra", "fulu", "fulu_bpo1", "fulu_bpo2"] {
        for content in ["random", "sparse"] {
            let case = vectors().join(format!(
                "gossip/light_client_finality_update_{fork}_{content}_ok"
            ));
            let meta = read_json(&case.join("case.json"));
            assert_eq!(meta["expected"], "ok");
            let data = read(&case.join("message_data.bin"));
            let max = LightClientFinalityUpdate::<S>::ssz_bounds(Fork::Electra)
                .unwrap()
                .1;
            let ssz = decode_payload(&data, max).expect("vector decompresses");
            let (ssz, root, changed) =
                realistic_finality(&ssz, meta["hash_tree_root"].as_str().unwrap());
            sources.push((if changed { encode_payload(&ssz) } else { data }, root));
        }
    }
    for fork in ["electra", "fulu"] {
        for i in 0..3 {
            let case = vectors().join(format!(
                "mainnet/{fork}/ssz_static/LightClientFinalityUpdate/ssz_random/case_{i}"
            ));
            let meta = read_json(&case.join("meta.json"));
            let (ssz, root, _) = realistic_finality(
                &read(&case.join("serialized.ssz")),
                meta["hash_tree_root"].as_str().unwrap(),
            );
            sources.push((encode_payload(&ssz), root));
        }
    }
    let mut gossip = Vec::new();
    let mut gossip_roots = Vec::new();
    for index in 0..gossip_count {
        let (data, root) = &sources[index % sources.len()];
        gossip.extend((data.len() as u32).to_le_bytes());
        gossip.extend(data);
        gossip_roots.push(root.clone());
    }
    std::fs::write(dir.join("gossip.bin"), &gossip).unwrap();

    let expected = json!({
        "updates": { "bytes": stream.len(), "chunks": update_roots.len(), "roots": update_roots },
        "gossip": {
            "bytes": gossip.len(),
            "messages": gossip_roots.len(),
            "distinct_messages": sources.len(),
            "roots": gossip_roots,
        },
    });
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_vec_pretty(&expected).unwrap(),
    )
    .unwrap();
}

/// Splits `gossip.bin` into messages.
fn messages(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        out.push(&rest[4..4 + len]);
        rest = &rest[4 + len..];
    }
    out
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// Runs `work` `warmup` times, then `reps` timed times; returns the median and all samples (ms).
fn time<T>(warmup: usize, reps: usize, mut work: impl FnMut() -> T) -> Value {
    for _ in 0..warmup {
        std::hint::black_box(work());
    }
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(work());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let raw = samples.clone();
    json!({ "median_ms": median(&mut samples), "samples_ms": raw })
}

fn run(dir: &Path, warmup: usize, reps: usize) {
    let chain = mainnet();
    let stream = read(&dir.join("updates_stream.bin"));
    let gossip = read(&dir.join("gossip.bin"));
    let gossip = messages(&gossip);

    let update_roots: Vec<String> = updates_stream_roots(&chain, &stream)
        .unwrap()
        .iter()
        .map(|r| hex(r))
        .collect();
    let gossip_roots: Vec<String> = gossip
        .iter()
        .map(|m| hex(&gossip_finality_root(Fork::Electra, m).unwrap()))
        .collect();

    let updates = time(warmup, reps, || {
        updates_stream_roots(&chain, &stream).unwrap()
    });
    let gossip_time = time(warmup, reps, || {
        gossip
            .iter()
            .map(|m| gossip_finality_root(Fork::Electra, m).unwrap())
            .collect::<Vec<_>>()
    });
    let out = json!({
        "implementation": "beacon-p2p native",
        "updates": updates,
        "gossip": gossip_time,
        "updates_roots": update_roots,
        "gossip_roots": gossip_roots,
    });
    println!("{}", serde_json::to_string(&out).unwrap());
}

fn profile(dir: &Path, workload: &str, iters: usize) {
    let chain = mainnet();
    match workload {
        "updates" => {
            let stream = read(&dir.join("updates_stream.bin"));
            for _ in 0..iters {
                std::hint::black_box(updates_stream_roots(&chain, &stream).unwrap());
            }
        }
        "gossip" => {
            let gossip = read(&dir.join("gossip.bin"));
            for _ in 0..iters {
                for message in messages(&gossip) {
                    std::hint::black_box(gossip_finality_root(Fork::Electra, message).unwrap());
                }
            }
        }
        other => panic!("unknown workload {other}"),
    }
}

/// Times `cases` round-robin (case 1, 2, …, then again) so that load changes on a shared
/// machine hit every case alike: `reps` rounds, each timing `batch` calls of every case after
/// one untimed batch. Returns per case the median ns per call and the median, over rounds, of
/// its time relative to the first case.
fn compare(reps: usize, batch: u32, cases: &mut [(&str, &mut dyn FnMut())]) -> Value {
    for (_, work) in cases.iter_mut() {
        for _ in 0..batch {
            work();
        }
    }
    let mut samples = vec![Vec::new(); cases.len()];
    for _ in 0..reps {
        for (index, (_, work)) in cases.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..batch {
                work();
            }
            samples[index].push(start.elapsed().as_secs_f64() * 1e9 / batch as f64);
        }
    }
    let mut out = serde_json::Map::new();
    for (index, (name, _)) in cases.iter().enumerate() {
        let mut ratios: Vec<f64> = samples[index]
            .iter()
            .zip(&samples[0])
            .map(|(x, base)| x / base)
            .collect();
        out.insert(
            name.to_string(),
            json!({ "median_ns": median(&mut samples[index].clone()), "vs_first": median(&mut ratios) }),
        );
    }
    Value::Object(out)
}

fn hashing_experiment(dir: &Path, reps: usize) {
    use beacon_p2p_bench_decode::hashing::*;
    // The first update of the stream (after the uint64 reduction); every update of the workload
    // hashes a committee like it.
    let committee = next_sync_committee(&read(&dir.join("first_update.ssz")));
    let update = decode_update(&read(&dir.join("first_update.ssz")));
    let today = committee_root_ssz_rs(&committee);
    assert_eq!(
        today,
        committee_root_flat(&committee, hash_pair_digest),
        "flat root"
    );
    assert_eq!(
        today,
        committee_root_flat(&committee, hash_pair_compress),
        "compress root"
    );
    assert_eq!(
        hash_pair_chain(1000, false),
        hash_pair_chain(1000, true),
        "pair hash"
    );
    let out = json!({
        "implementation": "native",
        "hash_pair": compare(reps, 1, &mut [
            ("digest_api", &mut || { std::hint::black_box(hash_pair_chain(100_000, false)); }),
            ("compress256", &mut || { std::hint::black_box(hash_pair_chain(100_000, true)); }),
        ]),
        "sync_committee_root": compare(reps, 20, &mut [
            ("ssz_rs_today", &mut || { std::hint::black_box(committee_root_ssz_rs(&committee)); }),
            ("flat_digest_api", &mut || { std::hint::black_box(committee_root_flat(&committee, hash_pair_digest)); }),
            ("flat_compress256", &mut || { std::hint::black_box(committee_root_flat(&committee, hash_pair_compress)); }),
        ]),
        "update_ssz_bounds": compare(reps, 20, &mut [
            ("ssz_bounds_electra_update", &mut || { std::hint::black_box(update_bounds()); }),
        ]),
        "update_root_and_clone": compare(reps, 20, &mut [
            ("update_hash_tree_root", &mut || { std::hint::black_box(update.hash_tree_root()); }),
            ("update_clone", &mut || { std::hint::black_box(update.clone()); }),
        ]),
        "pair_chain_length": 100_000,
        "root": hex(&today),
    });
    println!("{}", serde_json::to_string(&out).unwrap());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench-decode inputs DIR [--gossip N] | run DIR [--reps R] [--warmup W] | profile DIR updates|gossip ITERS";
    let (Some(command), Some(dir)) = (args.first(), args.get(1)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let dir = Path::new(dir);
    match command.as_str() {
        "inputs" => write_inputs(dir, flag(&args, "--gossip", 1000)),
        "run" => run(dir, flag(&args, "--warmup", 5), flag(&args, "--reps", 31)),
        "profile" => profile(dir, &args[2], args[3].parse().expect("ITERS")),
        "hashing" => hashing_experiment(dir, flag(&args, "--reps", 21)),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
