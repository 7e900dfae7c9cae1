//! Conformance against data nobody on this project wrote: the consensus-spec-tests `ssz_static`
//! light-client cases and the public vectors (types, req/resp streams, gossip, fork digests).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;

use beacon_p2p::chain::{Fork, Preset};
use beacon_p2p::primitives::{ForkDigest, Root};
use beacon_p2p::types::{decode_named, ssz_bounds_named, SszTypeName, TypeError};
use beacon_p2p::wire::{
    self, encode_response_chunk, gossip, read_request, GossipTopic, Protocol, ResponseReader,
    ResultCode, WireError,
};
use common::*;
use futures::executor::block_on;
use serde_json::Value;

/// Decodes one `ssz_static` case and checks root, re-encoding and the JSON view.
fn check_static_case(
    dir: &Path,
    type_name: SszTypeName,
    fork: Fork,
    preset: Preset,
    ssz: &[u8],
    root: Root,
) {
    let decoded = decode_named(type_name, fork, preset, ssz)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    assert_eq!(decoded.root, root, "{}: hash_tree_root", dir.display());
    assert_eq!(decoded.ssz, ssz, "{}: re-encoding", dir.display());
    let expected = yaml_to_beacon_json(&read_yaml(&dir.join("value.yaml")));
    let data = if type_name.is_light_client() {
        assert_eq!(
            decoded.json["version"],
            fork.name(),
            "{}: version",
            dir.display()
        );
        &decoded.json["data"]
    } else {
        &decoded.json
    };
    assert_eq!(data, &expected, "{}: Beacon-API JSON", dir.display());
}

#[test]
fn spec_tests_ssz_static_light_client() {
    let root = data_dir().join("vectors/spec-tests");
    let cases = case_dirs(&root);
    assert_eq!(
        cases.len(),
        3840,
        "every consensus-spec-tests case is present"
    );
    for dir in &cases {
        // <preset>/<fork>/ssz_static/<Type>/<suite>/case_N
        let parts: Vec<&str> = dir
            .strip_prefix(&root)
            .unwrap()
            .iter()
            .map(|p| p.to_str().unwrap())
            .collect();
        let preset: Preset = parts[0].parse().unwrap();
        let fork: Fork = parts[1].parse().unwrap();
        let type_name: SszTypeName = parts[3].parse().unwrap();
        let compressed = read(&dir.join("serialized.ssz_snappy"));
        let ssz = snap::raw::Decoder::new()
            .decompress_vec(&compressed)
            .unwrap();
        check_static_case(
            dir,
            type_name,
            fork,
            preset,
            &ssz,
            root_from_yaml(&dir.join("roots.yaml")),
        );

        // JSON → value → JSON and SSZ agree too.
        if type_name == SszTypeName::LightClientUpdate {
            let decoded = decode_named(type_name, fork, preset, &ssz).unwrap();
            beacon_p2p::with_preset!(preset, S => {
                let value = beacon_p2p::types::LightClientUpdate::<S>::from_beacon_api_json(&decoded.json)
                    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
                assert_eq!(value.to_ssz(), ssz, "{}: JSON round trip", dir.display());
            });
        }
    }
}

#[test]
fn public_ssz_static_types() {
    let manifest = read_json(&public_dir().join("manifest.json"));
    let index = manifest["index"]["ssz_static"].as_array().unwrap();
    assert_eq!(index.len(), 420);
    for entry in index {
        let dir = public_dir().join(entry.as_str().unwrap());
        let meta = read_json(&dir.join("meta.json"));
        let type_name: SszTypeName = meta["type"].as_str().unwrap().parse().unwrap();
        let fork: Fork = meta["fork"].as_str().unwrap().parse().unwrap();
        let preset = match meta["preset"].as_str().unwrap() {
            "general" => Preset::Mainnet,
            other => other.parse().unwrap(),
        };
        let ssz = read(&dir.join("serialized.ssz"));
        let root = Root::from_hex(meta["hash_tree_root"].as_str().unwrap()).unwrap();
        check_static_case(&dir, type_name, fork, preset, &ssz, root);
        let bounds = ssz_bounds_named(type_name, fork, preset).unwrap();
        assert_eq!(
            bounds,
            (
                meta["min_length"].as_u64().unwrap() as usize,
                meta["max_length"].as_u64().unwrap() as usize
            ),
            "{}: SSZ bounds",
            dir.display()
        );
    }
}

#[test]
fn public_ssz_invalid_is_rejected() {
    let dir = public_dir().join("ssz_invalid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let case = entry.unwrap().path();
        let meta = read_json(&case.join("case.json"));
        let type_name: SszTypeName = meta["type"].as_str().unwrap().parse().unwrap();
        let fork: Fork = meta["fork"].as_str().unwrap().parse().unwrap();
        let preset: Preset = meta["preset"].as_str().unwrap().parse().unwrap();
        let error = decode_named(type_name, fork, preset, &read(&case.join("serialized.ssz")))
            .expect_err(&case.display().to_string());
        assert!(
            matches!(error, TypeError::Length { .. } | TypeError::Decode { .. }),
            "{}: {error}",
            case.display()
        );
        checked += 1;
    }
    assert_eq!(checked, 2);
}

