//! What the wasm32 suites that run in the browser share: GET JSON, JS ⇄ JSON, settling a
//! promise into its value or its error's code and message, logging a step, sleeping.
// Each suite uses a part of it.
#![allow(dead_code)]

use beacon_p2p::js::BeaconP2P;
use js_sys::{Promise, Reflect};
use serde::Serialize as _;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch(url: &str) -> Promise;
}

/// A server `scripts/wasm.py test` started on 127.0.0.1, from the variable it set at compile
/// time (not env!(): the suites must still compile, for clippy, without it).
fn test_server(variable: Option<&'static str>, name: &str) -> &'static str {
    variable.unwrap_or_else(|| {
        panic!(
            "{name} is unset: run the browser tests with `python3 scripts/wasm.py test`, which \
             starts the test peers, a bridge and its control server first"
        )
    })
}

/// The test bridge (it relays to the first test peer and serves `/network`).
pub fn bridge() -> &'static str {
    test_server(
        option_env!("BEACON_P2P_TEST_BRIDGE"),
        "BEACON_P2P_TEST_BRIDGE",
    )
}

/// The control server: `/info`, stopping and starting the WebSocket peer and the Beacon API.
pub fn control() -> &'static str {
    test_server(
        option_env!("BEACON_P2P_TEST_CONTROL"),
        "BEACON_P2P_TEST_CONTROL",
    )
}

/// The JSON `url` answers (panics unless it answers 2xx with JSON).
pub async fn get_json_at(url: &str) -> Value {
    let response: web_sys::Response = JsFuture::from(fetch(url))
        .await
        .unwrap_or_else(|error| panic!("GET {url}: {error:?}"))
        .unchecked_into();
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    let text = text.as_string().unwrap_or_default();
    assert!(
        response.ok(),
        "GET {url}: HTTP {}: {text}",
        response.status()
    );
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("GET {url}: {error}: {text}"))
}

pub fn to_json(value: &JsValue) -> Value {
    serde_wasm_bindgen::from_value(value.clone()).expect("plain JSON from the JS API")
}

pub fn to_js(value: &Value) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

/// The promise's value, or its error's `code` and message.
pub async fn settle_value(promise: Promise) -> Result<JsValue, (String, String)> {
    JsFuture::from(promise).await.map_err(|error| {
        let code = Reflect::get(&error, &"code".into())
            .ok()
            .and_then(|code| code.as_string())
            .unwrap_or_default();
        let message = error
            .dyn_ref::<js_sys::Error>()
            .map(|error| String::from(error.message()))
            .unwrap_or_default();
        (code, message)
    })
}

/// [`settle_value`] as JSON.
pub async fn settle(promise: Promise) -> Result<Value, (String, String)> {
    settle_value(promise).await.map(|value| to_json(&value))
}

/// The code and message `connect(options)` rejects with (panics if it resolves).
pub async fn connect_error(options: Value) -> (String, String) {
    match BeaconP2P::connect(to_js(&options)).await {
        Ok(client) => {
            let _ = JsFuture::from(client.close()).await;
            panic!("connect({options}) succeeded")
        }
        Err(error) => (
            Reflect::get(&error, &"code".into())
                .unwrap()
                .as_string()
                .unwrap_or_default(),
            error
                .dyn_ref::<js_sys::Error>()
                .map(|error| String::from(error.message()))
                .unwrap_or_default(),
        ),
    }
}

pub fn step(what: &str) {
    web_sys::console::log_1(&what.into());
}

pub fn sleep(ms: u32) -> impl std::future::Future<Output = ()> {
    gloo_timers::future::TimeoutFuture::new(ms)
}
