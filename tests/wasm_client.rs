//! End to end in the browser: the wasm client, through its JS API, reaches the in-repo CL test
//! peer (js-libp2p, TCP only) through a bridge's relay and fetches a bootstrap, updates and
//! finality/optimistic updates, and receives gossip; every object must equal one the peer serves
//! (the recorded devnet). `scripts/wasm.py test` starts the peer and the bridge on 127.0.0.1,
//! serves the expected objects at `<bridge>/expected.json` and sets `BEACON_P2P_TEST_BRIDGE`.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use beacon_p2p::js::BeaconP2P;
use js_sys::{Promise, Reflect};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

#[path = "common/browser.rs"]
mod browser;
use browser::{bridge, connect_error, get_json_at, settle, sleep, step, to_js, to_json};

wasm_bindgen_test_configure!(run_in_browser);

const BOOTSTRAP_ROOT: &str = "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch(url: &str) -> Promise;
}

async fn get_json(path: &str) -> Value {
    get_json_at(&format!("{}{path}", bridge())).await
}

/// A client on `network` with the test bridge's peer as its one peer.
async fn connect_via_bridge(network: &Value) -> BeaconP2P {
    BeaconP2P::connect(to_js(&json!({
        "network": network,
        "bridges": [bridge()],
        "targetPeers": 1,
    })))
    .await
    .unwrap_or_else(|error| panic!("connect: {error:?}"))
}

#[wasm_bindgen_test]
async fn fetches_through_a_bridge_equal_what_the_peer_serves() {
    let expected = get_json("/expected.json").await;
    let network = get_json("/network").await;
    let started = js_sys::Date::now();
    let client = connect_via_bridge(&network).await;
    web_sys::console::log_1(
        &format!(
            "connect() resolved after {} ms",
            js_sys::Date::now() - started
        )
        .into(),
    );

    let peers = to_json(&client.peers().unwrap());
    let connected: Vec<&Value> = peers
        .as_array()
        .unwrap()
        .iter()
        .filter(|peer| peer["connected"] == true)
        .collect();
    assert_eq!(connected.len(), 1, "{peers}");
    assert_eq!(connected[0]["via"], "relay");
    assert_eq!(connected[0]["peerId"], expected["peerId"]);

    step("bootstrap");
    let bootstrap = settle(client.bootstrap(BOOTSTRAP_ROOT.into()))
        .await
        .unwrap();
    assert_eq!(bootstrap, expected["bootstraps"][BOOTSTRAP_ROOT]);

    step("updates");
    let updates = settle(client.updates(1.0, 3.0)).await.unwrap();
    let updates = updates.as_array().unwrap();
    assert_eq!(updates.len(), 3);
    for (offset, update) in updates.iter().enumerate() {
        assert_eq!(
            update,
            &expected["updates"][(1 + offset).to_string()],
            "period {}",
            1 + offset
        );
    }

    step("finality and optimistic updates");
    let finality = settle(client.finality_update()).await.unwrap();
    assert!(
        expected["finality"].as_array().unwrap().contains(&finality),
        "finality update is one the peer serves"
    );
    let optimistic = settle(client.optimistic_update()).await.unwrap();
    assert!(expected["optimistic"]
        .as_array()
        .unwrap()
        .contains(&optimistic));

    step("gossip");
    // Gossip reaches the JS listeners; unsubscribing stops it.
    let seen = Rc::new(RefCell::new(Vec::<Value>::new()));
    let sink = seen.clone();
    let callback = Closure::<dyn FnMut(JsValue)>::new(move |update: JsValue| {
        sink.borrow_mut().push(to_json(&update));
    });
    let off = client.on_optimistic_update(
        callback
            .as_ref()
            .unchecked_ref::<js_sys::Function>()
            .clone(),
    );
    for _ in 0..60 {
        if seen.borrow().len() >= 2 {
            break;
        }
        sleep(500).await;
    }
    assert!(
        seen.borrow().len() >= 2,
        "gossip optimistic updates: {}",
        seen.borrow().len()
    );
    for update in seen.borrow().iter() {
        assert!(expected["optimistic"].as_array().unwrap().contains(update));
    }
    off.call0(&JsValue::NULL).unwrap();
    let count = seen.borrow().len();
    sleep(3_000).await;
    assert_eq!(seen.borrow().len(), count, "no calls after unsubscribing");

    step("errors");
    // Bad arguments and peers' errors reject with a code, never hang.
    let (code, message) = settle(client.bootstrap("0x1234".into())).await.unwrap_err();
    assert_eq!(code, "INVALID_ARGUMENT", "{message}");
    let (code, _) = settle(client.updates(-1.0, 1.0)).await.unwrap_err();
    assert_eq!(code, "INVALID_ARGUMENT");
    let (code, message) = settle(client.updates(1000.0, 1.0)).await.unwrap_err();
    assert!(
        ["PEER_ERROR", "NO_PEERS"].contains(&code.as_str()),
        "{code}: {message}"
    );
    let unknown = format!("0x{}", "ab".repeat(32));
    let (code, message) = settle(client.bootstrap(unknown)).await.unwrap_err();
    assert!(!code.is_empty(), "{message}");

    step("fetch handler");
    // The Beacon-API fetch handler answers from the same client.
    let handler: js_sys::Function = client.fetch_handler().unchecked_into();
    let response: web_sys::Response = JsFuture::from(
        handler
            .call1(
                &JsValue::NULL,
                &format!("https://consensus.invalid/eth/v1/beacon/light_client/bootstrap/{BOOTSTRAP_ROOT}").into(),
            )
            .unwrap()
            .unchecked_into::<Promise>(),
    )
    .await
    .unwrap()
    .unchecked_into();
    assert_eq!(response.status(), 200);
    let body = JsFuture::from(response.text().unwrap()).await.unwrap();
    let body: Value = serde_json::from_str(&body.as_string().unwrap()).unwrap();
    assert_eq!(body, expected["bootstraps"][BOOTSTRAP_ROOT]);

    JsFuture::from(client.close()).await.unwrap();
    let (code, _) = settle(client.finality_update()).await.unwrap_err();
    assert_eq!(code, "CLOSED");
    drop(callback);
}

