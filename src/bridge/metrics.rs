//! Counters for `/metrics` (Prometheus text format 0.0.4), kept as atomics: no registry crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::relay::{CloseReason, Refusal};
use super::table::PeerTable;
use super::Limits;
use crate::client::{DataSource, SourceReport};

/// Routes whose latency is recorded.
pub const ROUTES: [&str; 6] = [
    "bootstrap",
    "updates",
    "finality_update",
    "optimistic_update",
    "block",
    "peers",
];

/// (count, sum in µs) per (route, HTTP status).
type Latencies = BTreeMap<(&'static str, u16), (u64, u64)>;

/// The bridge's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Relay sessions open now.
    pub sessions_open: AtomicU64,
    /// Relay sessions opened since start.
    pub sessions_total: AtomicU64,
    /// Bytes from browsers to peers.
    pub bytes_to_peer: AtomicU64,
    /// Bytes from peers to browsers.
    pub bytes_to_browser: AtomicU64,
    /// SSE streams open now.
    pub event_streams_open: AtomicU64,
    refusals: Mutex<BTreeMap<&'static str, u64>>,
    closes: Mutex<BTreeMap<&'static str, u64>>,
    latencies: Mutex<Latencies>,
    /// Answers of the light-client routes, per (route, source name).
    served: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// Answers of the light-client routes, per peer id that sent the data.
    served_by_peer: Mutex<BTreeMap<String, u64>>,
}

fn bump(map: &Mutex<BTreeMap<&'static str, u64>>, key: &'static str) {
    *map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default() += 1;
}

impl Metrics {
    /// Counts a refusal.
    pub fn refused(&self, refusal: &Refusal) {
        bump(&self.refusals, refusal.reason());
    }

    /// Refusals so far for `reason`.
    pub fn refusals(&self, reason: &str) -> u64 {
        let map = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        map.get(reason).copied().unwrap_or_default()
    }

    /// Counts a closed session.
    pub fn closed(&self, reason: CloseReason) {
        bump(&self.closes, reason.label());
    }

    /// Records how long a route took.
    pub fn observe(&self, route: &'static str, status: u16, took: Duration) {
        let mut map = self.latencies.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry((route, status)).or_default();
        entry.0 += 1;
        entry.1 += took.as_micros().min(u64::MAX as u128) as u64;
    }

    /// Counts an answer of `route` that `source` gave.
    pub fn served(&self, route: &'static str, source: &DataSource) {
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        *served
            .entry((route, source.name().to_string()))
            .or_default() += 1;
        if let DataSource::P2p { peer } = source {
            let mut by_peer = self
                .served_by_peer
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            *by_peer.entry(peer.clone()).or_default() += 1;
        }
    }

    /// Answers of the light-client routes whose data `peer_id` sent.
    pub fn served_by(&self, peer_id: &str) -> u64 {
        let by_peer = self
            .served_by_peer
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        by_peer.get(peer_id).copied().unwrap_or_default()
    }

