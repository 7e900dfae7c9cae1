//! Beacon-API sources beside peers, in the browser, and a peer dialed directly over WebSocket.
//! `scripts/wasm.py test` starts on 127.0.0.1: the bridge and the peer it relays to
//! (`BEACON_P2P_TEST_BRIDGE`), a second test peer that also listens on `/ws`, a third whose REST
//! API is the Beacon API, a lying proxy of that API (it forges the finality update), and a
//! control server that stops and restarts the `/ws` peer and the Beacon API
//! (`BEACON_P2P_TEST_CONTROL`). All three peers replay the same recorded devnet.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use beacon_p2p::js::BeaconP2P;
use js_sys::{Function, Reflect};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

#[path = "common/browser.rs"]
mod browser;
use browser::{
    bridge, connect_error, control, get_json_at, settle, settle_value, sleep, step, to_js, to_json,
};

wasm_bindgen_test_configure!(run_in_browser);

/// A finalized block root of the capture (slot 88), the checkpoint `sync` starts from.
const BOOTSTRAP_ROOT: &str = "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5";

thread_local! {
    /// The runner interleaves async tests; these stop and start shared servers, so they take
    /// turns.
    static ONE_AT_A_TIME: Arc<futures::lock::Mutex<()>> = Arc::new(futures::lock::Mutex::new(()));
}

async fn my_turn() -> futures::lock::OwnedMutexGuard<()> {
    ONE_AT_A_TIME.with(Arc::clone).lock_owned().await
}

/// Asks the control server to do `action` (`/ws-peer/stop`, `/rpc/start`, …) or tell `/info`.
async fn control_json(action: &str) -> Value {
    step(&format!("control: {action}"));
    get_json_at(&format!("{}{action}", control())).await
}

async fn connect(options: Value) -> BeaconP2P {
    BeaconP2P::connect(to_js(&options))
        .await
        .unwrap_or_else(|error| panic!("connect({options}): {error:?}"))
}

/// Collects what a listener (`onSourceSwitched`, …) is called with.
fn recorder() -> (Rc<RefCell<Vec<Value>>>, Function) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let callback = Closure::<dyn FnMut(JsValue)>::new(move |value: JsValue| {
        sink.borrow_mut().push(to_json(&value));
    })
    .into_js_value()
    .unchecked_into();
    (seen, callback)
}

/// Waits (up to `seconds`) until `done(peers())` holds; the last peer list either way.
async fn wait_for_peers(
    client: &BeaconP2P,
    seconds: u32,
    done: impl Fn(&[Value]) -> bool,
) -> Value {
    let mut peers = Value::Null;
    for _ in 0..seconds * 4 {
        peers = to_json(&client.peers().unwrap());
        if done(peers.as_array().map(Vec::as_slice).unwrap_or_default()) {
            break;
        }
        sleep(250).await;
    }
    peers
}

fn is_connected(peers: &[Value], peer_id: &str) -> bool {
    peers
        .iter()
        .any(|peer| peer["peerId"] == peer_id && peer["connected"] == true)
}

/// Connected and past Status (its head slot known): calls go to it, not to the API at once.
fn has_status(peers: &[Value], peer_id: &str) -> bool {
    peers.iter().any(|peer| {
        peer["peerId"] == peer_id && peer["connected"] == true && peer["headSlot"].is_u64()
    })
}

/// `{version, data}` and its (non-enumerable) `source`.
async fn sourced(promise: js_sys::Promise) -> (Value, Value) {
    let value = settle_value(promise)
        .await
        .unwrap_or_else(|error| panic!("call failed: {error:?}"));
    let source = Reflect::get(&value, &"source".into()).unwrap();
    let keys: Vec<String> = js_sys::Object::keys(value.unchecked_ref())
        .iter()
        .filter_map(|key| key.as_string())
        .collect();
    assert!(
        !keys.contains(&"source".to_string()),
        "source must not be enumerable (JSON.stringify gives the Beacon API's JSON): {keys:?}"
    );
    (to_json(&value), to_json(&source))
}

/// The updates of periods 1 and 2 (both past for the replay), and the source they came from.
async fn updates(client: &BeaconP2P) -> (Value, Value) {
    let list = settle_value(client.updates(1.0, 2.0))
        .await
        .unwrap_or_else(|error| panic!("updates: {error:?}"));
    let items: Vec<JsValue> = list.unchecked_into::<js_sys::Array>().iter().collect();
    assert_eq!(items.len(), 2);
    let sources: Vec<Value> = items
        .iter()
        .map(|item| to_json(&Reflect::get(item, &"source".into()).unwrap()))
        .collect();
    assert_eq!(sources[0], sources[1], "one request, one source");
    let data: Vec<Value> = items.iter().map(to_json).collect();
    (Value::Array(data), sources[0].clone())
}

