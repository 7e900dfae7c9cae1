//! The in-repo test peer (`tests/peer/peer.mjs`, js-libp2p): started on 127.0.0.1 by the tests,
//! stopped by PID when dropped. Its stdout is one JSON line with its address, then one JSON line
//! per event; a reader thread keeps the events.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Events kept per peer (the oldest go first).
const MAX_EVENTS: usize = 5_000;

/// A running test peer.
pub struct TestPeer {
    child: Child,
    /// `/ip4/127.0.0.1/tcp/<port>/p2p/<id>`.
    pub multiaddr: String,
    /// Its peer id.
    pub peer_id: String,
    /// `127.0.0.1:<port>` of its Beacon REST API (with `--rest-port`).
    pub rest: Option<String>,
    events: Arc<Mutex<Vec<Value>>>,
}

impl TestPeer {
    /// Starts `node tests/peer/peer.mjs <args>` and waits for its address line.
    pub fn start(args: &[&str]) -> TestPeer {
        TestPeer::start_with(args, false)
    }

    /// [`TestPeer::start`], keeping its "published" events (one per gossip message it sends)
    /// when `keep_published`.
    pub fn start_with(args: &[&str], keep_published: bool) -> TestPeer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer/peer.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node runs (scripts/setup.sh installs the test peer)");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let label = args.join(" ");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var_os("TEST_PEER_LOG").is_some() {
                    eprintln!("[peer {label}] {line}");
                }
            }
        });
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next()
            .and_then(Result::ok)
            .expect("the test peer prints its address");
        let hello: Value = serde_json::from_str(&first).expect("address line is JSON");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                // One "published" line per gossip message: the tests never read them, and a
                // soak must not measure the harness keeping them.
                if !keep_published && line.contains(r#""event":"published""#) {
                    continue;
                }
                if let Ok(event) = serde_json::from_str::<Value>(&line) {
                    let mut events = sink.lock().unwrap();
                    if events.len() >= MAX_EVENTS {
                        events.remove(0);
                    }
                    events.push(event);
                }
            }
        });
        TestPeer {
            child,
            multiaddr: hello["multiaddr"].as_str().unwrap().to_string(),
            peer_id: hello["peerId"].as_str().unwrap().to_string(),
            rest: hello["rest"].as_str().map(str::to_string),
            events,
        }
    }

    /// Events so far.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Waits up to `timeout` for an event matching `predicate`.
    pub fn wait_for(&self, timeout: Duration, predicate: impl Fn(&Value) -> bool) -> Option<Value> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(event) = self.events().into_iter().find(|event| predicate(event)) {
                return Some(event);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for TestPeer {
    fn drop(&mut self) {
        // Stop it by PID.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