    /// The Prometheus text.
    pub fn render(&self, limits: &Limits, table: &PeerTable, sources: &[SourceReport]) -> String {
        let mut out = String::new();
        let gauge = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "bridge_sessions_open",
            "Relay sessions open now.",
            self.sessions_open.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP bridge_sessions_total Relay sessions opened.\n# TYPE bridge_sessions_total counter\nbridge_sessions_total {}",
            self.sessions_total.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP bridge_relayed_bytes_total Bytes relayed.\n# TYPE bridge_relayed_bytes_total counter\nbridge_relayed_bytes_total{{direction=\"to_peer\"}} {}\nbridge_relayed_bytes_total{{direction=\"to_browser\"}} {}",
            self.bytes_to_peer.load(Ordering::Relaxed),
            self.bytes_to_browser.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP bridge_refusals_total Relay requests refused, by reason.\n# TYPE bridge_refusals_total counter"
        );
        for reason in Refusal::REASONS {
            let _ = writeln!(
                out,
                "bridge_refusals_total{{reason=\"{reason}\"}} {}",
                self.refusals(reason)
            );
        }
        let _ = writeln!(
            out,
            "# HELP bridge_session_closes_total Relay sessions closed, by reason.\n# TYPE bridge_session_closes_total counter"
        );
        {
            let closes = self.closes.lock().unwrap_or_else(|p| p.into_inner());
            for reason in CloseReason::LABELS {
                let _ = writeln!(
                    out,
                    "bridge_session_closes_total{{reason=\"{reason}\"}} {}",
                    closes.get(reason).copied().unwrap_or_default()
                );
            }
        }
        gauge(
            &mut out,
            "bridge_event_streams_open",
            "Server-sent event streams open now.",
            self.event_streams_open.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP bridge_peers Peers the bridge offers, by client.\n# TYPE bridge_peers gauge"
        );
        let mut by_client: BTreeMap<String, u64> = BTreeMap::new();
        for peer in table.offered() {
            let client = peer
                .client
                .as_deref()
                .and_then(|agent| agent.split('/').next())
                .unwrap_or("unknown")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                .take(64)
                .collect::<String>();
            *by_client.entry(client).or_default() += 1;
        }
        for (client, count) in by_client {
            let _ = writeln!(out, "bridge_peers{{client=\"{client}\"}} {count}");
        }
        gauge(
            &mut out,
            "bridge_candidates",
            "Peers in the table, offered or not.",
            table.all().len() as u64,
        );
        self.render_sources(&mut out, sources);
        let _ = writeln!(
            out,
            "# HELP bridge_limit Configured relay limits.\n# TYPE bridge_limit gauge"
        );
        for (name, value) in [
            ("max_sessions", limits.max_sessions as u64),
            ("max_sessions_per_ip", limits.max_sessions_per_ip as u64),
            ("idle_timeout_seconds", limits.idle_timeout.as_secs()),
            ("max_session_bytes", limits.max_session_bytes),
            ("allow_private", u64::from(limits.allow_private)),
            ("origin_allowlist", limits.allowed_origins.len() as u64),
        ] {
            let _ = writeln!(out, "bridge_limit{{name=\"{name}\"}} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP bridge_request_duration_seconds Beacon-API route latency.\n# TYPE bridge_request_duration_seconds summary"
        );
        let latencies = self.latencies.lock().unwrap_or_else(|p| p.into_inner());
        for ((route, status), (count, micros)) in latencies.iter() {
            let _ = writeln!(
                out,
                "bridge_request_duration_seconds_sum{{route=\"{route}\",status=\"{status}\"}} {:.6}\nbridge_request_duration_seconds_count{{route=\"{route}\",status=\"{status}\"}} {count}",
                *micros as f64 / 1e6
            );
        }
        out
    }
}

/// A per-source series: name, type, help and how to read it off a report.
type SourceSeries = (
    &'static str,
    &'static str,
    &'static str,
    fn(&SourceReport) -> f64,
);

/// A Prometheus label value: quotes, backslashes and newlines escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Which source served which route, and what each source did (`Client::sources`).
    fn render_sources(&self, out: &mut String, sources: &[SourceReport]) {
        let _ = writeln!(
            out,
            "# HELP bridge_served_total Light-client route answers, by route and the source of their data.\n# TYPE bridge_served_total counter"
        );
        {
            let served = self.served.lock().unwrap_or_else(|p| p.into_inner());
            for ((route, source), count) in served.iter() {
                let _ = writeln!(
                    out,
                    "bridge_served_total{{route=\"{route}\",source=\"{}\"}} {count}",
                    label(source)
                );
            }
        }
        let series: [SourceSeries; 5] = [
            (
                "bridge_source_answers_total",
                "counter",
                "Calls a source answered.",
                |r| r.answers as f64,
            ),
            (
                "bridge_source_failures_total",
                "counter",
                "Calls a source failed.",
                |r| r.failures as f64,
            ),
            (
                "bridge_source_misbehaved_total",
                "counter",
                "Answers refused as lies (did not verify, or older than proved).",
                |r| r.misbehaved as f64,
            ),
            (
                "bridge_source_latency_mean_ms",
                "gauge",
                "Mean time of a source's answers.",
                |r| r.mean_latency_ms,
            ),
            (
                "bridge_source_demoted",
                "gauge",
                "Whether a source is skipped now for misbehaving.",
                |r| f64::from(u8::from(r.demoted)),
            ),
        ];
        for (name, kind, help, value) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for report in sources {
                let _ = writeln!(
                    out,
                    "{name}{{source=\"{}\",kind=\"{}\"}} {}",
                    label(&report.source),
                    report.kind,
                    value(report)
                );
            }
        }
    }
}