/// Every hand-written corruption of a valid stream is rejected as well.
#[test]
fn corrupted_streams_are_rejected() {
    let case = public_dir().join("reqresp/lc_finality_deneb_random_ok");
    let meta = read_json(&case.join("case.json"));
    let chain = vectors_chain(meta["genesis_validators_root"].as_str().unwrap());
    let stream = read(&case.join("stream.bin"));
    let decode = |bytes: &[u8]| {
        block_on(
            ResponseReader::new(bytes, Protocol::LightClientFinalityUpdate, &chain, 1).read_all(),
        )
    };
    assert_eq!(decode(&stream).unwrap().len(), 1);
    // Every truncation fails (except at a chunk boundary: 0 bytes is an empty response).
    for cut in 1..stream.len() {
        assert!(decode(&stream[..cut]).is_err(), "truncated at {cut}");
    }
    // A trailing byte after a single-chunk response.
    let mut extra = stream.clone();
    extra.push(0);
    assert!(matches!(
        decode(&extra),
        Err(WireError::TrailingBytes { .. })
    ));
    // Unknown context bytes.
    let mut wrong = stream.clone();
    wrong[1] ^= 0xff;
    assert!(matches!(
        decode(&wrong),
        Err(WireError::UnknownContext { offset: 1, .. })
    ));
    // Context bytes of another fork select another type whose bounds the length misses.
    let mut other_fork = stream.clone();
    other_fork[1..5].copy_from_slice(
        &chain
            .fork_digest(chain.activation(Fork::Altair).unwrap().epoch)
            .0,
    );
    assert!(decode(&other_fork).is_err());
    // A length prefix over the type's maximum is refused before any frame is read.
    let mut oversize = vec![0u8];
    oversize.extend_from_slice(&stream[1..5]);
    wire::varint::encode(9_000_000, &mut oversize);
    assert!(matches!(
        decode(&oversize),
        Err(WireError::LengthOutOfBounds { offset: 5, .. })
    ));
}

fn protocol_of(meta: &Value) -> Protocol {
    meta["protocol_id"].as_str().unwrap().parse().unwrap()
}

#[test]
fn public_reqresp_streams() {
    let dir = public_dir().join("reqresp");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 89);
    for case in cases {
        let meta = read_json(&case.join("case.json"));
        let name = case.display().to_string();
        let protocol = protocol_of(&meta);
        let preset: Preset = meta["preset"].as_str().unwrap().parse().unwrap();
        let chain = vectors_chain(meta["genesis_validators_root"].as_str().unwrap());
        let stream = read(&case.join(meta["input_file"].as_str().unwrap()));
        let ok = meta["expected"] == "ok";
        let expected_chunks = meta["chunks"].as_array().unwrap();

        if meta["direction"] == "request" {
            let result = block_on(read_request(stream.as_slice(), protocol));
            assert_eq!(result.is_ok(), ok, "{name}: {result:?}");
            let payload = result.unwrap();
            let chunk = &expected_chunks[0];
            assert_eq!(
                payload,
                read(&case.join(chunk["ssz_file"].as_str().unwrap())),
                "{name}"
            );
            let type_name: SszTypeName = chunk["ssz_type"].as_str().unwrap().parse().unwrap();
            let decoded = decode_named(type_name, Fork::Phase0, preset, &payload).unwrap();
            assert_eq!(
                decoded.root.to_hex(),
                chunk["hash_tree_root"].as_str().unwrap(),
                "{name}"
            );
            // Our encoder's output reads back to the same payload.
            let again = block_on(read_request(
                wire::encode_request(&payload).as_slice(),
                protocol,
            ))
            .unwrap();
            assert_eq!(again, payload, "{name}: encoder round trip");
            continue;
        }

        let result =
            block_on(ResponseReader::new(stream.as_slice(), protocol, &chain, 128).read_all());
        if !ok {
            assert!(result.is_err(), "{name}: must be rejected, got {result:?}");
            continue;
        }
        let chunks = result.unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(chunks.len(), expected_chunks.len(), "{name}: chunk count");
        let mut reencoded = Vec::new();
        for (chunk, expected) in chunks.iter().zip(expected_chunks) {
            assert_eq!(
                chunk.result.byte() as u64,
                expected["result"].as_u64().unwrap(),
                "{name}"
            );
            let context = expected["context_bytes"]
                .as_str()
                .map(|hex| ForkDigest::from_hex(hex).unwrap());
            assert_eq!(chunk.context, context, "{name}: context bytes");
            assert_eq!(
                chunk.payload,
                read(&case.join(expected["ssz_file"].as_str().unwrap())),
                "{name}: payload"
            );
            let type_name: SszTypeName = expected["ssz_type"].as_str().unwrap().parse().unwrap();
            let fork = match expected["fork"].as_str() {
                Some(fork) => {
                    let fork: Fork = fork.parse().unwrap();
                    assert_eq!(chunk.fork, Some(fork), "{name}: fork from context bytes");
                    fork
                }
                None => Fork::Phase0,
            };
            let decoded = decode_named(type_name, fork, preset, &chunk.payload).unwrap();
            assert_eq!(
                decoded.root.to_hex(),
                expected["hash_tree_root"].as_str().unwrap(),
                "{name}: root"
            );
            if let Some(message) = expected["error_message_utf8"].as_str() {
                assert_eq!(chunk.error_message().as_deref(), Some(message), "{name}");
            }
            reencoded.extend(encode_response_chunk(
                chunk.result,
                chunk.context,
                &chunk.payload,
            ));
        }
        // Our encoder's stream decodes to the same chunks (compressed bytes may differ).
        let again =
            block_on(ResponseReader::new(reencoded.as_slice(), protocol, &chain, 128).read_all())
                .unwrap();
        assert_eq!(again, chunks, "{name}: encoder round trip");
        if chunks.len() == 1 && chunks[0].result == ResultCode::Success {
            // Headers (result, context, varint) match byte for byte.
            let header = 1 + if chunks[0].context.is_some() { 4 } else { 0 };
            let mut varint = Vec::new();
            wire::varint::encode(chunks[0].payload.len() as u64, &mut varint);
            assert_eq!(
                reencoded[..header + varint.len()],
                stream[..header + varint.len()],
                "{name}: header"
            );
        }
    }
}

