//! Building the swarm: the one place that knows the transports of each target.
//! Native: TCP + DNS, noise, yamux or mplex (Nimbus, Lodestar and Teku speak mplex only).

use std::time::Duration;

use libp2p::{identity, noise, Swarm};

use super::behaviour::Behaviour;
use super::NodeConfig;

/// A swarm with our behaviour for `config`.
#[cfg(not(target_arch = "wasm32"))]
pub fn build_swarm(config: &NodeConfig) -> Result<Swarm<Behaviour>, String> {
    let key = config
        .identity
        .clone()
        .unwrap_or_else(identity::Keypair::generate_secp256k1);
    let chain = config.chain.clone();
    let timeout = config.request_timeout;
    Ok(libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default().nodelay(true),
            noise::Config::new,
            // Offered in this order: yamux first, mplex for the clients that speak nothing else.
            (
                libp2p::yamux::Config::default,
                libp2p_mplex::Config::default,
            ),
        )
        .map_err(|error| format!("TCP transport: {error}"))?
        .with_dns()
        .map_err(|error| format!("DNS transport: {error}"))?
        .with_behaviour(|key| {
            Behaviour::new(key, chain, timeout)
                .map_err(Box::<dyn std::error::Error + Send + Sync>::from)
        })
        .map_err(|error| format!("behaviour: {error}"))?
        .with_swarm_config(|swarm| swarm.with_idle_connection_timeout(Duration::from_secs(120)))
        .build())
}
