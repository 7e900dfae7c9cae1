//! The HTTP surface: `/healthz`, `/metrics`, `/peers`, the Beacon-API light-client routes, SSE
//! events, the relay, and the demo page.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Component, Path as FsPath};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt as _;
use axum::Router;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::relay::{self, Refusal};
use super::Shared;
use crate::client::{BlockId, ClientError, DataSource, Event, FetchedBlock, Sourced};
use crate::node::FetchError;
use crate::primitives::Root;
use crate::types::{LightClientObject, MAX_REQUEST_LIGHT_CLIENT_UPDATES};

/// Largest file served from `--www`.
const MAX_STATIC_FILE: u64 = 32 * 1024 * 1024;

pub(super) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/peers", get(peers))
        .route("/network", get(network))
        .route("/relay/{peer}", get(relay_route))
        .route(
            "/eth/v1/beacon/light_client/bootstrap/{block_root}",
            get(bootstrap),
        )
        .route("/eth/v1/beacon/light_client/updates", get(updates))
        .route(
            "/eth/v1/beacon/light_client/finality_update",
            get(finality_update),
        )
        .route(
            "/eth/v1/beacon/light_client/optimistic_update",
            get(optimistic_update),
        )
        .route("/eth/v2/beacon/blocks/{block_id}", get(block))
        .route("/eth/v1/events", get(events))
        .fallback(get(static_file))
        .layer(axum::middleware::map_response(allow_any_origin))
        .with_state(shared);
    // No Nagle: the relay forwards small noise frames one by one, and Nagle holding one until
    // the browser's (delayed) ACK of the last cost ~40 ms per exchange (bench/parts/wan.sh).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(error) = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    {
        tracing::error!(%error, "HTTP server stopped");
    }
}

/// The Beacon API's error body.
fn api_error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({ "code": status.as_u16(), "message": message.into() });
    (status, axum::Json(body)).into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let sources = shared.client.sources();
    let text = shared
        .metrics
        .render(&shared.limits, &shared.table, &sources);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Everything here is public chain data and a page on another origin (a wallet, a test runner)
