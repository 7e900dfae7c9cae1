//! What the bench parts share: result rows, child processes (stopped by PID), /proc readings,
//! a small HTTP/1.1 client and statistics.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The crate root (the bench runs from the source tree).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/data/devnet-capture`.
pub fn devnet_dir() -> PathBuf {
    root().join("tests/data/devnet-capture")
}

/// One result row, in the format `bench/table.py` reads (bench/README.md).
#[allow(clippy::too_many_arguments)]
pub fn row(
    group: &str,
    metric: &str,
    ours: f64,
    alternative: &str,
    theirs: f64,
    unit: &str,
    better: &str,
    target: Option<&str>,
    note: Option<String>,
) -> Value {
    json!({
        "group": group,
        "metric": metric,
        "ours": round(ours),
        "alternative": alternative,
        "theirs": round(theirs),
        "unit": unit,
        "better": better,
        "target": target,
        "note": note,
    })
}

/// Four significant digits are plenty for timings on a shared machine.
fn round(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let digits = 4 - value.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// Writes the rows as a JSON array.
pub fn write_rows(path: &Path, rows: &[Value]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("output directory");
    }
    let text = serde_json::to_string_pretty(&Value::Array(rows.to_vec())).unwrap();
    std::fs::write(path, text + "\n").expect("write rows");
    eprintln!("[bench] wrote {} rows to {}", rows.len(), path.display());
}

/// A child process that is stopped (with its descendants, each by PID) when dropped.
pub struct Process {
    pub child: Child,
    pub name: String,
}

