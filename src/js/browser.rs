//! What only a browser has: `fetch`, timers on the event loop, `Error` objects, the console.

use std::future::Future;

use futures::FutureExt;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::options::BridgePeer;

/// Most bytes read from a bridge's `/peers` (4,096 peers with ENRs fit easily).
const MAX_PEERS_BODY: usize = 4 * 1024 * 1024;
/// Time a bridge has to answer `/peers`.
const BRIDGE_TIMEOUT_MS: u32 = 5_000;

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, in windows and workers alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str) -> js_sys::Promise;
}

/// A failure on its way to JavaScript: a code from [`super::ERROR_CODES`] and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

impl From<ApiError> for JsValue {
    fn from(error: ApiError) -> JsValue {
        js_error(error.code, &error.message)
    }
}

/// `new Error(message)` with `code` set.
pub fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

/// Resolves after `ms` milliseconds.
pub fn sleep_ms(ms: u32) -> impl Future<Output = ()> {
    gloo_timers::future::TimeoutFuture::new(ms)
}

/// Logs to the console (the only place a listener's exception can go).
pub fn log_error(what: &str, error: &JsValue) {
    web_sys::console::error_2(&what.into(), error);
}

/// The peers a bridge offers (`GET <bridge>/peers`), within [`BRIDGE_TIMEOUT_MS`].
pub async fn fetch_bridge_peers(bridge: &str) -> Result<Vec<BridgePeer>, String> {
    let url = format!("{}/peers", bridge.trim_end_matches('/'));
    let request = async {
        let response: web_sys::Response = JsFuture::from(global_fetch(&url))
            .await
            .map_err(|error| format!("GET {url}: {}", describe(&error)))?
            .dyn_into()
            .map_err(|_| format!("GET {url}: not a Response"))?;
        if !response.ok() {
            return Err(format!("GET {url}: HTTP {}", response.status()));
        }
        let text = response.text().map_err(|error| describe(&error))?;
        let text = JsFuture::from(text)
            .await
            .map_err(|error| format!("GET {url}: {}", describe(&error)))?
            .as_string()
            .unwrap_or_default();
        if text.len() > MAX_PEERS_BODY {
            return Err(format!("GET {url}: body over {MAX_PEERS_BODY} bytes"));
        }
        serde_json::from_str::<Vec<BridgePeer>>(&text)
            .map_err(|error| format!("GET {url}: not a peer list: {error}"))
    };
    futures::select! {
        result = request.fuse() => result,
        _ = sleep_ms(BRIDGE_TIMEOUT_MS).fuse() => Err(format!("GET {url}: no answer within {BRIDGE_TIMEOUT_MS} ms")),
    }
}

/// A JS exception as text.
fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}
