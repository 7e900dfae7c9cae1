//! `beacon-p2p fetch`: light-client data and blocks from peers, printed exactly as the Beacon API
//! serves them.

use std::time::Duration;

use beacon_p2p::client::{BlockId, Client, ClientError, Config, Event};
use beacon_p2p::node::discovery::DiscoveryConfig;
use beacon_p2p::node::enr::{tcp_multiaddr, EnrError};
use beacon_p2p::primitives::Root;
use clap::{Args, Subcommand};
use futures::{FutureExt, StreamExt};
use libp2p::Multiaddr;
use serde_json::{json, Value};

use crate::cli::{print_json_line, CliError, ClockArgs, NetworkArgs, SourceArgs};

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    network: NetworkArgs,
    #[command(flatten)]
    clock: ClockArgs,
    /// A peer to dial: /ip4/…/tcp/…/p2p/<peer id> (repeatable).
    #[arg(long = "peer", value_name = "MULTIADDR")]
    peers: Vec<Multiaddr>,
    /// A bootnode ENR (repeatable; default: the network's bootnodes, or --testnet-dir's
    /// boot_enr.yaml, when no --peer is given). discv5 starts from it; one with a TCP port is
    /// dialed too.
    #[arg(long = "bootnode", value_name = "ENR")]
    bootnodes: Vec<String>,
    #[command(flatten)]
    sources: SourceArgs,
    /// Do not run discv5: dial --peer and the bootnodes' TCP addresses only.
    #[arg(long)]
    no_discovery: bool,
    /// discv5 UDP listener (default: any free port).
    #[arg(long, value_name = "ADDRESS")]
    discovery_listen: Option<std::net::SocketAddr>,
    /// Peers to keep connected.
    #[arg(long, default_value_t = 4)]
    target_peers: usize,
    /// Seconds a request may take over all its attempts.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Seconds one peer has to answer one request.
    #[arg(long, default_value_t = 10)]
    request_timeout: u64,
    /// Verify from this trusted block root (0x-hex): sync the light-client store first, check
    /// everything peers send against it; `watch` then prints verified heads only.
    #[arg(long, value_name = "ROOT")]
    checkpoint: Option<String>,
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// LightClientBootstrap for a block root.
    Bootstrap {
        /// The (checkpoint) block root, 0x-hex.
        root: String,
    },
    /// LightClientUpdates for COUNT periods from START.
    Updates {
        /// First sync-committee period.
        start: u64,
        /// Number of periods.
        count: u64,
    },
    /// The latest LightClientFinalityUpdate.
    FinalityUpdate,
    /// The latest LightClientOptimisticUpdate.
    OptimisticUpdate,
    /// A SignedBeaconBlock, as GET /eth/v2/beacon/blocks/{block_id} serves it.
    Block {
        /// A slot, a block root (0x + 64 hex digits), head or finalized.
        id: String,
    },
    /// Follow gossip: one JSON line per update and peer event.
    Watch {
        /// Stop after this many updates.
        #[arg(long)]
        count: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<u64>,
    },
}