/// must be able to read it; the relay's own Origin policy is enforced in `relay::admit`.
async fn allow_any_origin(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// The network the bridge is on, in the shape `BeaconP2P.connect({network})` takes, so a page
/// served by (or pointed at) this bridge can join the same network.
async fn network(State(shared): State<Arc<Shared>>) -> Response {
    let chain = shared.client.chain();
    let body = json!({
        "name": chain.name,
        "preset": chain.preset.to_string(),
        "configYaml": chain.config_yaml,
        "genesisValidatorsRoot": format!("0x{}", hex::encode(chain.genesis_validators_root.0)),
        "genesisTime": chain.genesis_time,
        "slotDurationMs": chain.slot_duration_ms,
        // Kept for pages written before SLOT_DURATION_MS; a fraction for sub-second slots.
        "secondsPerSlot": seconds_per_slot(chain.slot_duration_ms),
        // The bridge's clock minus the wall clock (`--clock-start`/`--clock-offset-ms`, 0
        // normally): a page replaying recorded data runs its own clock (and its light clients')
        // by the same offset, so that it agrees with the bridge and its peers on "now".
        "clockOffsetMs": shared.client.clock().offset_ms(),
    });
    axum::Json(body).into_response()
}

/// `slot_duration_ms` in seconds: a whole JSON number when it is one.
fn seconds_per_slot(slot_duration_ms: u64) -> serde_json::Value {
    if slot_duration_ms.is_multiple_of(1000) {
        json!(slot_duration_ms / 1000)
    } else {
        json!(slot_duration_ms as f64 / 1000.0)
    }
}

/// A `/peers` entry: the table's, and how many light-client answers of the bridge's routes the
/// peer's data made.
#[derive(serde::Serialize)]
struct OfferedPeer {
    #[serde(flatten)]
    peer: super::table::TablePeer,
    served: u64,
}

async fn peers(State(shared): State<Arc<Shared>>) -> Response {
    let start = Instant::now();
    let offered: Vec<OfferedPeer> = shared
        .table
        .offered()
        .into_iter()
        .map(|peer| OfferedPeer {
            served: shared.metrics.served_by(&peer.peer_id),
            peer,
        })
        .collect();
    let body = axum::Json(offered).into_response();
    shared.metrics.observe("peers", 200, start.elapsed());
    body
}

async fn relay_route(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(peer): Path<String>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let refuse = |refusal: Refusal| {
        shared.metrics.refused(&refusal);
        let status = refusal.status();
        tracing::warn!(
            event = "relay_refused",
            client = %remote,
            reason = refusal.reason(),
            status = status.as_u16(),
            detail = %refusal,
        );
        api_error(status, refusal.to_string())
    };
    let (peer_id, socket, slot) = match relay::admit(&shared, &peer, remote.ip(), origin.as_deref())
    {
        Ok(admitted) => admitted,
        Err(refusal) => return refuse(refusal),
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return refuse(Refusal::NotWebSocket(rejection.body_text())),
    };
    let tcp = match relay::connect(&peer_id, socket).await {
        Ok(tcp) => tcp,
        Err(refusal) => {
            shared.table.failed(&peer_id);
            return refuse(refusal);
        }
    };
    let id = shared.next_session.fetch_add(1, Ordering::Relaxed);
    shared
        .metrics
        .sessions_total
        .fetch_add(1, Ordering::Relaxed);
    tracing::info!(event = "session_opened", session = id, client = %remote, peer = %peer_id, address = %socket);
    let shared = shared.clone();
    upgrade
        .max_message_size(relay::MAX_FRAME)
        .max_frame_size(relay::MAX_FRAME)
        .max_write_buffer_size(4 * relay::MAX_FRAME)
        // Grows up to a frame when needed; small keeps idle sessions cheap.
        .read_buffer_size(8 * 1024)
        .on_upgrade(move |websocket| async move {
            let started = Instant::now();
            let report = relay::pipe(&shared, websocket, tcp).await;
            drop(slot);
            shared.metrics.closed(report.reason);
            tracing::info!(
                event = "session_closed",
                session = id,
                client = %remote,
                peer = %peer_id,
                bytes_to_peer = report.to_peer,
                bytes_to_browser = report.to_browser,
                duration_ms = started.elapsed().as_millis() as u64,
                reason = report.reason.label(),
            );
        })
}

fn wants_ssz(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| {
            accept.split(',').any(|part| {
                part.split(';').next().map(str::trim) == Some("application/octet-stream")
            })
        })
}

/// The response header naming where a light-client answer's data came from
/// (`p2p; peer=<id>`, `p2p`, `rpc; url=<url>`).
const SOURCE_HEADER: &str = "beacon-p2p-source";

/// `response` with the source header, counted for `/metrics` and `/peers`.
fn from_source(
    shared: &Shared,
    route: &'static str,
    source: &DataSource,
    mut response: Response,
) -> Response {
    shared.metrics.served(route, source);
    if let Ok(value) = HeaderValue::from_str(&source.to_string()) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static(SOURCE_HEADER), value);
    }
    response
}

/// One sourced object as the Beacon API serves it, or the error.
fn sourced_response(
    shared: &Shared,
    route: &'static str,
    result: Result<Sourced<LightClientObject>, ClientError>,
    ssz: bool,
) -> Response {
    match result {
        Ok(Sourced { data, source }) => {
            from_source(shared, route, &source, object_response(data, ssz))
        }
        Err(error) => fetch_error(error),
    }
}

