//! `beacon-p2p bridge`: discv5 discovery, the restricted WebSocket→TCP relay, and the Beacon-API
//! light-client routes answered over p2p, on one HTTP listener.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use beacon_p2p::bridge::{Bridge, BridgeConfig, Limits};
use beacon_p2p::client::{Client, Config};
use beacon_p2p::node::discovery::DiscoveryConfig;
use clap::Args;
use libp2p::Multiaddr;

use crate::cli::{print_json_line, CliError, ClockArgs, NetworkArgs, SourceArgs};

/// discv5's usual port, which every beacon node listens on too.
const DEFAULT_DISCOVERY_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 9000);

#[derive(Debug, Args)]
pub struct BridgeArgs {
    #[command(flatten)]
    network: NetworkArgs,
    #[command(flatten)]
    clock: ClockArgs,
    // Beacon-API sources for the bridge's own light-client routes (the relay is p2p only).
    #[command(flatten)]
    sources: SourceArgs,
    /// HTTP listener (relay, Beacon-API routes, /peers, /metrics, demo page).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// discv5 UDP listener (port 0: any free port). Default 0.0.0.0:9000, or any free port
    /// when that one is taken (beacon nodes listen there too); an address given here is used or
    /// the bridge does not start.
    #[arg(long)]
    discovery_listen: Option<SocketAddr>,
    /// IP our ENR advertises (default: the discovery listen IP when it is specific).
    #[arg(long, value_name = "IP")]
    enr_ip: Option<std::net::IpAddr>,
    /// Do not run discv5 (static --peer only).
    #[arg(long)]
    no_discovery: bool,
    /// A bootnode ENR (repeatable; default: the network's bootnodes).
    #[arg(long = "bootnode", value_name = "ENR")]
    bootnodes: Vec<String>,
    /// A static peer: /ip4/…/tcp/…/p2p/<peer id> (repeatable).
    #[arg(long = "peer", value_name = "MULTIADDR")]
    peers: Vec<Multiaddr>,
    /// Look for peers while fewer usable ones are offered.
    #[arg(long, default_value_t = 8)]
    target_peers: usize,
    /// Relay to and discover peers at private and loopback addresses (local devnets).
    #[arg(long)]
    allow_private: bool,
    /// Relay sessions open at once.
    #[arg(long, default_value_t = Limits::default().max_sessions)]
    max_sessions: usize,
    /// Relay sessions open at once per client IP.
    #[arg(long, default_value_t = Limits::default().max_sessions_per_ip)]
    max_sessions_per_ip: usize,
    /// Seconds without traffic either way before a session is closed.
    #[arg(long, default_value_t = Limits::default().idle_timeout.as_secs())]
    idle_timeout: u64,
    /// Bytes one session may relay (both directions).
    #[arg(long, default_value_t = Limits::default().max_session_bytes)]
    max_session_bytes: u64,
    /// Relay only requests with this Origin (repeatable; default: any).
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    allowed_origins: Vec<String>,
    /// Directory served at / (default: www/ next to the binary's crate, if it exists).
    #[arg(long, value_name = "DIR")]
    www: Option<PathBuf>,
    /// Seconds a Beacon-API request may take over all its p2p attempts.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

pub fn run(args: BridgeArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Usage(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(bridge(args))
}

async fn bridge(args: BridgeArgs) -> Result<(), CliError> {
    let chain = args.network.chain()?;
    let clock = args.clock.clock()?;
    if let Some(address) = args
        .peers
        .iter()
        .find(|a| beacon_p2p::node::peer_id_of(a).is_none())
    {
        return Err(CliError::Usage(format!(
            "--peer {address}: needs a /p2p/<peer id> suffix"
        )));
    }
    let bootnodes = if args.bootnodes.is_empty() {
        chain.bootnodes.clone()
    } else {
        args.bootnodes.clone()
    };
    let mut config = Config::new(chain);
    config.peers = args.peers.clone();
    config.target_peers = args.target_peers.max(1);
    config.request_deadline = Duration::from_secs(args.timeout);
    config.clock = clock;
    args.sources.apply(&mut config);
    let client = Client::start(config).map_err(|error| match error {
        beacon_p2p::client::ClientError::InvalidArgument(_) => CliError::Usage(error.to_string()),
        _ => CliError::Invalid(error.to_string()),
    })?;

    let mut bridge_config = BridgeConfig::new(args.listen);
    bridge_config.static_peers = args.peers;
    bridge_config.limits = Limits {
        max_sessions: args.max_sessions,
        max_sessions_per_ip: args.max_sessions_per_ip,
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        max_session_bytes: args.max_session_bytes,
        allow_private: args.allow_private,
        allowed_origins: args.allowed_origins,
    };
    bridge_config.www = args.www.or_else(|| {
        let default = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www");
        default.is_dir().then_some(default)
    });
    if !args.no_discovery {
        bridge_config.discovery = Some(DiscoveryConfig {
            listen: args.discovery_listen.unwrap_or(DEFAULT_DISCOVERY_LISTEN),
            fallback_to_free_port: args.discovery_listen.is_none(),
            advertise_ip: args.enr_ip,
            bootnodes,
            target_peers: args.target_peers,
            allow_private: args.allow_private,
            interval: Duration::from_secs(2),
        });
    }
    let mut bridge = Bridge::start(bridge_config, client.clone())
        .await
        .map_err(|error| CliError::Invalid(error.to_string()))?;
    // One line on stdout for whoever started us: where to connect.
    print_json_line(&serde_json::json!({
        "listen": bridge.local_addr().to_string(),
        "enr": bridge.enr(),
    }))?;
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("stopping");
    bridge.stop();
    client.shutdown().await;
    Ok(())
}
