//! A representative subset of every kind of conformance data, run as wasm32 inside headless
//! Chromium (`wasm-pack test --headless --chrome`): 32-bit bugs hide there (topic lengths in
//! message-ids, `usize` bounds, length mix-ins), so each kind is exercised again on that target.
#![cfg(target_arch = "wasm32")]

mod common;

use beacon_p2p::chain::{ChainConfig, Fork, Network, Preset};
use beacon_p2p::primitives::Root;
use beacon_p2p::types::{
    decode_named, ssz_bounds_named, LightClientFinalityUpdate, SignedBeaconBlock, SszTypeName,
};
use beacon_p2p::wire::{gossip, read_request, GossipTopic, Protocol, ResponseReader, WireError};
use common::yaml_to_beacon_json;
use serde_json::Value;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! data {
    ($($path:expr),+) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/", $($path),+)).as_slice()
    };
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn vectors_chain() -> ChainConfig {
    let mut chain = Network::Mainnet.config();
    chain.genesis_validators_root =
        Root::from_hex("0x68c1cd5973bb2a2935284a423a75453d211452b3ff1e3606f2632c8f575196d6")
            .unwrap();
    chain
}

/// One spec-tests case: snappy-block SSZ, roots.yaml and value.yaml.
fn check_spec_case(
    type_name: SszTypeName,
    fork: Fork,
    preset: Preset,
    snappy: &[u8],
    roots: &[u8],
    value: &[u8],
) {
    let ssz = snap::raw::Decoder::new().decompress_vec(snappy).unwrap();
    let decoded = decode_named(type_name, fork, preset, &ssz).unwrap();
    let roots: serde_yaml::Value = serde_yaml::from_slice(roots).unwrap();
    assert_eq!(decoded.root.to_hex(), roots["root"].as_str().unwrap());
    assert_eq!(decoded.ssz, ssz);
    let expected = yaml_to_beacon_json(&serde_yaml::from_slice(value).unwrap());
    let data = if type_name.is_light_client() {
        &decoded.json["data"]
    } else {
        &decoded.json
    };
    assert_eq!(data, &expected);
}

#[wasm_bindgen_test]
fn spec_tests_light_client_types() {
    check_spec_case(
        SszTypeName::LightClientUpdate,
        Fork::Electra,
        Preset::Mainnet,
        data!("vectors/spec-tests/mainnet/electra/ssz_static/LightClientUpdate/ssz_random/case_0/serialized.ssz_snappy"),
        data!("vectors/spec-tests/mainnet/electra/ssz_static/LightClientUpdate/ssz_random/case_0/roots.yaml"),
        data!("vectors/spec-tests/mainnet/electra/ssz_static/LightClientUpdate/ssz_random/case_0/value.yaml"),
    );
    check_spec_case(
        SszTypeName::LightClientBootstrap,
        Fork::Deneb,
        Preset::Minimal,
        data!("vectors/spec-tests/minimal/deneb/ssz_static/LightClientBootstrap/ssz_lengthy/case_0/serialized.ssz_snappy"),
        data!("vectors/spec-tests/minimal/deneb/ssz_static/LightClientBootstrap/ssz_lengthy/case_0/roots.yaml"),
        data!("vectors/spec-tests/minimal/deneb/ssz_static/LightClientBootstrap/ssz_lengthy/case_0/value.yaml"),
    );
    check_spec_case(
        SszTypeName::LightClientHeader,
        Fork::Capella,
        Preset::Minimal,
        data!("vectors/spec-tests/minimal/capella/ssz_static/LightClientHeader/ssz_max/case_0/serialized.ssz_snappy"),
        data!("vectors/spec-tests/minimal/capella/ssz_static/LightClientHeader/ssz_max/case_0/roots.yaml"),
        data!("vectors/spec-tests/minimal/capella/ssz_static/LightClientHeader/ssz_max/case_0/value.yaml"),
    );
    check_spec_case(
        SszTypeName::LightClientFinalityUpdate,
        Fork::Fulu,
        Preset::Minimal,
        data!("vectors/spec-tests/minimal/fulu/ssz_static/LightClientFinalityUpdate/ssz_random_chaos/case_0/serialized.ssz_snappy"),
        data!("vectors/spec-tests/minimal/fulu/ssz_static/LightClientFinalityUpdate/ssz_random_chaos/case_0/roots.yaml"),
        data!("vectors/spec-tests/minimal/fulu/ssz_static/LightClientFinalityUpdate/ssz_random_chaos/case_0/value.yaml"),
    );
    check_spec_case(
        SszTypeName::LightClientOptimisticUpdate,
        Fork::Altair,
        Preset::Mainnet,
        data!("vectors/spec-tests/mainnet/altair/ssz_static/LightClientOptimisticUpdate/ssz_random/case_0/serialized.ssz_snappy"),
        data!("vectors/spec-tests/mainnet/altair/ssz_static/LightClientOptimisticUpdate/ssz_random/case_0/roots.yaml"),
        data!("vectors/spec-tests/mainnet/altair/ssz_static/LightClientOptimisticUpdate/ssz_random/case_0/value.yaml"),
    );
}