#[wasm_bindgen_test]
async fn connect_rejects_with_a_code() {
    let network = get_json("/network").await;
    let (code, message) = connect_error(json!({"network": "nonet"})).await;
    assert_eq!(code, "INVALID_ARGUMENT", "{message}");
    let (code, message) = connect_error(json!({"network": "mainnet", "targetPeer": 2})).await;
    assert_eq!(code, "INVALID_ARGUMENT", "{message}");
    assert!(message.contains("targetPeer"), "{message}");
    let (code, message) = connect_error(json!({"network": "mainnet"})).await;
    assert_eq!(code, "NO_PEERS", "{message}");
    let (code, message) =
        connect_error(json!({"network": "mainnet", "bridges": ["not a url"]})).await;
    assert_eq!(code, "INVALID_ARGUMENT", "{message}");
    let (code, message) = connect_error(json!({
        "network": network,
        "peers": ["/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAmAP8rPwbQZLYcYMNty2oPPQcEvGwEHs3ZDXKLSMkSisEd"],
    }))
    .await;
    assert_eq!(code, "INVALID_ARGUMENT", "{message}");
    assert!(message.contains("bridge"), "{message}");

    // Nobody listens there: connect() gives up in time with NO_PEERS.
    let started = js_sys::Date::now();
    let (code, message) = connect_error(json!({
        "network": network,
        "peers": ["/ip4/127.0.0.1/tcp/9/ws/p2p/16Uiu2HAmAP8rPwbQZLYcYMNty2oPPQcEvGwEHs3ZDXKLSMkSisEd"],
        "connectTimeoutMs": 2000,
    }))
    .await;
    assert_eq!(code, "NO_PEERS", "{message}");
    assert!(js_sys::Date::now() - started < 15_000.0);
}

/// The four light-client requests at once, as a page does at start (Lodestar's light client asks
/// for a bootstrap, updates and the finality update together).
async fn burst(client: &BeaconP2P) {
    let (bootstrap, updates, finality, optimistic) = futures::join!(
        settle(client.bootstrap(BOOTSTRAP_ROOT.into())),
        settle(client.updates(1.0, 2.0)),
        settle(client.finality_update()),
        settle(client.optimistic_update()),
    );
    for (what, result) in [
        ("bootstrap", &bootstrap),
        ("updates", &updates),
        ("finality update", &finality),
        ("optimistic update", &optimistic),
    ] {
        assert!(result.is_ok(), "{what} in a burst: {result:?}");
    }
    assert_eq!(updates.unwrap().as_array().map(Vec::len), Some(2));
}

/// Against an mplex-only peer that closes each stream as soon as it has answered (Lodestar): a
/// burst right after connect and another a few seconds later keep the one connection.
/// `scripts/wasm.py test` also checks, from the peer's own log, that no connection was dropped
/// for messages on closed streams.
#[wasm_bindgen_test]
async fn request_bursts_keep_the_connection() {
    let network = get_json("/network").await;
    let client = connect_via_bridge(&network).await;
    let connected_peer = |peers: &Value| -> Option<String> {
        peers
            .as_array()?
            .iter()
            .find(|peer| peer["connected"] == true)
            .map(|peer| peer["peerId"].to_string())
    };
    let before = connected_peer(&to_json(&client.peers().unwrap())).expect("a connected peer");
    step("burst right after connect");
    burst(&client).await;
    burst(&client).await;
    sleep(3_000).await;
    step("burst a few seconds later");
    burst(&client).await;
    burst(&client).await;
    // A peer that drops us does so within a second of the burst (the client would reconnect
    // about 160 ms later: the runner's check of the peer's log is what tells a drop apart).
    sleep(2_000).await;
    let peers = to_json(&client.peers().unwrap());
    assert_eq!(connected_peer(&peers).as_ref(), Some(&before), "{peers}");
    JsFuture::from(client.close()).await.unwrap();
}