fn error_status(error: &ClientError) -> StatusCode {
    match error {
        ClientError::Fetch(FetchError::Unavailable(_)) | ClientError::NotFound(_) => {
            StatusCode::NOT_FOUND
        }
        ClientError::Fetch(FetchError::InvalidRequest(_))
        | ClientError::Updates(_)
        | ClientError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        ClientError::Fetch(FetchError::NoPeerAnswered { .. })
        | ClientError::Fetch(FetchError::NoPeerServes { .. }) => StatusCode::SERVICE_UNAVAILABLE,
        ClientError::Rpc(_) => StatusCode::BAD_GATEWAY,
        // As for the error code: peers decide, unless there was none to ask.
        ClientError::AllSources { p2p, rpc } => error_status(crate::client::p2p_or_rpc(p2p, rpc)),
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn fetch_error(error: ClientError) -> Response {
    api_error(error_status(&error), error.to_string())
}

fn version_header(object: &LightClientObject) -> HeaderValue {
    HeaderValue::from_static(object.fork.name())
}

/// One object as the Beacon API serves it: `{version, data}` JSON or its SSZ.
fn object_response(object: LightClientObject, ssz: bool) -> Response {
    let version = version_header(&object);
    if ssz {
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                ),
                (
                    header::HeaderName::from_static("eth-consensus-version"),
                    version,
                ),
            ],
            object.ssz,
        )
            .into_response()
    } else {
        (
            [(
                header::HeaderName::from_static("eth-consensus-version"),
                version,
            )],
            axum::Json(object.to_beacon_api_json().clone()),
        )
            .into_response()
    }
}

/// A block as `GET /eth/v2/beacon/blocks/{block_id}` serves it: JSON, or its SSZ.
fn block_response(fetched: FetchedBlock, ssz: bool) -> Response {
    let version = HeaderValue::from_static(fetched.block.fork().name());
    let version_header = header::HeaderName::from_static("eth-consensus-version");
    if ssz {
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                ),
                (version_header, version),
            ],
            fetched.block.to_ssz(),
        )
            .into_response()
    } else {
        (
            [(version_header, version)],
            axum::Json(fetched.to_beacon_api_json()),
        )
            .into_response()
    }
}

async fn timed(
    shared: &Shared,
    route: &'static str,
    work: impl std::future::Future<Output = Response>,
) -> Response {
    let start = Instant::now();
    let response = work.await;
    shared
        .metrics
        .observe(route, response.status().as_u16(), start.elapsed());
    response
}

async fn bootstrap(
    State(shared): State<Arc<Shared>>,
    Path(block_root): Path<String>,
    headers: HeaderMap,
) -> Response {
    timed(&shared, "bootstrap", async {
        let root = match Root::from_hex(&block_root) {
            Ok(root) => root,
            Err(error) => {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    format!("invalid block root: {error}"),
                )
            }
        };
        let result = shared.client.bootstrap_sourced(root).await;
        sourced_response(&shared, "bootstrap", result, wants_ssz(&headers))
    })
    .await
}