#[test]
fn public_gossip_messages() {
    let dir = public_dir().join("gossip");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let case = entry.unwrap().path();
        let name = case.display().to_string();
        let meta = read_json(&case.join("case.json"));
        let topic_text = meta["topic"].as_str().unwrap();
        let data = read(&case.join(meta["data_file"].as_str().unwrap()));
        let chain = vectors_chain(meta["genesis_validators_root"].as_str().unwrap());
        if let Some(id) = meta["message_id"].as_str() {
            assert_eq!(
                format!("0x{}", hex::encode(gossip::message_id(topic_text, &data))),
                id,
                "{name}: message-id"
            );
        }
        let topic: GossipTopic = topic_text.parse().unwrap();
        assert_eq!(topic.to_string(), topic_text);
        let fork: Fork = meta["fork"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            chain.fork_for_digest(&topic.fork_digest),
            Some(fork),
            "{name}: topic digest"
        );
        let type_name: SszTypeName = meta["ssz_type"].as_str().unwrap().parse().unwrap();
        let (_, max) = ssz_bounds_named(type_name, fork, chain.preset).unwrap();
        let decoded = gossip::decode_payload(&data, max)
            .map_err(|e| e.to_string())
            .and_then(|payload| {
                decode_named(type_name, fork, chain.preset, &payload).map_err(|e| e.to_string())
            });
        if meta["expected"] == "ok" {
            let decoded = decoded.unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(decoded.ssz, read(&case.join("payload.ssz")), "{name}");
            assert_eq!(
                decoded.root.to_hex(),
                meta["hash_tree_root"].as_str().unwrap(),
                "{name}"
            );
            // Our compressor's output decodes to the same payload and has the same message-id.
            let ours = gossip::encode_payload(&decoded.ssz);
            assert_eq!(gossip::decode_payload(&ours, max).unwrap(), decoded.ssz);
            assert_eq!(
                gossip::message_id(topic_text, &ours),
                gossip::message_id(topic_text, &data)
            );
        } else {
            assert!(decoded.is_err(), "{name}: must be rejected");
        }
        checked += 1;
    }
    assert_eq!(checked, 33);
}

#[test]
fn fork_digest_known_answers() {
    let table = read_json(&public_dir().join("fork_digests.json"));
    for set in [&table, &table["known_answer_mainnet_gvr"]] {
        let chain = vectors_chain(set["genesis_validators_root"].as_str().unwrap());
        for entry in set["entries"].as_array().unwrap() {
            let epoch = entry["epoch"].as_u64().unwrap();
            let label = entry["label"].as_str().unwrap();
            let fork: Fork = entry["fork"].as_str().unwrap().parse().unwrap();
            assert_eq!(chain.fork_at_epoch(epoch), fork, "{label}");
            let digest = chain.fork_digest(epoch);
            assert_eq!(
                digest.to_hex(),
                entry["fork_digest"].as_str().unwrap(),
                "{label} digest"
            );
            assert_eq!(
                chain.fork_for_digest(&digest),
                Some(fork),
                "{label} reverse look-up"
            );
            let data_root = beacon_p2p::chain::compute_fork_data_root(
                &chain.activation(fork).unwrap().version,
                &chain.genesis_validators_root,
            );
            assert_eq!(
                data_root.to_hex(),
                entry["fork_data_root"].as_str().unwrap(),
                "{label}"
            );
            if let Some(blob) = entry.get("blob_parameters") {
                let params = chain.blob_parameters(epoch);
                assert_eq!(params.epoch, blob["epoch"].as_u64().unwrap(), "{label}");
                assert_eq!(
                    params.max_blobs_per_block,
                    blob["max_blobs_per_block"].as_u64().unwrap(),
                    "{label}"
                );
            }
        }
    }
}