impl Process {
    /// Starts `program args`, stderr to `log`, and returns it with its first stdout line parsed
    /// as JSON when `first_line` (the rest of stdout is drained in a thread).
    pub fn start(
        name: &str,
        program: &Path,
        args: &[String],
        log: &Path,
        first_line: bool,
    ) -> (Process, Value) {
        let log_file = std::fs::File::create(log).expect("log file");
        let mut child = Command::new(program)
            .args(args)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let hello = if first_line {
            let line = lines
                .next()
                .and_then(Result::ok)
                .unwrap_or_else(|| panic!("{name} printed no first line; see {}", log.display()));
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"))
        } else {
            Value::Null
        };
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        (
            Process {
                child,
                name: name.into(),
            },
            hello,
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Children first (websockify forks one per session), then the process itself.
        let mut pids = descendants(self.pid());
        pids.reverse();
        pids.push(self.pid());
        for pid in &pids {
            let _ = Command::new("kill")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("[bench] {} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The numeric fields of /proc/<pid>/stat after the command name.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 2..];
    Some(after.split_whitespace().map(str::to_string).collect())
}

/// Every live descendant of `pid` (children, grandchildren…).
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            // Field 4 of stat is the parent (index 1 after the name).
            if let Some(ppid) = stat_fields(child).and_then(|f| f.get(1)?.parse().ok()) {
                parents.push((child, ppid));
            }
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for &(child, ppid) in &parents {
            if ppid == parent && !found.contains(&child) {
                found.push(child);
                frontier.push(child);
            }
        }
    }
    found
}

/// `pid` and its descendants.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    pids.extend(descendants(pid));
    pids
}

/// Clock ticks per second (`getconf CLK_TCK`).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU ticks (user + system) per PID, plus the reaped children's ticks of `root`.
pub fn cpu_ticks(root: u32) -> Vec<(u32, u64)> {
    let mut ticks = Vec::new();
    for pid in tree(root) {
        if let Some(fields) = stat_fields(pid) {
            // utime, stime are fields 14, 15 (indices 11, 12); cutime, cstime 16, 17.
            let field = |i: usize| {
                fields
                    .get(i)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let mut own = field(11) + field(12);
            if pid == root {
                own += field(13) + field(14);
            }
            ticks.push((pid, own));
        }
    }
    ticks
}

/// CPU seconds the tree of `root` used between two [`cpu_ticks`] readings (processes that
/// started in between count from zero).
pub fn cpu_seconds_between(before: &[(u32, u64)], after: &[(u32, u64)], tck: f64) -> f64 {
    let used: u64 = after
        .iter()
        .map(|(pid, now)| {
            let then = before
                .iter()
                .find(|(p, _)| p == pid)
                .map(|(_, t)| *t)
                .unwrap_or(0);
            now.saturating_sub(then)
        })
        .sum();
    used as f64 / tck
}

fn kib_field(path: &str, name: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or(0)
}

/// Memory of the tree of `root`: (sum of PSS, sum of RSS), KiB. PSS splits pages shared between
/// forked processes fairly; RSS counts them once per process.
pub fn memory_kib(root: u32) -> (u64, u64) {
    tree(root).into_iter().fold((0, 0), |(pss, rss), pid| {
        (
            pss + kib_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:"),
            rss + kib_field(&format!("/proc/{pid}/status"), "VmRSS:"),
        )
    })
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts TCP connections at `address`.
pub async fn wait_listening(address: SocketAddr, within: Duration) {
    let start = Instant::now();
    while TcpStream::connect(address).await.is_err() {
        assert!(start.elapsed() < within, "nothing listens on {address}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An HTTP/1.1 connection (keep-alive; responses need a Content-Length).
pub struct Http {
    stream: TcpStream,
    host: SocketAddr,
    buffer: Vec<u8>,
}

impl Http {
    pub async fn connect(host: SocketAddr) -> std::io::Result<Http> {
        let stream = TcpStream::connect(host).await?;
        stream.set_nodelay(true)?;
        Ok(Http {
            stream,
            host,
            buffer: Vec::new(),
        })
    }

    /// `GET path`: (status, body).
    pub async fn get(&mut self, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\n\r\n",
            self.host
        );
        self.stream.write_all(request.as_bytes()).await?;
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
        let end = loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status"))?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| bad("no content-length"))?;
        let start = end + 4;
        while self.buffer.len() < start + length {
            self.fill().await?;
        }
        let body = self.buffer[start..start + length].to_vec();
        self.buffer.drain(..start + length);
        Ok((status, body))
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// Polls the bridge's `/peers` until `peer` is offered.
pub async fn wait_offered(bridge: SocketAddr, peer: &str, within: Duration) {
    let start = Instant::now();
    loop {
        if let Ok(mut http) = Http::connect(bridge).await {
            if let Ok((200, body)) = http.get("/peers").await {
                let peers: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if peers
                    .as_array()
                    .is_some_and(|list| list.iter().any(|p| p["peerId"] == peer))
                {
                    return;
                }
            }
        }
        assert!(
            start.elapsed() < within,
            "the bridge did not offer {peer} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `q`-quantile (0..=1) of `values` (nearest rank).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// `node tests/peer/peer.mjs args`: the process and its first line.
pub fn start_test_peer(args: &[&str], log: &Path) -> (Process, Value) {
    let script = root().join("tests/peer/peer.mjs");
    let mut all = vec![script.to_string_lossy().into_owned()];
    all.extend(args.iter().map(|a| a.to_string()));
    Process::start("test peer", Path::new("node"), &all, log, true)
}

/// `beacon-p2p bridge …` on the devnet with one static peer: the process and its listen address.
pub fn start_bridge(bin: &Path, peer: &str, extra: &[&str], log: &Path) -> (Process, SocketAddr) {
    let mut args: Vec<String> = [
        "bridge",
        "--testnet-dir",
        &devnet_dir().to_string_lossy(),
        "--listen",
        "127.0.0.1:0",
        "--no-discovery",
        "--allow-private",
        "--peer",
        peer,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let (process, hello) = Process::start("bridge", bin, &args, log, true);
    let listen = hello["listen"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("the bridge prints where it listens");
    (process, listen)
}
