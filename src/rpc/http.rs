//! One HTTP GET per target: hyper over tokio natively (plain `http://`: a beacon node next to
//! us), the global `fetch` in the browser (windows and workers; `https://` too).

/// A response: status, the headers a Beacon-API client reads, and the body (at most the bound
/// given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// `Content-Type`, when given.
    pub content_type: Option<String>,
    /// `Eth-Consensus-Version` (the fork of an SSZ body), when given.
    pub consensus_version: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Whether the body is SSZ (`application/octet-stream`), not JSON.
    pub fn is_ssz(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(|kind| kind.trim().starts_with("application/octet-stream"))
    }
}

/// `Accept` for JSON only.
pub const JSON: &str = "application/json";
/// `Accept` for SSZ where the server offers it, JSON otherwise.
pub const SSZ_OR_JSON: &str = "application/octet-stream;q=1.0,application/json;q=0.9";

/// GETs `url` with `accept`; a body over `max_body` bytes is an error.
#[cfg(not(target_arch = "wasm32"))]
pub async fn get(url: &str, accept: &str, max_body: usize) -> Result<HttpResponse, String> {
    use http_body_util::BodyExt;

    let uri: hyper::Uri = url
        .parse()
        .map_err(|error| format!("invalid URL: {error}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(
                "https is not supported by the native client yet (no TLS): use a \
                        beacon node's http:// API"
                    .into(),
            )
        }
        _ => return Err("expected an http:// URL".into()),
    }
    let host = uri.host().ok_or("no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let stream = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|error| format!("connect: {error}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|error| format!("HTTP handshake: {error}"))?;
    // The connection runs until the response is read and `sender` is dropped.
    let connection = tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::ACCEPT, accept)
        .body(http_body_util::Empty::<hyper::body::Bytes>::new())
        .map_err(|error| error.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| format!("request: {error}"))?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type");
    let consensus_version = header("eth-consensus-version");
    let body = http_body_util::Limited::new(response.into_body(), max_body)
        .collect()
        .await
        .map_err(|error| format!("body (at most {max_body} bytes): {error}"))?
        .to_bytes()
        .to_vec();
    drop(sender);
    connection.abort();
    Ok(HttpResponse {
        status,
        content_type,
        consensus_version,
        body,
    })
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        // The global `fetch`, in windows and workers alike.
        #[wasm_bindgen(js_name = fetch)]
        pub fn fetch_with_request(request: &web_sys::Request) -> js_sys::Promise;
    }
}

/// GETs `url` with `accept`; a body over `max_body` bytes is an error.
#[cfg(target_arch = "wasm32")]
pub async fn get(url: &str, accept: &str, max_body: usize) -> Result<HttpResponse, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let describe = |error: wasm_bindgen::JsValue| {
        error
            .dyn_ref::<js_sys::Error>()
            .map(|error| String::from(error.message()))
            .or_else(|| error.as_string())
            .unwrap_or_else(|| format!("{error:?}"))
    };
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(describe)?;
    request.headers().set("accept", accept).map_err(describe)?;
    let response: web_sys::Response = JsFuture::from(browser::fetch_with_request(&request))
        .await
        .map_err(describe)?
        .dyn_into()
        .map_err(|_| "not a Response".to_string())?;
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.parse::<usize>().ok());
    if declared.is_some_and(|length| length > max_body) {
        return Err(format!("body over {max_body} bytes"));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(describe)?)
        .await
        .map_err(describe)?;
    let bytes = js_sys::Uint8Array::new(&buffer);
    if bytes.length() as usize > max_body {
        return Err(format!("body over {max_body} bytes"));
    }
    let header = |name: &str| response.headers().get(name).ok().flatten();
    Ok(HttpResponse {
        status: response.status(),
        content_type: header("content-type"),
        consensus_version: header("eth-consensus-version"),
        body: bytes.to_vec(),
    })
}
