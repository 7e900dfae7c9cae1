//! The relay part: `beacon-p2p bridge`'s WebSocket→TCP relay against a direct TCP connection and
//! against websockify, with the same client, on loopback.
//!
//! The relay only pipes to peers its own client completed Status with, so the target is a TCP
//! server that tells the two kinds of connection apart by their first bytes: a libp2p dial
//! (multistream-select's header) is forwarded to the js-libp2p test peer — that is how the
//! bridge's client checks the "peer" — and anything else is echoed. The bridge therefore relays
//! to an address it verified, with no change to the bridge; websockify and the direct client
//! reach the same echo server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;

/// What a rust-libp2p (and js-libp2p) dialer sends first: multistream-select's header.
const MULTISTREAM: &[u8] = b"\x13/multistream/1.0.0\n";
/// Frame and write size of the stream test.
const CHUNK: usize = 64 * 1024;
const GROUP: &str = "Relay";
/// Issue 14's goal for the memory an idle relay session adds.
const IDLE_SESSION_GOAL_KIB: f64 = 16.0;

pub struct Options {
    pub bridge: PathBuf,
    pub websockify: PathBuf,
    pub out: PathBuf,
    pub logs: PathBuf,
    /// Bytes echoed per throughput run.
    pub total: usize,
    /// Throughput runs per path (the median is reported).
    pub runs: usize,
    /// 64-byte round trips per path (after a warm-up).
    pub round_trips: usize,
    pub idle_sessions: usize,
    pub busy_sessions: usize,
    /// Seconds of the idle CPU window and of the busy window.
    pub window: u64,
}

/// The echo/peer target (see the module doc). Runs in this process.
async fn target_server(peer: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            if let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_target(stream, peer));
            }
        }
    });
    address
}

async fn serve_target(mut stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let mut head = [0u8; MULTISTREAM.len()];
    loop {
        let n = match stream.peek(&mut head).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if head[..n] != MULTISTREAM[..n] {
            break;
        }
        if n == MULTISTREAM.len() {
            if let Ok(mut upstream) = TcpStream::connect(peer).await {
                let _ = upstream.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
            }
            return;
        }
        // Part of the header so far: wait for the rest.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let n = match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn ws_connect(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|error| panic!("WebSocket {url}: {error}"));
    ws
}

/// Bytes of a payload; never starts with multistream's 0x13.
fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Echo throughput over direct TCP, MB/s (bytes echoed / time).
async fn tcp_throughput(target: SocketAddr, total: usize) -> f64 {
    let stream = TcpStream::connect(target).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut read, mut write) = stream.into_split();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        let chunk = payload(CHUNK);
        for _ in 0..total / CHUNK {
            write.write_all(&chunk).await.unwrap();
        }
    });
    let mut buffer = vec![0u8; CHUNK];
    let mut got = 0;
    while got < total / CHUNK * CHUNK {
        let n = read.read(&mut buffer).await.unwrap();
        assert!(n > 0, "echo server closed");
        got += n;
    }
    let rate = got as f64 / start.elapsed().as_secs_f64() / 1e6;
    writer.await.unwrap();
    rate
}

/// Echo throughput through a WebSocket relay, MB/s.
async fn ws_throughput(url: &str, total: usize) -> f64 {
    let (mut sink, mut stream) = ws_connect(url).await.split();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        let chunk = payload(CHUNK);
        for _ in 0..total / CHUNK {
            sink.send(Message::Binary(chunk.clone().into()))
                .await
                .unwrap();
        }
        sink
    });
    let mut got = 0;
    while got < total / CHUNK * CHUNK {
        match stream.next().await {
            Some(Ok(Message::Binary(data))) => got += data.len(),
            Some(Ok(_)) => {}
            other => panic!("{url}: stream ended: {other:?}"),
        }
    }
    let rate = got as f64 / start.elapsed().as_secs_f64() / 1e6;
    let mut sink = writer.await.unwrap();
    let _ = sink.close().await;
    rate
}