async fn block(
    State(shared): State<Arc<Shared>>,
    Path(block_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    timed(&shared, "block", async {
        let id: BlockId = match block_id.parse() {
            Ok(id) => id,
            Err(error) => return fetch_error(ClientError::from(error)),
        };
        match shared.client.block_with_finality(id).await {
            Ok(fetched) => {
                let source = fetched.source.clone();
                let response = block_response(fetched, wants_ssz(&headers));
                from_source(&shared, "block", &source, response)
            }
            Err(error) => fetch_error(error),
        }
    })
    .await
}

#[derive(Debug, Deserialize)]
struct UpdatesQuery {
    start_period: Option<String>,
    count: Option<String>,
}

async fn updates(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<UpdatesQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    timed(&shared, "updates", async {
        let Ok(Query(query)) = query else {
            return api_error(StatusCode::BAD_REQUEST, "invalid query string");
        };
        let number = |name: &str, value: Option<String>| -> Result<u64, String> {
            value
                .ok_or_else(|| format!("{name} is required"))?
                .parse::<u64>()
                .map_err(|_| format!("{name} must be an unsigned integer"))
        };
        let (start, count) = match (
            number("start_period", query.start_period),
            number("count", query.count),
        ) {
            (Ok(start), Ok(count)) => (start, count),
            (Err(message), _) | (_, Err(message)) => {
                return api_error(StatusCode::BAD_REQUEST, message)
            }
        };
        if count == 0 || count > MAX_REQUEST_LIGHT_CLIENT_UPDATES {
            return api_error(
                StatusCode::BAD_REQUEST,
                format!("count must be 1..={MAX_REQUEST_LIGHT_CLIENT_UPDATES}"),
            );
        }
        let sourced = match shared.client.updates_sourced(start, count).await {
            Ok(updates) => updates,
            Err(error) => return fetch_error(error),
        };
        // At most 128 periods: one request, one source.
        let source = sourced.first().map(|update| update.source.clone());
        let updates: Vec<LightClientObject> =
            sourced.into_iter().map(|update| update.data).collect();
        let response = if wants_ssz(&headers) {
            // Beacon API: each chunk is `response_chunk_len` (u64 LE, length of context +
            // payload) ‖ fork digest of the attested slot ‖ SSZ.
            let chain = shared.client.chain();
            let mut body = Vec::new();
            for update in &updates {
                let digest = chain.fork_digest_at_slot(update.slot);
                body.extend_from_slice(&((update.ssz.len() + 4) as u64).to_le_bytes());
                body.extend_from_slice(digest.as_ref());
                body.extend_from_slice(&update.ssz);
            }
            ([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response()
        } else {
            let items: Vec<Value> = updates
                .iter()
                .map(|update| update.to_beacon_api_json().clone())
                .collect();
            axum::Json(Value::Array(items)).into_response()
        };
        match source {
            Some(source) => from_source(&shared, "updates", &source, response),
            None => response,
        }
    })
    .await
}

async fn finality_update(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    timed(&shared, "finality_update", async {
        let result = shared.client.finality_update_sourced().await;
        sourced_response(&shared, "finality_update", result, wants_ssz(&headers))
    })
    .await
}

async fn optimistic_update(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    timed(&shared, "optimistic_update", async {
        let result = shared.client.optimistic_update_sourced().await;
        sourced_response(&shared, "optimistic_update", result, wants_ssz(&headers))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    topics: Option<String>,
}

const FINALITY_TOPIC: &str = "light_client_finality_update";
const OPTIMISTIC_TOPIC: &str = "light_client_optimistic_update";

/// Holds an SSE slot; gives it back when the stream is dropped.
struct StreamSlot(Arc<Shared>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0
            .metrics
            .event_streams_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

async fn events(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return api_error(StatusCode::BAD_REQUEST, "invalid query string");
    };
    let topics = query.topics.unwrap_or_default();
    let (mut finality, mut optimistic) = (false, false);
    for topic in topics.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        match topic {
            FINALITY_TOPIC => finality = true,
            OPTIMISTIC_TOPIC => optimistic = true,
            other => {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "unsupported topic {:?}: the bridge serves {FINALITY_TOPIC} and {OPTIMISTIC_TOPIC}",
                        other.chars().take(64).collect::<String>()
                    ),
                )
            }
        }
    }
    if !finality && !optimistic {
        return api_error(StatusCode::BAD_REQUEST, "topics is required");
    }
    let open = shared
        .metrics
        .event_streams_open
        .fetch_add(1, Ordering::Relaxed);
    let slot = StreamSlot(shared.clone());
    if open as usize >= shared.max_event_streams {
        drop(slot);
        return api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{} event streams open, the maximum",
                shared.max_event_streams
            ),
        );
    }
    let stream = shared.client.events().await.filter_map(move |event| {
        let _hold = &slot;
        let item = match event {
            Event::FinalityUpdate(update) if finality => Some((FINALITY_TOPIC, update)),
            Event::OptimisticUpdate(update) if optimistic => Some((OPTIMISTIC_TOPIC, update)),
            _ => None,
        }
        .map(|(topic, update)| {
            Ok::<_, Infallible>(
                SseEvent::default()
                    .event(topic)
                    .data(update.to_beacon_api_json().to_string()),
            )
        });
        futures::future::ready(item)
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn content_type(path: &FsPath) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn static_file(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let not_found = || api_error(StatusCode::NOT_FOUND, "not found");
    let Some(root) = &shared.www else {
        return not_found();
    };
    let relative = uri.path().trim_start_matches('/');
    let relative = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_string()
    };
    let relative = FsPath::new(&relative);
    // Only plain names: no `..`, no absolute paths, nothing outside the directory.
    if !relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
    {
        return not_found();
    }
    let path = root.join(relative);
    let Ok(metadata) = tokio::fs::metadata(&path).await else {
        return not_found();
    };
    if !metadata.is_file() || metadata.len() > MAX_STATIC_FILE {
        return not_found();
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, content_type(&path))],
            Body::from(Bytes::from(bytes)),
        )
            .into_response(),
        Err(_) => not_found(),
    }
}