macro_rules! public_static {
    ($dir:literal) => {{
        let meta = json(data!("vectors/public/", $dir, "/meta.json"));
        let ssz = data!("vectors/public/", $dir, "/serialized.ssz");
        let type_name: SszTypeName = meta["type"].as_str().unwrap().parse().unwrap();
        let fork: Fork = meta["fork"].as_str().unwrap().parse().unwrap();
        let preset = match meta["preset"].as_str().unwrap() {
            "general" => Preset::Mainnet,
            other => other.parse().unwrap(),
        };
        let decoded = decode_named(type_name, fork, preset, ssz).unwrap();
        assert_eq!(
            decoded.root.to_hex(),
            meta["hash_tree_root"].as_str().unwrap(),
            $dir
        );
        assert_eq!(decoded.ssz, ssz, $dir);
        let (min, max) = ssz_bounds_named(type_name, fork, preset).unwrap();
        assert_eq!(min as u64, meta["min_length"].as_u64().unwrap(), $dir);
        assert_eq!(max as u64, meta["max_length"].as_u64().unwrap(), $dir);
    }};
}

#[wasm_bindgen_test]
fn public_p2p_and_light_client_types() {
    public_static!("general/phase0/ssz_static/StatusV1/ssz_random/case_0");
    public_static!("general/fulu/ssz_static/StatusV2/ssz_max/case_0");
    public_static!("general/fulu/ssz_static/MetaDataV3/ssz_random/case_1");
    public_static!("general/phase0/ssz_static/ENRForkID/ssz_random/case_0");
    // A List: its length mix-in must be a uint64 on 32-bit targets too.
    public_static!("general/phase0/ssz_static/ErrorMessage/ssz_random/case_0");
    public_static!("general/phase0/ssz_static/ErrorMessage/ssz_max/case_0");
    public_static!("general/altair/ssz_static/LightClientUpdatesByRangeRequest/ssz_max/case_0");
    public_static!("mainnet/fulu/ssz_static/LightClientUpdate/ssz_max/case_0");
    public_static!("minimal/capella/ssz_static/LightClientBootstrap/ssz_nil/case_0");
}

#[wasm_bindgen_test]
fn public_invalid_ssz_is_rejected() {
    let ssz =
        data!("vectors/public/ssz_invalid/altair_finality_update_long_mainnet/serialized.ssz");
    assert!(decode_named(
        SszTypeName::LightClientFinalityUpdate,
        Fork::Altair,
        Preset::Mainnet,
        ssz
    )
    .is_err());
    let ssz =
        data!("vectors/public/ssz_invalid/altair_finality_update_short_mainnet/serialized.ssz");
    assert!(decode_named(
        SszTypeName::LightClientFinalityUpdate,
        Fork::Altair,
        Preset::Mainnet,
        ssz
    )
    .is_err());
}