/// 64-byte round trips over direct TCP, µs each.
async fn tcp_round_trips(target: SocketAddr, n: usize) -> Vec<f64> {
    let mut stream = TcpStream::connect(target).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let message = payload(64);
    let mut back = [0u8; 64];
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + n / 10 {
        let start = Instant::now();
        stream.write_all(&message).await.unwrap();
        stream.read_exact(&mut back).await.unwrap();
        if i >= n / 10 {
            samples.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    samples
}

async fn ws_echo(ws: &mut Ws, message: &[u8]) {
    ws.send(Message::Binary(message.to_vec().into()))
        .await
        .unwrap();
    let mut got = 0;
    while got < message.len() {
        match ws.next().await {
            Some(Ok(Message::Binary(data))) => got += data.len(),
            Some(Ok(_)) => {}
            other => panic!("stream ended: {other:?}"),
        }
    }
}

/// 64-byte round trips through a WebSocket relay, µs each (the first tenth is a warm-up).
async fn ws_round_trips(url: &str, n: usize) -> Vec<f64> {
    let mut ws = ws_connect(url).await;
    let message = payload(64);
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + n / 10 {
        let start = Instant::now();
        ws_echo(&mut ws, &message).await;
        if i >= n / 10 {
            samples.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    let _ = ws.close(None).await;
    samples
}

/// A relay under test: how to start it and the URL a client opens.
struct Relay {
    name: &'static str,
    process: Process,
    url: String,
}

struct Setup<'a> {
    options: &'a Options,
    target: SocketAddr,
    peer_id: String,
}

impl Setup<'_> {
    async fn bridge(&self, label: &str) -> Relay {
        let peer = format!(
            "/ip4/127.0.0.1/tcp/{}/p2p/{}",
            self.target.port(),
            self.peer_id
        );
        let sessions = (self.options.idle_sessions + self.options.busy_sessions + 64).to_string();
        let (process, listen) = start_bridge(
            &self.options.bridge,
            &peer,
            &[
                "--max-sessions",
                &sessions,
                "--max-sessions-per-ip",
                &sessions,
                "--idle-timeout",
                "3600",
                "--max-session-bytes",
                &u64::MAX.to_string(),
            ],
            &self.options.logs.join(format!("relay-bridge-{label}.log")),
        );
        // Offered once its client has completed Status with the test peer (through the target).
        wait_offered(listen, &self.peer_id, Duration::from_secs(60)).await;
        Relay {
            name: "beacon-p2p bridge",
            process,
            url: format!("ws://{listen}/relay/{}", self.peer_id),
        }
    }

    async fn websockify(&self, label: &str) -> Relay {
        let port = free_port();
        let args = vec![
            format!("127.0.0.1:{port}"),
            format!("127.0.0.1:{}", self.target.port()),
        ];
        let (process, _) = Process::start(
            "websockify",
            &self.options.websockify,
            &args,
            &self
                .options
                .logs
                .join(format!("relay-websockify-{label}.log")),
            false,
        );
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_listening(address, Duration::from_secs(30)).await;
        Relay {
            name: "websockify",
            process,
            url: format!("ws://{address}/"),
        }
    }
}

/// Opens a session and echoes `message` once through it (bounded, so a relay that stops
/// answering ends the test instead of hanging it).
async fn open_checked(url: &str, message: &[u8]) -> Result<Ws, String> {
    let limit = Duration::from_secs(10);
    let (mut ws, _) = tokio::time::timeout(limit, tokio_tungstenite::connect_async(url))
        .await
        .map_err(|_| format!("no WebSocket within {limit:?}"))?
        .map_err(|error| error.to_string())?;
    tokio::time::timeout(limit, echo_checked(&mut ws, message))
        .await
        .map_err(|_| format!("no echo within {limit:?}"))??;
    Ok(ws)
}

async fn echo_checked(ws: &mut Ws, message: &[u8]) -> Result<(), String> {
    ws.send(Message::Binary(message.to_vec().into()))
        .await
        .map_err(|error| error.to_string())?;
    let mut got = 0;
    while got < message.len() {
        match ws.next().await {
            Some(Ok(Message::Binary(data))) => got += data.len(),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.to_string()),
            None => return Err("closed".into()),
        }
    }
    Ok(())
}

/// Memory (PSS, RSS) and CPU of a relay with up to `n` idle sessions open (each echoed 64 bytes
/// once), opened one after another until `n` or the first failure.
struct IdleResult {
    /// Sessions open during the CPU window.
    open: usize,
    /// Sessions still working after it.
    held: usize,
    /// Why the next one failed, if one did.
    error: Option<String>,
    pss_before: u64,
    /// (sessions open, PSS KiB, RSS KiB) at n/2 and n, or where opening stopped.
    checkpoints: Vec<(usize, u64, u64)>,
    cpu_percent: f64,
}

impl IdleResult {
    /// PSS added per session at the most sessions measured: (KiB, sessions).
    fn per_session(&self) -> Option<(f64, usize)> {
        let (count, pss, _) = *self.checkpoints.iter().max_by_key(|(c, _, _)| *c)?;
        Some((
            pss.saturating_sub(self.pss_before) as f64 / count as f64,
            count,
        ))
    }

    fn at(&self, count: usize) -> Option<(u64, u64)> {
        self.checkpoints
            .iter()
            .find(|(c, _, _)| *c == count)
            .map(|(_, pss, rss)| (*pss, *rss))
    }
}

async fn idle(relay: &Relay, n: usize, window: u64) -> IdleResult {
    let pid = relay.process.pid();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (pss_before, _) = memory_kib(pid);
    let mut sessions = Vec::with_capacity(n);
    let mut checkpoints = Vec::new();
    let mut error = None;
    let message = payload(64);
    for opened in 1..=n {
        match open_checked(&relay.url, &message).await {
            Ok(ws) => sessions.push(ws),
            Err(why) => {
                eprintln!(
                    "[relay] {}: session {opened} failed: {why}; stopping at {} sessions",
                    relay.name,
                    opened - 1
                );
                error = Some(why);
                // Memory where it stopped: the per-session figure of a relay that cannot hold n.
                if opened > 1 {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    let (pss, rss) = memory_kib(pid);
                    checkpoints.push((opened - 1, pss, rss));
                }
                break;
            }
        }
        if opened == n / 2 || opened == n {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let (pss, rss) = memory_kib(pid);
            checkpoints.push((opened, pss, rss));
        }
    }
    let open = sessions.len();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tck = clock_ticks();
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(window)).await;
    let after = cpu_ticks(pid);
    let cpu_percent = cpu_seconds_between(&before, &after, tck) / window as f64 * 100.0;
    // How many still work after the window.
    let mut held = 0;
    for ws in &mut sessions {
        let ok = tokio::time::timeout(Duration::from_secs(5), echo_checked(ws, &message)).await;
        if matches!(ok, Ok(Ok(()))) {
            held += 1;
        }
    }
    // Closed by dropping the sockets (no close handshake to wait for, whatever the relay does).
    drop(sessions);
    eprintln!(
        "[relay] {}: idle sessions: PSS before {pss_before} KiB, (sessions, PSS, RSS) {checkpoints:?}, {held} working after the window, CPU {cpu_percent:.2} %",
        relay.name
    );
    IdleResult {
        open,
        held,
        error,
        pss_before,
        checkpoints,
        cpu_percent,
    }
}