pub fn run(args: FetchArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| CliError::Usage(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(fetch(args))
}

async fn fetch(args: FetchArgs) -> Result<(), CliError> {
    let chain = args.network.chain()?;
    let clock = args.clock.clock()?;
    let checkpoint = args
        .checkpoint
        .as_deref()
        .map(|root| {
            Root::from_hex(root).map_err(|e| CliError::Usage(format!("--checkpoint {root}: {e}")))
        })
        .transpose()?;
    let mut peers = args.peers.clone();
    let bootnodes = if args.bootnodes.is_empty() && peers.is_empty() {
        chain.bootnodes.clone()
    } else {
        args.bootnodes.clone()
    };
    for enr in &bootnodes {
        match tcp_multiaddr(enr) {
            Ok(address) => peers.push(address),
            // A discv5-only bootnode is fine while discovery runs; a record that is not an
            // ENR never is.
            Err(EnrError::NoTcp) if !args.no_discovery => {}
            Err(error) if !args.bootnodes.is_empty() => {
                return Err(CliError::Usage(format!("--bootnode {enr}: {error}")))
            }
            Err(error) => tracing::debug!(%error, "bootnode skipped"),
        }
    }
    let discover = !args.no_discovery && !bootnodes.is_empty();
    if peers.is_empty() && !discover && args.sources.rpc.is_empty() {
        return Err(CliError::Usage(
            "no peer to dial: give --peer, --bootnode without --no-discovery, or --rpc".into(),
        ));
    }
    if let Some(address) = peers
        .iter()
        .find(|a| beacon_p2p::node::peer_id_of(a).is_none())
    {
        return Err(CliError::Usage(format!(
            "--peer {address}: needs a /p2p/<peer id> suffix"
        )));
    }
    tracing::info!(network = %chain.name, peers = peers.len(), discover, "starting");
    let mut config = Config::new(chain);
    config.peers = peers;
    config.target_peers = args.target_peers;
    config.request_deadline = Duration::from_secs(args.timeout);
    config.request_timeout = Duration::from_secs(args.request_timeout);
    config.clock = clock;
    args.sources.apply(&mut config);
    let client = Client::start(config).map_err(|error| match error {
        ClientError::InvalidArgument(_) => CliError::Usage(error.to_string()),
        _ => CliError::Invalid(error.to_string()),
    })?;
    // Kept until the command ends: dropping it stops discv5.
    let _discovery = if discover {
        let mut discovery = DiscoveryConfig::for_client(bootnodes, args.target_peers.max(1));
        if let Some(listen) = args.discovery_listen {
            discovery.listen = listen;
        }
        let started = client.discover(discovery).await;
        match started {
            Ok(discovery) => Some(discovery),
            Err(error) => {
                client.shutdown().await;
                return Err(CliError::Invalid(error.to_string()));
            }
        }
    } else {
        None
    };
    let result = match checkpoint {
        Some(checkpoint) => match client.sync(checkpoint).await {
            Ok(heads) => {
                tracing::info!(
                    finalized = heads.finalized.slot,
                    optimistic = heads.optimistic.slot,
                    period = heads.period,
                    "synced: verified heads"
                );
                run_command(&client, args.what, true).await
            }
            Err(error) => Err(CliError::Invalid(format!(
                "sync from {checkpoint}: {error}"
            ))),
        },
        None => run_command(&client, args.what, false).await,
    };
    client.shutdown().await;
    result
}

async fn run_command(client: &Client, what: What, verified: bool) -> Result<(), CliError> {
    let failed = |error: ClientError| CliError::Invalid(error.to_string());
    match what {
        What::Bootstrap { root } => {
            let root = Root::from_hex(&root)
                .map_err(|e| CliError::Usage(format!("block root {root}: {e}")))?;
            let bootstrap = client.bootstrap(root).await.map_err(failed)?;
            print_json_line(bootstrap.to_beacon_api_json())
        }
        What::Updates { start, count } => {
            let updates = client.updates(start, count).await.map_err(failed)?;
            tracing::info!(received = updates.len(), asked = count, "updates");
            let items: Vec<Value> = updates
                .iter()
                .map(|u| u.to_beacon_api_json().clone())
                .collect();
            print_json_line(&Value::Array(items))
        }
        What::FinalityUpdate => print_json_line(
            client
                .finality_update()
                .await
                .map_err(failed)?
                .to_beacon_api_json(),
        ),
        What::OptimisticUpdate => print_json_line(
            client
                .optimistic_update()
                .await
                .map_err(failed)?
                .to_beacon_api_json(),
        ),
        What::Block { id } => {
            let id: BlockId = id
                .parse()
                .map_err(|error: beacon_p2p::client::InvalidBlockId| {
                    CliError::Usage(error.to_string())
                })?;
            let block = client.block_with_finality(id).await.map_err(failed)?;
            print_json_line(&block.to_beacon_api_json())
        }
        What::Watch { count, seconds } => {
            let mut events = client.events().await.fuse();
            let mut stop =
                futures_timer::Delay::new(Duration::from_secs(seconds.unwrap_or(u64::MAX / 4)))
                    .fuse();
            let mut updates = 0;
            loop {
                let event = futures::select! {
                    event = events.next() => event,
                    _ = stop => None,
                };
                let Some(event) = event else { return Ok(()) };
                let line = match event {
                    // With a checkpoint, only what the store proved.
                    Event::FinalityUpdate(_) | Event::OptimisticUpdate(_) if verified => continue,
                    Event::VerifiedFinality(head) => {
                        updates += 1;
                        json!({ "event": "verified_finality", "data": head })
                    }
                    Event::VerifiedOptimistic(head) => {
                        updates += 1;
                        json!({ "event": "verified_optimistic", "data": head })
                    }
                    Event::FinalityUpdate(update) => {
                        updates += 1;
                        json!({ "event": "light_client_finality_update", "data": update.to_beacon_api_json() })
                    }
                    Event::OptimisticUpdate(update) => {
                        updates += 1;
                        json!({ "event": "light_client_optimistic_update", "data": update.to_beacon_api_json() })
                    }
                    Event::PeerConnected { peer_id, client } => {
                        json!({ "event": "peer_connected", "peer_id": peer_id, "client": client })
                    }
                    Event::PeerDisconnected { peer_id } => {
                        json!({ "event": "peer_disconnected", "peer_id": peer_id })
                    }
                    Event::SourceSwitched { .. }
                    | Event::SourceMisbehaved { .. }
                    | Event::SourcesDisagree { .. } => {
                        let Some((name, mut fields)) = event.source_report() else {
                            continue;
                        };
                        fields["event"] = name.into();
                        fields
                    }
                };
                print_json_line(&line)?;
                if count.is_some_and(|count| updates >= count) {
                    return Ok(());
                }
            }
        }
    }
}