/// `consensusRpcUrl()` gives Helios a URL answered inside the page: requests to it reach the
/// client's fetch handler (with `url` set, as reqwest-wasm needs), everything else passes
/// through, and `close()` removes it.
#[wasm_bindgen_test]
async fn consensus_rpc_url_answers_in_the_page() {
    let expected = get_json("/expected.json").await;
    let network = get_json("/network").await;
    let client = connect_via_bridge(&network).await;
    let page_fetch = Reflect::get(&js_sys::global(), &"fetch".into()).unwrap();
    let base = client.consensus_rpc_url().unwrap();
    assert!(base.ends_with(".beacon-p2p.invalid"), "{base}");
    assert_eq!(client.consensus_rpc_url().unwrap(), base, "idempotent");

    let url = format!("{base}/eth/v1/beacon/light_client/bootstrap/{BOOTSTRAP_ROOT}");
    let response: web_sys::Response = JsFuture::from(fetch(&url))
        .await
        .expect("answered in the page")
        .unchecked_into();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.url(),
        url,
        "Helios's HTTP client reads the response URL"
    );
    let body = JsFuture::from(response.text().unwrap()).await.unwrap();
    let body: Value = serde_json::from_str(&body.as_string().unwrap()).unwrap();
    assert_eq!(body, expected["bootstraps"][BOOTSTRAP_ROOT]);

    let unknown: web_sys::Response = JsFuture::from(fetch(&format!("{base}/eth/v1/nothing")))
        .await
        .unwrap()
        .unchecked_into();
    assert_eq!(unknown.status(), 404);

    // data: URLs (Helios loads its wasm from one) and other origins pass through.
    let data: web_sys::Response = JsFuture::from(fetch("data:text/plain,passed"))
        .await
        .unwrap()
        .unchecked_into();
    let text = JsFuture::from(data.text().unwrap()).await.unwrap();
    assert_eq!(text.as_string().as_deref(), Some("passed"));
    assert_eq!(get_json("/network").await, network);

    JsFuture::from(client.close()).await.unwrap();
    // (Not by fetching it: the name would then be looked up outside the machine.)
    let fetch_now = Reflect::get(&js_sys::global(), &"fetch".into()).unwrap();
    assert!(
        js_sys::Object::is(&fetch_now, &page_fetch),
        "close() gives the page its own fetch back"
    );
}

/// The client's own store, through the bridge: `sync` from the checkpoint resolves with heads
/// the store verified (the capture's real sync-committee signatures), `verifiedHead()` and the
/// peer list agree, and a checkpoint that is not a root is refused.
#[wasm_bindgen_test]
async fn sync_reaches_a_verified_head_through_the_bridge() {
    let network = get_json("/network").await;
    let client = connect_via_bridge(&network).await;
    assert_eq!(to_json(&client.verified_head().unwrap()), Value::Null);
    let (code, message) = settle(client.sync(to_js(&json!({"checkpoint": "0x1234"}))))
        .await
        .unwrap_err();
    assert_eq!(code, "INVALID_ARGUMENT", "{message}");
    let (code, message) = settle(client.sync(to_js(&json!({"root": BOOTSTRAP_ROOT}))))
        .await
        .unwrap_err();
    assert_eq!(code, "INVALID_ARGUMENT", "{message}");

    let started = js_sys::Date::now();
    let heads = settle(client.sync(to_js(&json!({"checkpoint": BOOTSTRAP_ROOT}))))
        .await
        .unwrap_or_else(|error| panic!("sync: {error:?}"));
    step(&format!(
        "sync() resolved after {} ms: finalized {}, optimistic {}",
        js_sys::Date::now() - started,
        heads["finalized"]["slot"],
        heads["optimistic"]["slot"]
    ));
    assert_eq!(heads["checkpoint"], BOOTSTRAP_ROOT);
    let finalized = heads["finalized"]["slot"].as_u64().unwrap();
    let optimistic = heads["optimistic"]["slot"].as_u64().unwrap();
    // The checkpoint is at slot 88; the peer replays from slot 200 on.
    assert!(finalized > 88, "{heads}");
    assert!(optimistic >= finalized, "{heads}");
    assert_eq!(heads["finalized"]["syncCommitteeSize"], 32);
    assert_eq!(
        heads["finalized"]["header"]["beacon"]["slot"].as_str(),
        Some(finalized.to_string().as_str())
    );
    assert_eq!(to_json(&client.verified_head().unwrap()), heads);
    let peers = to_json(&client.peers().unwrap());
    let peer = peers
        .as_array()
        .unwrap()
        .iter()
        .find(|peer| peer["connected"] == true)
        .unwrap_or_else(|| panic!("{peers}"));
    assert_eq!(peer["invalid"], 0, "{peers}");
    let _ = JsFuture::from(client.close()).await;
}
