//! Side-by-side benchmarks against the alternatives, measured in one run (bench/README.md).
//! `bench/run.sh` builds this (`cargo build --release --example bench`) and runs each part;
//! every part writes JSON rows that `bench/table.py` turns into one table.
//!
//!   bench relay        --bridge target/release/beacon-p2p --websockify bench/.venv/bin/websockify
//!   bench getting-data --bridge target/release/beacon-p2p
//!   bench sources

#[cfg(not(target_arch = "wasm32"))]
mod common;
#[cfg(not(target_arch = "wasm32"))]
mod getting_data;
#[cfg(not(target_arch = "wasm32"))]
mod relay;
#[cfg(not(target_arch = "wasm32"))]
mod sources;

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::path::PathBuf;

    #[derive(clap::Parser)]
    #[command(about = "beacon-p2p side-by-side benchmarks (see bench/README.md)")]
    pub enum Part {
        /// The bridge's relay vs direct TCP vs websockify.
        Relay {
            /// The beacon-p2p binary (a release build).
            #[arg(long)]
            bridge: PathBuf,
            /// The websockify executable.
            #[arg(long)]
            websockify: PathBuf,
            /// Rows go here.
            #[arg(long, default_value = "bench/out/relay.json")]
            out: PathBuf,
            /// Logs of the processes started.
            #[arg(long, default_value = "bench/out/logs")]
            logs: PathBuf,
            /// MiB echoed per throughput run.
            #[arg(long, default_value_t = 128)]
            mib: usize,
            /// Throughput runs per path.
            #[arg(long, default_value_t = 3)]
            runs: usize,
            /// 64-byte round trips per path.
            #[arg(long, default_value_t = 3000)]
            round_trips: usize,
            #[arg(long, default_value_t = 1000)]
            idle_sessions: usize,
            #[arg(long, default_value_t = 100)]
            busy_sessions: usize,
            /// Seconds of each CPU window.
            #[arg(long, default_value_t = 10)]
            window: u64,
        },
        /// First finality update and bootstrap + updates: p2p through the relay vs Beacon REST.
        GettingData {
            /// The beacon-p2p binary (a release build).
            #[arg(long)]
            bridge: PathBuf,
            #[arg(long, default_value = "bench/out/getting-data.json")]
            out: PathBuf,
            #[arg(long, default_value = "bench/out/logs")]
            logs: PathBuf,
            /// Repetitions (medians are reported).
            #[arg(long, default_value_t = 15)]
            runs: usize,
        },
        /// A Beacon-API source beside the peers: its cost when peers are healthy, and calls after
        /// the peer vanished.
        Sources {
            #[arg(long, default_value = "bench/out/sources.json")]
            out: PathBuf,
            #[arg(long, default_value = "bench/out/logs")]
            logs: PathBuf,
            /// Calls per client and case (medians are reported).
            #[arg(long, default_value_t = 40)]
            calls: usize,
        },
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    use clap::Parser;

    let absolute = |path: std::path::PathBuf| {
        std::fs::canonicalize(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    match cli::Part::parse() {
        cli::Part::Relay {
            bridge,
            websockify,
            out,
            logs,
            mib,
            runs,
            round_trips,
            idle_sessions,
            busy_sessions,
            window,
        } => {
            relay::run(relay::Options {
                bridge: absolute(bridge),
                websockify: absolute(websockify),
                out,
                logs,
                total: mib << 20,
                runs: runs.max(1),
                round_trips: round_trips.max(30),
                idle_sessions,
                busy_sessions,
                window: window.max(1),
            })
            .await
        }
        cli::Part::GettingData {
            bridge,
            out,
            logs,
            runs,
        } => {
            getting_data::run(getting_data::Options {
                bridge: absolute(bridge),
                out,
                logs,
                runs: runs.max(1),
            })
            .await
        }
        cli::Part::Sources { out, logs, calls } => {
            sources::run(sources::Options {
                out,
                logs,
                calls: calls.max(1),
            })
            .await
        }
    }
}