#[wasm_bindgen_test]
async fn reqresp_multi_fork_stream() {
    let chain = vectors_chain();
    let meta = json(data!(
        "vectors/public/reqresp/lc_updates_by_range_then_error_ok/case.json"
    ));
    let stream = data!("vectors/public/reqresp/lc_updates_by_range_then_error_ok/stream.bin");
    let chunks = ResponseReader::new(stream, Protocol::LightClientUpdatesByRange, &chain, 128)
        .read_all()
        .await
        .unwrap();
    let expected = meta["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), expected.len());
    for (chunk, expected) in chunks.iter().zip(expected) {
        let type_name: SszTypeName = expected["ssz_type"].as_str().unwrap().parse().unwrap();
        let fork = chunk.fork.unwrap_or(Fork::Phase0);
        if let Some(name) = expected["fork"].as_str() {
            assert_eq!(fork.name(), name);
        }
        let decoded = decode_named(type_name, fork, Preset::Mainnet, &chunk.payload).unwrap();
        assert_eq!(
            decoded.root.to_hex(),
            expected["hash_tree_root"].as_str().unwrap()
        );
    }
    assert_eq!(
        chunks[3].error_message().as_deref(),
        Some("ResourceUnavailable: no more updates")
    );
}

#[wasm_bindgen_test]
async fn reqresp_framing_variants_and_rejections() {
    let chain = vectors_chain();
    let stream = data!(
        "vectors/public/reqresp/lc_bootstrap_electra_framing_skippable_and_padding/stream.bin"
    );
    let meta = json(data!(
        "vectors/public/reqresp/lc_bootstrap_electra_framing_skippable_and_padding/case.json"
    ));
    let chunks = ResponseReader::new(stream, Protocol::LightClientBootstrap, &chain, 1)
        .read_all()
        .await
        .unwrap();
    let decoded = decode_named(
        SszTypeName::LightClientBootstrap,
        Fork::Electra,
        Preset::Mainnet,
        &chunks[0].payload,
    )
    .unwrap();
    assert_eq!(
        decoded.root.to_hex(),
        meta["chunks"][0]["hash_tree_root"].as_str().unwrap()
    );

    let truncated = data!("vectors/public/reqresp/invalid_truncated_frame/stream.bin");
    let error = ResponseReader::new(truncated, Protocol::LightClientFinalityUpdate, &chain, 1)
        .read_all()
        .await;
    assert!(
        matches!(error, Err(WireError::UnexpectedEof { .. })),
        "{error:?}"
    );
    let oversize =
        data!("vectors/public/reqresp/invalid_length_prefix_over_max_payload_size/stream.bin");
    let error = ResponseReader::new(oversize, Protocol::LightClientFinalityUpdate, &chain, 1)
        .read_all()
        .await;
    assert!(
        matches!(error, Err(WireError::LengthOutOfBounds { .. })),
        "{error:?}"
    );

    let request = read_request(
        data!("vectors/public/reqresp/status_v1_request_ok/stream.bin"),
        Protocol::StatusV1,
    )
    .await
    .unwrap();
    assert_eq!(
        request,
        data!("vectors/public/reqresp/status_v1_request_ok/chunk_0.ssz")
    );
}

#[wasm_bindgen_test]
fn gossip_message_ids_on_32_bit() {
    let chain = vectors_chain();
    let meta = json(data!(
        "vectors/public/gossip/light_client_finality_update_fulu_bpo1_random_ok/case.json"
    ));
    let message = data!(
        "vectors/public/gossip/light_client_finality_update_fulu_bpo1_random_ok/message_data.bin"
    );
    let topic = meta["topic"].as_str().unwrap();
    assert_eq!(
        format!("0x{}", hex::encode(gossip::message_id(topic, message))),
        meta["message_id"].as_str().unwrap()
    );
    let parsed: GossipTopic = topic.parse().unwrap();
    assert_eq!(chain.fork_for_digest(&parsed.fork_digest), Some(Fork::Fulu));
    let payload = gossip::decode_payload(message, 1 << 20).unwrap();
    let update = LightClientFinalityUpdate::<512>::from_ssz(Fork::Fulu, &payload).unwrap();
    assert_eq!(
        update.hash_tree_root().to_hex(),
        meta["hash_tree_root"].as_str().unwrap()
    );

    let meta = json(data!("vectors/public/gossip/invalid_not_snappy/case.json"));
    let message = data!("vectors/public/gossip/invalid_not_snappy/message_data.bin");
    let topic = meta["topic"].as_str().unwrap();
    assert_eq!(
        format!("0x{}", hex::encode(gossip::message_id(topic, message))),
        meta["message_id"].as_str().unwrap()
    );
    assert!(gossip::decode_payload(message, 1 << 20).is_err());
}

#[wasm_bindgen_test]
fn fork_digests_including_bpo() {
    let table = json(data!("vectors/public/fork_digests.json"));
    for set in [&table, &table["known_answer_mainnet_gvr"]] {
        let mut chain = Network::Mainnet.config();
        chain.genesis_validators_root =
            Root::from_hex(set["genesis_validators_root"].as_str().unwrap()).unwrap();
        for entry in set["entries"].as_array().unwrap() {
            let epoch = entry["epoch"].as_u64().unwrap();
            assert_eq!(
                chain.fork_digest(epoch).to_hex(),
                entry["fork_digest"].as_str().unwrap()
            );
        }
    }
}

#[wasm_bindgen_test]
fn devnet_capture_matches_lodestar_json() {
    let mut chain = ChainConfig::from_config_yaml(
        std::str::from_utf8(data!("devnet-capture/config.yaml")).unwrap(),
        Root::from_hex("0x83431ec7fcf92cfc44947fc0418e831c25e1d0806590231c439830db7ad54fda")
            .unwrap(),
    )
    .unwrap();
    chain.bootnodes.clear();
    assert_eq!(chain.fork_digest(0).to_hex(), "0x8cdad603");
    let ssz = data!("devnet-capture/finality_update/000313_f0ec3a1e.ssz");
    let expected = json(data!("devnet-capture/finality_update/000313_f0ec3a1e.json"));
    let update = LightClientFinalityUpdate::<32>::from_ssz(Fork::Deneb, ssz).unwrap();
    assert_eq!(update.to_beacon_api_json(), expected);
    assert_eq!(
        LightClientFinalityUpdate::<32>::from_beacon_api_json(&expected)
            .unwrap()
            .to_ssz(),
        ssz
    );
}

/// One spec-generated block case (`tests/data/block-vectors`): root, re-encoding, exact JSON.
fn check_block_case(type_name: SszTypeName, fork: Fork, preset: Preset, ssz: &[u8], case: &[u8]) {
    let case = json(case);
    let decoded = decode_named(type_name, fork, preset, ssz).unwrap();
    assert_eq!(decoded.root.to_hex(), case["root"].as_str().unwrap());
    assert_eq!(decoded.ssz, ssz);
    assert_eq!(decoded.json.to_string(), case["value"].to_string());
}

#[wasm_bindgen_test]
fn block_types() {
    check_block_case(
        SszTypeName::SignedBeaconBlock,
        Fork::Electra,
        Preset::Mainnet,
        data!("block-vectors/mainnet/electra/SignedBeaconBlock/ssz_random/case_0/serialized.ssz"),
        data!("block-vectors/mainnet/electra/SignedBeaconBlock/ssz_random/case_0/case.json"),
    );
    check_block_case(
        SszTypeName::SignedBeaconBlock,
        Fork::Deneb,
        Preset::Minimal,
        data!("block-vectors/minimal/deneb/SignedBeaconBlock/ssz_max/case_0/serialized.ssz"),
        data!("block-vectors/minimal/deneb/SignedBeaconBlock/ssz_max/case_0/case.json"),
    );
    check_block_case(
        SszTypeName::Attestation,
        Fork::Fulu,
        Preset::Mainnet,
        data!("block-vectors/mainnet/fulu/Attestation/ssz_lengthy/case_0/serialized.ssz"),
        data!("block-vectors/mainnet/fulu/Attestation/ssz_lengthy/case_0/case.json"),
    );
    check_block_case(
        SszTypeName::ExecutionPayload,
        Fork::Capella,
        Preset::Mainnet,
        data!("block-vectors/mainnet/capella/ExecutionPayload/ssz_random/case_0/serialized.ssz"),
        data!("block-vectors/mainnet/capella/ExecutionPayload/ssz_random/case_0/case.json"),
    );

    // A real fulu block with transactions and withdrawals: block root, exact Beacon-API JSON.
    let ssz = data!("synthnet/blocks/13164544_0xa3f439bf3fd83c7843df806dd7cbcf942463adbda45d6da2ad50ee9b3ba53e4b.ssz");
    let file = json(data!("synthnet/blocks/13164544_0xa3f439bf3fd83c7843df806dd7cbcf942463adbda45d6da2ad50ee9b3ba53e4b.json"));
    let block = SignedBeaconBlock::from_ssz(Fork::Fulu, Preset::Mainnet, ssz).unwrap();
    assert_eq!(
        block.block_root().to_hex(),
        "0xa3f439bf3fd83c7843df806dd7cbcf942463adbda45d6da2ad50ee9b3ba53e4b"
    );
    assert_eq!(block.to_ssz(), ssz);
    assert_eq!(
        block
            .to_beacon_api_json(
                file["execution_optimistic"].as_bool().unwrap(),
                file["finalized"].as_bool().unwrap()
            )
            .to_string(),
        file.to_string()
    );
    assert_eq!(
        SignedBeaconBlock::from_beacon_api_json(Preset::Mainnet, &file).unwrap(),
        block
    );
}
