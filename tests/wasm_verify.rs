//! The light-client store as wasm32 in headless Chromium, offline: a subset of the devnet
//! capture (minimal, deneb) and of synthnet (mainnet, electra → fulu → BPO1) verified from their
//! checkpoints to the same heads as natively (`tests/verify.rs`), a forged signature refused,
//! and the cost per update printed (the browser's clock, one run).
#![cfg(target_arch = "wasm32")]

use beacon_p2p::chain::{ChainConfig, Network, Preset};
use beacon_p2p::primitives::Root;
use beacon_p2p::types::{LightClientKind, LightClientObject};
use beacon_p2p::verify::{LightClientStore, Verdict};
use serde_json::Value;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! data {
    ($($path:expr),+) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/", $($path),+)).as_slice()
    };
}

fn object(kind: LightClientKind, preset: Preset, bytes: &[u8]) -> LightClientObject {
    let value: Value = serde_json::from_slice(bytes).unwrap();
    // A period update file is the `updates` route's array of one.
    let value = match value {
        Value::Array(mut items) => items.remove(0),
        single => single,
    };
    LightClientObject::from_beacon_api_json(kind, preset, &value).unwrap()
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Initializes from `bootstrap`, processes `updates` (each at its signature slot + 1) and returns
/// the store and the mean milliseconds per update.
fn replay(
    chain: ChainConfig,
    checkpoint: &str,
    bootstrap: LightClientObject,
    updates: &[LightClientObject],
) -> (LightClientStore, f64) {
    let checkpoint = Root::from_hex(checkpoint).unwrap();
    let mut store = LightClientStore::initialize(chain, &checkpoint, &bootstrap).unwrap();
    let started = now_ms();
    for update in updates {
        let result = store.process(update, update.signature_slot.unwrap() + 1);
        assert_eq!(
            Verdict::of(&result),
            Verdict::Accepted,
            "{:?} at slot {}: {result:?}",
            update.kind,
            update.slot
        );
    }
    let per_update = (now_ms() - started) / updates.len() as f64;
    (store, per_update)
}

#[wasm_bindgen_test]
fn the_devnet_capture_verifies_in_the_browser() {
    let chain = ChainConfig::from_config_yaml(
        std::str::from_utf8(data!("devnet-capture/config.yaml")).unwrap(),
        Root::from_hex("0x83431ec7fcf92cfc44947fc0418e831c25e1d0806590231c439830db7ad54fda")
            .unwrap(),
    )
    .unwrap();
    let preset = Preset::Minimal;
    let bootstrap = object(
        LightClientKind::Bootstrap,
        preset,
        data!("devnet-capture/bootstrap/000088_0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5.json"),
    );
    let update = |bytes| object(LightClientKind::Update, preset, bytes);
    let updates = [
        update(data!("devnet-capture/updates/period_0001.json")),
        update(data!("devnet-capture/updates/period_0002.json")),
        update(data!("devnet-capture/updates/period_0003.json")),
        update(data!("devnet-capture/updates/period_0004.json")),
        object(
            LightClientKind::FinalityUpdate,
            preset,
            data!("devnet-capture/finality_update/000313_f0ec3a1e.json"),
        ),
        object(
            LightClientKind::OptimisticUpdate,
            preset,
            data!("devnet-capture/optimistic_update/000318_4ef58b18.json"),
        ),
    ];
    let (store, ms) = replay(
        chain,
        "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5",
        bootstrap,
        &updates,
    );
    assert_eq!(store.finalized().slot(), 296);
    assert_eq!(store.optimistic().slot(), 318);
    web_sys::console::log_1(
        &format!("verify (wasm32, minimal preset, 32 keys): {ms:.1} ms per update").into(),
    );
}

#[wasm_bindgen_test]
fn synthnet_verifies_in_the_browser_across_fulu_and_bpo1() {
    let preset = Preset::Mainnet;
    let bootstrap = object(
        LightClientKind::Bootstrap,
        preset,
        data!("synthnet/bootstrap/13148160_0x566d487e54840062b59797f748ac8b9d84086dbe8be42c1e4fe5e3d01a7b5adf.json"),
    );
    let update = |bytes| object(LightClientKind::Update, preset, bytes);
    let mut updates = vec![
        update(data!("synthnet/updates/period_1605.json")),
        update(data!("synthnet/updates/period_1606.json")),
        update(data!("synthnet/updates/period_1607.json")),
        update(data!("synthnet/updates/period_1608.json")),
        update(data!("synthnet/updates/period_1609.json")),
        update(data!("synthnet/updates/period_1610.json")),
        update(data!("synthnet/updates/period_1611.json")),
        update(data!("synthnet/updates/period_1612.json")),
        update(data!("synthnet/updates/period_1613.json")),
    ];
    let finality = object(
        LightClientKind::FinalityUpdate,
        preset,
        data!("synthnet/finality_update/13221883_20d7fc03.json"),
    );
    // The same finality update with one bit of its signature flipped: refused by its rule.
    let mut forged_json: Value =
        serde_json::from_slice(data!("synthnet/finality_update/13221883_20d7fc03.json")).unwrap();
    let signature = forged_json["data"]["sync_aggregate"]["sync_committee_signature"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bytes = hex::decode(&signature[2..]).unwrap();
    bytes[40] ^= 1;
    forged_json["data"]["sync_aggregate"]["sync_committee_signature"] =
        format!("0x{}", hex::encode(bytes)).into();
    let forged = LightClientObject::from_beacon_api_json(
        LightClientKind::FinalityUpdate,
        preset,
        &forged_json,
    )
    .unwrap();
    updates.push(finality);
    let (mut store, ms) = replay(
        Network::Mainnet.config(),
        "0x566d487e54840062b59797f748ac8b9d84086dbe8be42c1e4fe5e3d01a7b5adf",
        bootstrap,
        &updates,
    );
    assert_eq!(store.finalized().slot(), 13221792);
    assert_eq!(store.optimistic().slot(), 13221883);
    let result = store.process(&forged, forged.signature_slot.unwrap() + 1);
    assert_eq!(Verdict::of(&result), Verdict::Rejected, "{result:?}");
    assert_eq!(result.unwrap_err().code(), "invalid_signature");
    web_sys::console::log_1(
        &format!(
            "verify (wasm32, mainnet preset, 512 keys, committee keys decompressed on first use): {ms:.1} ms per update over 9 period updates and a finality update"
        )
        .into(),
    );
}