/// The source report of `name` ("p2p" or a URL).
fn report(client: &BeaconP2P, name: &str) -> Value {
    let reports = to_json(&client.sources().unwrap());
    reports
        .as_array()
        .unwrap()
        .iter()
        .find(|report| report["source"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no source {name} in {reports}"))
}

#[wasm_bindgen_test]
async fn a_websocket_peer_is_dialed_directly_next_to_a_relayed_one() {
    let _turn = my_turn().await;
    control_json("/ws-peer/start").await;
    let info = control_json("/info").await;
    let ws_peer = info["wsPeer"]["peerId"].as_str().unwrap().to_string();
    let network = get_json_at(&format!("{}/network", bridge())).await;
    let relayed: Vec<Value> =
        serde_json::from_value(get_json_at(&format!("{}/peers", bridge())).await).unwrap();
    let relayed_peer = relayed[0]["peerId"].as_str().unwrap().to_string();
    assert_ne!(relayed_peer, ws_peer);

    let client = connect(json!({
        "network": network,
        "bridges": [bridge()],
        "peers": [info["wsPeer"]["multiaddr"]],
        "targetPeers": 2,
    }))
    .await;
    let peers = wait_for_peers(&client, 20, |peers| {
        is_connected(peers, &ws_peer) && is_connected(peers, &relayed_peer)
    })
    .await;
    let find = |id: &str| {
        peers
            .as_array()
            .unwrap()
            .iter()
            .find(|peer| peer["peerId"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not in {peers}"))
    };
    let (direct, through_bridge) = (find(&ws_peer), find(&relayed_peer));
    assert_eq!(direct["connected"], true, "{peers}");
    assert_eq!(through_bridge["connected"], true, "{peers}");
    assert_eq!(direct["via"], "websocket", "{peers}");
    assert!(
        direct["address"].as_str().unwrap().contains("/ws"),
        "{direct}"
    );
    assert_eq!(through_bridge["via"], "relay", "{peers}");
    assert!(
        through_bridge["address"]
            .as_str()
            .unwrap()
            .contains("relay"),
        "{through_bridge}"
    );
    // Both serve: every answer names one of them.
    for _ in 0..4 {
        let (update, source) = sourced(client.optimistic_update()).await;
        assert!(update["data"]["attested_header"].is_object(), "{update}");
        assert_eq!(source["source"], "p2p", "{source}");
        let by = source["peer"].as_str();
        assert!(
            by.is_none() || by == Some(&ws_peer) || by == Some(&relayed_peer),
            "{source}"
        );
    }
    let _ = JsFuture::from(client.close()).await;
}

#[wasm_bindgen_test]
async fn calls_switch_to_the_beacon_api_when_the_peer_goes_and_back_when_it_returns() {
    let _turn = my_turn().await;
    control_json("/ws-peer/start").await;
    control_json("/rpc/start").await;
    let info = control_json("/info").await;
    let ws_peer = info["wsPeer"]["peerId"].as_str().unwrap().to_string();
    let rpc = info["rpc"].as_str().unwrap().to_string();
    let network = get_json_at(&format!("{}/network", bridge())).await;
    let client = connect(json!({
        "network": network,
        "peers": [info["wsPeer"]["multiaddr"]],
        "rpc": [rpc],
        "p2pBudgetMs": 500,
        "requestTimeoutMs": 3000,
        "requestDeadlineMs": 10000,
        "targetPeers": 1,
    }))
    .await;
    let (switches, on_switch) = recorder();
    let _unsubscribe = client.on_source_switched(on_switch);
    wait_for_peers(&client, 20, |peers| has_status(peers, &ws_peer)).await;

    // Peer healthy: it answers (p2p first is the default), and is named. Updates by range are
    // asked of the network every time (a latest update may come from the node's recent ones).
    let (first, source) = updates(&client).await;
    assert_eq!(source, json!({"source": "p2p", "peer": ws_peer}));

    // The peer goes: calls keep succeeding, over the Beacon API, and the switch is an event.
    control_json("/ws-peer/stop").await;
    let peers = wait_for_peers(&client, 20, |peers| !is_connected(peers, &ws_peer)).await;
    assert!(
        !is_connected(peers.as_array().unwrap(), &ws_peer),
        "{peers}"
    );
    for _ in 0..3 {
        let (answer, source) = updates(&client).await;
        assert_eq!(source, json!({"source": "rpc", "url": rpc}));
        assert_eq!(answer, first, "the same capture");
    }
    assert!(
        switches
            .borrow()
            .iter()
            .any(|switch| *switch
                == json!({"from": "p2p", "to": "rpc", "reason": "no peer connected"})),
        "{:?}",
        switches.borrow()
    );
    assert_eq!(report(&client, "p2p")["answers"], 1);
    assert_eq!(report(&client, &rpc)["answers"], 3);
    assert_eq!(report(&client, &rpc)["kind"], "rpc");

    // The peer returns (same key, same address): the client goes back to it; no call fails.
    control_json("/ws-peer/start").await;
    let mut back = false;
    // Redials back off (10 s, then 20 s) while the peer is down.
    for _ in 0..120 {
        let (_, source) = updates(&client).await;
        if source["source"] == "p2p" {
            back = true;
            break;
        }
        sleep(500).await;
    }
    assert!(back, "back on p2p: {}", to_json(&client.sources().unwrap()));
    assert!(
        switches
            .borrow()
            .iter()
            .any(|switch| switch["from"] == "rpc" && switch["to"] == "p2p"),
        "{:?}",
        switches.borrow()
    );

    // The Beacon API goes: p2p alone.
    control_json("/rpc/stop").await;
    let (_, source) = updates(&client).await;
    assert_eq!(source["source"], "p2p", "{source}");
    let (_, source) = sourced(client.finality_update()).await;
    assert_eq!(source["source"], "p2p", "{source}");
    control_json("/rpc/start").await;
    let _ = JsFuture::from(client.close()).await;
}

#[wasm_bindgen_test]
async fn a_beacon_api_that_forges_a_finality_update_is_flagged_and_demoted() {
    let _turn = my_turn().await;
    control_json("/ws-peer/start").await;
    control_json("/rpc/start").await;
    let info = control_json("/info").await;
    let ws_peer = info["wsPeer"]["peerId"].as_str().unwrap().to_string();
    let liar = info["liar"].as_str().unwrap().to_string();
    let network = get_json_at(&format!("{}/network", bridge())).await;
    // A bad option is refused by name before anything is dialed.
    let (code, message) = connect_error(json!({
        "network": network,
        "rpc": [liar],
        "sourcePolicy": "whatever",
    }))
    .await;
    assert_eq!(code, "INVALID_ARGUMENT", "{message}");
    assert!(message.contains("sourcePolicy"), "{message}");

    // The Beacon API is asked first: it answers the bootstrap and the updates honestly, but its
    // finality update's finalized header is not the one the finality branch proves.
    let client = connect(json!({
        "network": network,
        "peers": [info["wsPeer"]["multiaddr"]],
        "rpc": [liar],
        "sourcePolicy": "rpc-first",
        "requestTimeoutMs": 3000,
        "targetPeers": 1,
    }))
    .await;
    let (flagged, on_misbehaved) = recorder();
    let _unsubscribe = client.on_source_misbehaved(on_misbehaved);
    wait_for_peers(&client, 20, |peers| has_status(peers, &ws_peer)).await;
    let heads = settle(client.sync(to_js(&json!({"checkpoint": BOOTSTRAP_ROOT}))))
        .await
        .unwrap_or_else(|error| panic!("sync: {error:?}"));
    assert!(heads["finalized"]["slot"].as_u64().unwrap() > 88, "{heads}");
    let flagged = flagged.borrow().clone();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!(flagged[0]["source"], liar.as_str());
    let reason = flagged[0]["reason"].as_str().unwrap();
    assert!(reason.contains("does not verify"), "{reason}");
    let liar_report = report(&client, &liar);
    assert_eq!(liar_report["misbehaved"], 1, "{liar_report}");
    assert_eq!(liar_report["demoted"], true, "{liar_report}");

    // Demoted: not asked again while the peer keeps answering.
    let (_, source) = sourced(client.finality_update()).await;
    assert_eq!(source["source"], "p2p", "{source}");
    assert_eq!(report(&client, &liar)["misbehaved"], 1);
    let peers = to_json(&client.peers().unwrap());
    assert!(is_connected(peers.as_array().unwrap(), &ws_peer), "{peers}");
    let _ = JsFuture::from(client.close()).await;
}