struct BusyResult {
    cpu_seconds: f64,
    relayed: u64,
    echo_rate: f64,
    pss: u64,
}

/// `n` sessions each streaming CHUNK frames through the relay and reading the echo, measured
/// over `window` seconds after a one-second warm-up.
async fn busy(relay: &Relay, n: usize, window: u64) -> BusyResult {
    let pid = relay.process.pid();
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (mut sink, mut stream) = ws_connect(&relay.url).await.split();
        let stop_writer = stop.clone();
        tasks.push(tokio::spawn(async move {
            let chunk = payload(CHUNK);
            while !stop_writer.load(Ordering::Relaxed) {
                if sink
                    .send(Message::Binary(chunk.clone().into()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            let _ = sink.close().await;
        }));
        let counter = received.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Binary(data) = message {
                    counter.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tck = clock_ticks();
    let bytes_before = received.load(Ordering::Relaxed);
    let cpu_before = cpu_ticks(pid);
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(window)).await;
    let cpu_after = cpu_ticks(pid);
    let bytes = received.load(Ordering::Relaxed) - bytes_before;
    let elapsed = start.elapsed().as_secs_f64();
    let (pss, _) = memory_kib(pid);
    stop.store(true, Ordering::Relaxed);
    // Writers stop and close; a reader ends when its relay passes the close on. One deadline
    // for all of them (a relay that never closes must not hold the run), then the rest go.
    let aborts: Vec<_> = tasks.iter().map(|task| task.abort_handle()).collect();
    let _ = tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(tasks)).await;
    for abort in aborts {
        abort.abort();
    }
    let cpu_seconds = cpu_seconds_between(&cpu_before, &cpu_after, tck);
    // Every echoed byte went through the relay twice (up and down).
    let relayed = bytes * 2;
    let result = BusyResult {
        cpu_seconds,
        relayed,
        echo_rate: bytes as f64 / elapsed / 1e6,
        pss,
    };
    eprintln!(
        "[relay] {}: {n} busy sessions: {:.1} MB/s echoed, {:.2} CPU s for {:.2} GB relayed, PSS {} KiB",
        relay.name,
        result.echo_rate,
        cpu_seconds,
        relayed as f64 / 1e9,
        pss
    );
    result
}

pub async fn run(options: Options) {
    std::fs::create_dir_all(&options.logs).unwrap();
    // The test peer the bridge's client checks (no gossip, a frozen replay clock: quiet).
    let (peer_process, hello) = start_test_peer(
        &["--slot-ms", "3600000", "--no-gossip"],
        &options.logs.join("relay-peer.log"),
    );
    let peer_id = hello["peerId"].as_str().unwrap().to_string();
    let peer_address = hello["multiaddr"]
        .as_str()
        .and_then(|m| m.split('/').nth(4))
        .and_then(|port| format!("127.0.0.1:{port}").parse().ok())
        .expect("peer address");
    let target = target_server(peer_address).await;
    let setup = Setup {
        options: &options,
        target,
        peer_id,
    };
    let mut rows: Vec<Value> = Vec::new();

    // (a) throughput and (b) round trips: both relays up at once, paths interleaved.
    {
        let bridge = setup.bridge("stream").await;
        let websockify = setup.websockify("stream").await;
        let (mut direct, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..options.runs {
            direct.push(tcp_throughput(target, options.total).await);
            ours.push(ws_throughput(&bridge.url, options.total).await);
            theirs.push(ws_throughput(&websockify.url, options.total).await);
            eprintln!(
                "[relay] throughput run {run}: direct {:.0}, bridge {:.0}, websockify {:.0} MB/s",
                direct[run], ours[run], theirs[run]
            );
        }
        let mib = options.total >> 20;
        let note = Some(format!(
            "echo, {mib} MiB each way in 64 KiB writes/frames, median of {} runs",
            options.runs
        ));
        rows.push(row(
            GROUP,
            "echo throughput: relay vs direct TCP",
            median(&ours),
            "direct TCP (no relay)",
            median(&direct),
            "MB/s",
            "higher",
            Some(">= 90%"),
            note.clone(),
        ));
        rows.push(row(
            GROUP,
            "echo throughput: relay",
            median(&ours),
            "websockify 0.13.0",
            median(&theirs),
            "MB/s",
            "higher",
            None,
            note,
        ));

        let (mut direct, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
        let per_round = options.round_trips / 3;
        for _ in 0..3 {
            direct.extend(tcp_round_trips(target, per_round).await);
            ours.extend(ws_round_trips(&bridge.url, per_round).await);
            theirs.extend(ws_round_trips(&websockify.url, per_round).await);
        }
        let samples = direct.len();
        for (label, q) in [("p50", 0.5), ("p99", 0.99)] {
            let (d, o, t) = (
                quantile(&direct, q),
                quantile(&ours, q),
                quantile(&theirs, q),
            );
            eprintln!("[relay] 64 B round trip {label}: direct {d:.1} µs, bridge {o:.1} µs, websockify {t:.1} µs");
            rows.push(row(
                GROUP,
                &format!("64 B round trip {label}: relay vs direct TCP"),
                o,
                "direct TCP (no relay)",
                d,
                "µs",
                "lower",
                None,
                Some(format!(
                    "{samples} round trips per path; relay adds {:.1} µs",
                    o - d
                )),
            ));
            rows.push(row(
                GROUP,
                &format!("64 B round trip {label}: latency added over direct TCP"),
                (o - d).max(0.0),
                "websockify 0.13.0",
                (t - d).max(0.0),
                "µs",
                "lower",
                None,
                Some(format!(
                    "round trip minus direct TCP's {label} ({d:.1} µs); {samples} per path"
                )),
            ));
        }
    }

    // (c) idle sessions, then busy sessions: each relay alone, freshly started.
    let n = options.idle_sessions;
    let ours = idle(&setup.bridge("idle").await, n, options.window).await;
    let theirs = idle(&setup.websockify("idle").await, n, options.window).await;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let failure = |r: &IdleResult| match &r.error {
        Some(error) => format!("session {} failed: {error}", r.open + 1),
        None => "all opened".into(),
    };
    rows.push(row(
        GROUP,
        &format!("idle sessions held (of {n} opened one after another)"),
        ours.held as f64,
        "websockify 0.13.0",
        theirs.held as f64,
        "sessions",
        "higher",
        None,
        Some(format!(
            "ours: {}; websockify: {} (working after the {} s window)",
            failure(&ours),
            failure(&theirs),
            options.window
        )),
    ));
    for count in [n / 2, n] {
        if let (Some((ours_pss, ours_rss)), Some((theirs_pss, theirs_rss))) =
            (ours.at(count), theirs.at(count))
        {
            rows.push(row(
                GROUP,
                &format!("memory with {count} idle sessions (PSS)"),
                mib(ours_pss),
                "websockify 0.13.0 (all its processes)",
                mib(theirs_pss),
                "MiB",
                "lower",
                None,
                Some(format!(
                    "RSS: ours {:.0} MiB, websockify {:.0} MiB summed over its {} processes (it forks one per session)",
                    mib(ours_rss),
                    mib(theirs_rss),
                    count + 1
                )),
            ));
        }
    }
    if let (Some((ours_kib, ours_count)), Some((theirs_kib, theirs_count))) =
        (ours.per_session(), theirs.per_session())
    {
        rows.push(row(
            GROUP,
            "memory added per idle session (PSS)",
            ours_kib,
            "websockify 0.13.0",
            theirs_kib,
            "KiB",
            "lower",
            None,
            Some(format!(
                "(PSS with N sessions open − with none) / N at the most each held: ours N = {ours_count}, websockify N = {theirs_count}"
            )),
        ));
    }
    if let Some((ours_kib, ours_count)) = ours.per_session() {
        rows.push(row(
            GROUP,
            &format!("memory added per idle session (PSS), {ours_count} sessions, against the goal"),
            ours_kib,
            "goal (issue 14)",
            IDLE_SESSION_GOAL_KIB,
            "KiB",
            "lower",
            Some(">= 1x"),
            Some("27.4 KiB at 1,000 sessions (27.2 at 9,000) before the relay stopped holding a read buffer per idle session".into()),
        ));
    }
    rows.push(row(
        GROUP,
        "CPU with the idle sessions open",
        ours.cpu_percent,
        "websockify 0.13.0",
        theirs.cpu_percent,
        "% of a core",
        "lower",
        None,
        Some(format!(
            "over {} s with {} (ours) and {} (websockify) sessions open; ours includes the bridge's own libp2p client (pings, identify)",
            options.window,
            ours.open,
            theirs.open
        )),
    ));

    let n = options.busy_sessions;
    let ours = busy(&setup.bridge("busy").await, n, options.window).await;
    let theirs = busy(&setup.websockify("busy").await, n, options.window).await;
    let per_gb = |r: &BusyResult| r.cpu_seconds / (r.relayed as f64 / 1e9);
    rows.push(row(
        GROUP,
        &format!("CPU per GB relayed, {n} busy sessions"),
        per_gb(&ours),
        "websockify 0.13.0",
        per_gb(&theirs),
        "CPU s/GB",
        "lower",
        None,
        Some(format!(
            "each session echoes 64 KiB frames as fast as it can for {} s; bytes counted both ways",
            options.window
        )),
    ));
    rows.push(row(
        GROUP,
        &format!("echo throughput, {n} busy sessions together"),
        ours.echo_rate,
        "websockify 0.13.0",
        theirs.echo_rate,
        "MB/s",
        "higher",
        None,
        Some("2 shared cores: relay, clients and echo server compete".into()),
    ));
    rows.push(row(
        GROUP,
        &format!("memory with {n} busy sessions (PSS)"),
        mib(ours.pss),
        "websockify 0.13.0 (all its processes)",
        mib(theirs.pss),
        "MiB",
        "lower",
        None,
        None,
    ));
    drop(peer_process);
    write_rows(&options.out, &rows);
}
