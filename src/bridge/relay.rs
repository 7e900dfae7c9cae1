//! The restricted relay: `GET /relay/<peer-id>` upgrades to a WebSocket and pipes binary frames
//! to and from a TCP connection to that peer — and only that peer, at the address the bridge's
//! table holds for it. Nothing in the request chooses an address. Each direction forwards one
//! frame (at most [`MAX_FRAME`] bytes) at a time and waits for the write to finish before reading
//! the next, so a slow side slows the other instead of filling the bridge's memory.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::http::StatusCode;
use futures::{SinkExt, StreamExt};
use libp2p::PeerId;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::Shared;
pub use crate::node::enr::{is_private, socket_address};

/// Largest WebSocket frame/message accepted from a browser, and largest TCP read forwarded.
/// Noise frames are at most 65,535 bytes plus a 2-byte length.
pub const MAX_FRAME: usize = 128 * 1024;
/// Largest TCP read forwarded to the browser as one frame.
const READ_CHUNK: usize = 16 * 1024;
/// Time to connect to a peer over TCP.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a relay request was refused before a session opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The path does not hold a peer id.
    #[error("not a peer id: {0}")]
    BadPeerId(String),
    /// The peer is not one the bridge offers.
    #[error("peer {0} is not in the bridge's peer table")]
    UnknownPeer(String),
    /// The peer's address is private or loopback and `--allow-private` is off.
    #[error("peer {peer} is at a private or loopback address ({ip}); the bridge was started without --allow-private")]
    PrivateAddress {
        /// The peer.
        peer: String,
        /// Its IP.
        ip: IpAddr,
    },
    /// The peer's address is not `/ip4|ip6/…/tcp/…`.
    #[error("peer {0} has no IP and TCP address")]
    UnsupportedAddress(String),
    /// The Origin header is not on the allowlist.
    #[error("origin {0:?} is not allowed")]
    Origin(String),
    /// Every session slot is taken.
    #[error("the bridge has {0} sessions open, its maximum")]
    SessionCap(usize),
    /// This client IP has every session it may have.
    #[error("{ip} has {max} sessions open, the maximum per IP")]
    IpCap {
        /// The client IP.
        ip: IpAddr,
        /// The cap.
        max: usize,
    },
    /// The request is not a WebSocket upgrade.
    #[error("not a WebSocket upgrade request: {0}")]
    NotWebSocket(String),
    /// The peer did not accept a TCP connection.
    #[error("cannot reach peer {peer}: {reason}")]
    PeerUnreachable {
        /// The peer.
        peer: String,
        /// What happened.
        reason: String,
    },
}

impl Refusal {
    /// Every reason label, for `/metrics`.
    pub const REASONS: [&'static str; 9] = [
        "bad_peer_id",
        "unknown_peer",
        "private_address",
        "unsupported_address",
        "origin",
        "session_cap",
        "ip_cap",
        "not_websocket",
        "peer_unreachable",
    ];

    /// The metrics label.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::BadPeerId(_) => "bad_peer_id",
            Refusal::UnknownPeer(_) => "unknown_peer",
            Refusal::PrivateAddress { .. } => "private_address",
            Refusal::UnsupportedAddress(_) => "unsupported_address",
            Refusal::Origin(_) => "origin",
            Refusal::SessionCap(_) => "session_cap",
            Refusal::IpCap { .. } => "ip_cap",
            Refusal::NotWebSocket(_) => "not_websocket",
            Refusal::PeerUnreachable { .. } => "peer_unreachable",
        }
    }

    /// The HTTP status it is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::BadPeerId(_) => StatusCode::BAD_REQUEST,
            Refusal::UnknownPeer(_) => StatusCode::NOT_FOUND,
            Refusal::PrivateAddress { .. } | Refusal::Origin(_) => StatusCode::FORBIDDEN,
            Refusal::UnsupportedAddress(_) | Refusal::PeerUnreachable { .. } => {
                StatusCode::BAD_GATEWAY
            }
            Refusal::SessionCap(_) => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::IpCap { .. } => StatusCode::TOO_MANY_REQUESTS,
            Refusal::NotWebSocket(_) => StatusCode::UPGRADE_REQUIRED,
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The browser closed the WebSocket.
    BrowserClosed,
    /// The peer closed the TCP connection.
    PeerClosed,
    /// Neither side sent anything for the idle timeout.
    IdleTimeout,
    /// The session relayed its byte cap.
    ByteCap,
    /// The browser sent a text frame (the relay carries binary frames only).
    TextFrame,
    /// A read or write failed.
    Error,
}

