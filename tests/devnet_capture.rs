//! Real, validly signed light-client data recorded from Lodestar and Lighthouse: our SSZ decoding
//! must give exactly the Beacon-API JSON Lodestar served for the same objects, and back.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use beacon_p2p::chain::{ChainConfig, Fork, Preset};
use beacon_p2p::types::{
    LightClientBootstrap, LightClientFinalityUpdate, LightClientOptimisticUpdate, LightClientUpdate,
};
use common::*;
use serde_json::Value;

const S: usize = beacon_p2p::chain::MINIMAL_SYNC_COMMITTEE_SIZE;

fn pairs(kind: &str) -> Vec<(Vec<u8>, Value, String)> {
    let dir = devnet_dir().join(kind);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ssz"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|ssz| {
            let json = read_json(&ssz.with_extension("json"));
            (read(&ssz), json, ssz.display().to_string())
        })
        .collect()
}

#[test]
fn testnet_dir_reads_the_devnet_config() {
    let chain = ChainConfig::from_directory(&devnet_dir()).unwrap();
    assert_eq!(chain.preset, Preset::Minimal);
    assert_eq!(chain.slot_duration_ms, 2_000);
    assert_eq!(chain.genesis_time, Some(1_795_263_010));
    assert_eq!(
        chain.genesis_validators_root.to_hex(),
        "0x83431ec7fcf92cfc44947fc0418e831c25e1d0806590231c439830db7ad54fda"
    );
    assert_eq!(chain.fork_at_epoch(0), Fork::Deneb);
    // The capture README: deneb's digest on this chain, seen in the recorded context bytes.
    assert_eq!(chain.fork_digest(0).to_hex(), "0x8cdad603");
    assert_eq!(
        chain.fork_for_digest(&chain.fork_digest(0)),
        Some(Fork::Deneb)
    );
    assert_eq!(chain.sync_committee_period_at_slot(88), 1);
}

macro_rules! check_kind {
    ($kind:literal, $ty:ident) => {{
        let cases = pairs($kind);
        assert!(!cases.is_empty());
        for (ssz, json, name) in &cases {
            let value =
                $ty::<S>::from_ssz(Fork::Deneb, ssz).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                &value.to_beacon_api_json(),
                json,
                "{name}: SSZ → Beacon-API JSON"
            );
            let parsed =
                $ty::<S>::from_beacon_api_json(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&parsed.to_ssz(), ssz, "{name}: Beacon-API JSON → SSZ");
        }
        cases.len()
    }};
}

#[test]
fn captured_objects_match_lodestar_json_exactly() {
    assert_eq!(
        check_kind!("finality_update", LightClientFinalityUpdate),
        21
    );
    assert_eq!(
        check_kind!("optimistic_update", LightClientOptimisticUpdate),
        193
    );
    assert!(check_kind!("bootstrap", LightClientBootstrap) >= 1);
}

#[test]
fn captured_update_periods_round_trip() {
    for period in 0..=4 {
        let path = devnet_dir().join(format!("updates/period_{period:04}.json"));
        let items = read_json(&path);
        for item in items.as_array().unwrap() {
            let update = LightClientUpdate::<S>::from_beacon_api_json(item).unwrap();
            assert_eq!(&update.to_beacon_api_json(), item, "{}", path.display());
            let again = LightClientUpdate::<S>::from_ssz(Fork::Deneb, &update.to_ssz()).unwrap();
            assert_eq!(again, update);
        }
    }
}

#[test]
fn payloads_received_over_libp2p_decode() {
    let p2p = devnet_dir().join("p2p");
    let bootstrap =
        LightClientBootstrap::<S>::from_ssz(Fork::Deneb, &read(&p2p.join("bootstrap_0.ssz")))
            .unwrap();
    assert_eq!(
        bootstrap.header_beacon().slot % 8,
        0,
        "bootstraps are at checkpoint slots"
    );
    let finality = LightClientFinalityUpdate::<S>::from_ssz(
        Fork::Deneb,
        &read(&p2p.join("finality_update_0.ssz")),
    )
    .unwrap();
    assert!(finality.finalized_beacon().slot < finality.attested_beacon().slot);
    let optimistic = LightClientOptimisticUpdate::<S>::from_ssz(
        Fork::Deneb,
        &read(&p2p.join("optimistic_update_0.ssz")),
    )
    .unwrap();
    assert!(optimistic.participation() > 0);
    for file in ["updates_by_range_0.ssz", "updates_by_range_1.ssz"] {
        LightClientUpdate::<S>::from_ssz(Fork::Deneb, &read(&p2p.join(file))).unwrap();
    }
}