impl CloseReason {
    /// Every label, for `/metrics`.
    pub const LABELS: [&'static str; 6] = [
        "browser_closed",
        "peer_closed",
        "idle_timeout",
        "byte_cap",
        "text_frame",
        "error",
    ];

    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            CloseReason::BrowserClosed => "browser_closed",
            CloseReason::PeerClosed => "peer_closed",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::ByteCap => "byte_cap",
            CloseReason::TextFrame => "text_frame",
            CloseReason::Error => "error",
        }
    }

    /// The WebSocket close code sent to the browser.
    pub fn code(self) -> u16 {
        match self {
            CloseReason::BrowserClosed | CloseReason::PeerClosed => 1000,
            CloseReason::IdleTimeout => 4000,
            CloseReason::ByteCap => 4001,
            CloseReason::TextFrame => 1003,
            CloseReason::Error => 1011,
        }
    }
}

/// Checks a relay request against the table and the limits. On success the session's slot is
/// held by the returned guard.
pub(crate) fn admit(
    shared: &Arc<Shared>,
    peer: &str,
    client_ip: IpAddr,
    origin: Option<&str>,
) -> Result<(PeerId, SocketAddr, SessionSlot), Refusal> {
    let limits = &shared.limits;
    if !limits.allowed_origins.is_empty() {
        let origin = origin.unwrap_or("");
        if !limits
            .allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
        {
            return Err(Refusal::Origin(origin.chars().take(200).collect()));
        }
    }
    let shown: String = peer.chars().take(100).collect();
    let peer_id: PeerId = peer
        .parse()
        .map_err(|_| Refusal::BadPeerId(shown.clone()))?;
    let address = shared
        .table
        .relay_address(&peer_id)
        .ok_or_else(|| Refusal::UnknownPeer(shown.clone()))?;
    let socket =
        socket_address(&address).ok_or_else(|| Refusal::UnsupportedAddress(shown.clone()))?;
    if !limits.allow_private && is_private(socket.ip()) {
        return Err(Refusal::PrivateAddress {
            peer: shown,
            ip: socket.ip(),
        });
    }
    let slot = SessionSlot::take(shared, client_ip)?;
    Ok((peer_id, socket, slot))
}

/// A held session slot; gives it back when dropped.
pub(crate) struct SessionSlot {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl SessionSlot {
    fn take(shared: &Arc<Shared>, ip: IpAddr) -> Result<SessionSlot, Refusal> {
        let limits = &shared.limits;
        let mut sessions = shared.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = sessions.values().sum();
        if total >= limits.max_sessions {
            return Err(Refusal::SessionCap(limits.max_sessions));
        }
        let count = sessions.entry(ip).or_default();
        if *count >= limits.max_sessions_per_ip {
            if *count == 0 {
                sessions.remove(&ip);
            }
            return Err(Refusal::IpCap {
                ip,
                max: limits.max_sessions_per_ip,
            });
        }
        *count += 1;
        shared.metrics.sessions_open.fetch_add(1, Ordering::Relaxed);
        Ok(SessionSlot {
            shared: shared.clone(),
            ip,
        })
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut sessions = self
            .shared
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(count) = sessions.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                sessions.remove(&self.ip);
            }
        }
        self.shared
            .metrics
            .sessions_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Connects to the peer (bounded by [`CONNECT_TIMEOUT`]).
pub async fn connect(peer: &PeerId, socket: SocketAddr) -> Result<TcpStream, Refusal> {
    let unreachable = |reason: String| Refusal::PeerUnreachable {
        peer: peer.to_string(),
        reason,
    };
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(socket))
        .await
        .map_err(|_| unreachable(format!("no TCP connection within {CONNECT_TIMEOUT:?}")))?
        .map_err(|error| unreachable(error.to_string()))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// What one session did.
pub struct SessionReport {
    /// Bytes browser → peer.
    pub to_peer: u64,
    /// Bytes peer → browser.
    pub to_browser: u64,
    /// Why it ended.
    pub reason: CloseReason,
}

/// Pipes `socket` ⇄ `tcp` until one side closes or a limit is hit, then closes the WebSocket
/// with a code and reason.
pub(crate) async fn pipe(shared: &Shared, mut socket: WebSocket, tcp: TcpStream) -> SessionReport {
    let limits = &shared.limits;
    let start = Instant::now();
    let last_activity = AtomicU64::new(0);
    let to_peer = AtomicU64::new(0);
    let to_browser = AtomicU64::new(0);
    let touch = || {
        last_activity.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
    };
    // Charges `n` bytes to the session; false when that would pass the cap.
    let charge = |counter: &AtomicU64, n: usize| {
        let used = to_peer.load(Ordering::Relaxed) + to_browser.load(Ordering::Relaxed);
        if used.saturating_add(n as u64) > limits.max_session_bytes {
            return false;
        }
        counter.fetch_add(n as u64, Ordering::Relaxed);
        true
    };
    let (tcp_read, mut tcp_write) = tcp.into_split();
    let (mut ws_send, mut ws_receive) = (&mut socket).split();
    let reason = {
        let upstream = async {
            while let Some(message) = ws_receive.next().await {
                match message {
                    Ok(Message::Binary(data)) => {
                        if !charge(&to_peer, data.len()) {
                            return CloseReason::ByteCap;
                        }
                        touch();
                        if tcp_write.write_all(&data).await.is_err() {
                            return CloseReason::PeerClosed;
                        }
                        shared
                            .metrics
                            .bytes_to_peer
                            .fetch_add(data.len() as u64, Ordering::Relaxed);
                    }
                    Ok(Message::Text(_)) => return CloseReason::TextFrame,
                    Ok(Message::Close(_)) => return CloseReason::BrowserClosed,
                    Ok(Message::Ping(_) | Message::Pong(_)) => touch(),
                    Err(_) => return CloseReason::Error,
                }
            }
            CloseReason::BrowserClosed
        };
        let downstream = async {
            loop {
                // Wait for bytes without holding a buffer (an idle session keeps none), then
                // read into one the frame takes over without a copy.
                if tcp_read.readable().await.is_err() {
                    return CloseReason::PeerClosed;
                }
                let mut buffer = Vec::with_capacity(READ_CHUNK);
                match tcp_read.try_read_buf(&mut buffer) {
                    Ok(0) => return CloseReason::PeerClosed,
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
                    Err(_) => return CloseReason::PeerClosed,
                    Ok(n) => {
                        if !charge(&to_browser, n) {
                            return CloseReason::ByteCap;
                        }
                        touch();
                        let data = axum::body::Bytes::from(buffer);
                        if ws_send.send(Message::Binary(data)).await.is_err() {
                            return CloseReason::BrowserClosed;
                        }
                        shared
                            .metrics
                            .bytes_to_browser
                            .fetch_add(n as u64, Ordering::Relaxed);
                    }
                }
            }
        };
        let idle = async {
            let timeout = limits.idle_timeout.as_millis() as u64;
            let check =
                (limits.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
            loop {
                tokio::time::sleep(check).await;
                let quiet = (start.elapsed().as_millis() as u64)
                    .saturating_sub(last_activity.load(Ordering::Relaxed));
                if quiet >= timeout {
                    return CloseReason::IdleTimeout;
                }
            }
        };
        tokio::select! {
            reason = upstream => reason,
            reason = downstream => reason,
            reason = idle => reason,
        }
    };
    let _ = tcp_write.shutdown().await;
    drop(ws_receive);
    let frame = CloseFrame {
        code: reason.code(),
        reason: Utf8Bytes::from_static(reason.label()),
    };
    // The browser may be gone or not reading: do not wait for it long.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = ws_send.send(Message::Close(Some(frame))).await;
        let _ = ws_send.close().await;
    })
    .await;
    SessionReport {
        to_peer: to_peer.load(Ordering::Relaxed),
        to_browser: to_browser.load(Ordering::Relaxed),
        reason,
    }
}
