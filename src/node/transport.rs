//! Building the swarm: the one place that knows the transports of each target.
//! Native: TCP + DNS. Browser: WebSocket (peers listening on `/ws`, and TCP-only peers through a
//! bridge's relay) and WebTransport. Both: noise, then yamux or mplex (Nimbus, Lodestar and Teku
//! speak mplex only).

use std::borrow::Cow;
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{identity, noise, Multiaddr, Swarm};

use super::behaviour::Behaviour;
use super::coalesce::Coalesced;
use super::peer_id_of;
use super::NodeConfig;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
        .with_other_transport(|key| -> Result<_, BoxError> {
            use libp2p::core::upgrade::{SelectUpgrade, Version};
            use libp2p::Transport as _;
            let tcp =
                libp2p::tcp::tokio::Transport::new(libp2p::tcp::Config::default().nodelay(true));
            Ok(tcp
                .map(|connection, _| Coalesced::new(connection))
                .upgrade(Version::V1)
                .authenticate(noise::Config::new(key)?)
                // Offered in this order: yamux first, mplex for the clients that speak nothing else.
                .multiplex(SelectUpgrade::new(
                    libp2p::yamux::Config::default(),
                    libp2p_mplex::Config::default(),
                )))
        })
        .map_err(|error| format!("TCP transport: {error}"))?
        .with_dns()
        .map_err(|error| format!("DNS transport: {error}"))?
        .with_behaviour(|key| Behaviour::new(key, chain, timeout).map_err(BoxError::from))
        .map_err(|error| format!("behaviour: {error}"))?
        .with_swarm_config(swarm_config)
        .build())
}

/// The swarm settings of both targets.
///
/// Substreams are negotiated lazily (multistream-select `V1Lazy`): when we propose one protocol we
/// send the proposal, the request and our write-close in one go instead of waiting a round trip
/// for the confirmation. That is not only faster. A request without a body (finality and optimistic
/// updates, MetaData) is otherwise closed only after the confirmation has come back, and a responder
/// that answers and closes right after confirming (Lodestar) has by then forgotten the stream:
/// js-mplex counts our late CLOSE as a message for a missing stream and drops the connection after
/// more than five in a second. A refusal then arrives in place of the response
/// (`codec::is_protocol_refusal`).
fn swarm_config(swarm: libp2p::swarm::Config) -> libp2p::swarm::Config {
    swarm
        .with_idle_connection_timeout(Duration::from_secs(120))
        .with_substream_upgrade_protocol_override(libp2p::core::upgrade::Version::V1Lazy)
}

/// A swarm with our behaviour for `config`, on the browser's transports.
#[cfg(target_arch = "wasm32")]
pub fn build_swarm(config: &NodeConfig) -> Result<Swarm<Behaviour>, String> {
    use libp2p::core::upgrade::{SelectUpgrade, Version};
    use libp2p::Transport as _;

    let key = config
        .identity
        .clone()
        .unwrap_or_else(identity::Keypair::generate_secp256k1);
    let chain = config.chain.clone();
    let timeout = config.request_timeout;
    Ok(libp2p::SwarmBuilder::with_existing_identity(key)
        .with_wasm_bindgen()
        .with_other_transport(|key| -> Result<_, BoxError> {
            // The WebSocket carries raw bytes (through a relay, the bridge sees only these):
            // noise and the muxer run end to end with the CL peer.
            Ok(libp2p::websocket_websys::Transport::default()
                .map(|connection, _| Coalesced::new(connection))
                .upgrade(Version::V1Lazy)
                .authenticate(noise::Config::new(key)?)
                .multiplex(SelectUpgrade::new(
                    libp2p::yamux::Config::default(),
                    libp2p_mplex::Config::default(),
                )))
        })
        .map_err(|error| format!("WebSocket transport: {error}"))?
        .with_other_transport(|key| {
            libp2p::webtransport_websys::Transport::new(libp2p::webtransport_websys::Config::new(
                key,
            ))
        })
        .map_err(|error| format!("WebTransport transport: {error:?}"))?
        .with_behaviour(|key| Behaviour::new(key, chain, timeout).map_err(BoxError::from))
        .map_err(|error| format!("behaviour: {error}"))?
        .with_swarm_config(swarm_config)
        .build())
}

/// How a browser reaches a peer address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// It listens on a WebSocket (`/ws`, `/wss`, `/tls/ws`).
    WebSocket,
    /// It listens on WebTransport (`/udp/…/quic-v1/webtransport`).
    WebTransport,
    /// Plain TCP: only through a bridge's relay.
    Tcp,
    /// Nothing a browser can dial (QUIC without WebTransport, WebRTC, …).
    Unreachable,
}

/// How a browser can reach `address`.
pub fn reach(address: &Multiaddr) -> Reach {
    let mut tcp = false;
    for protocol in address.iter() {
        match protocol {
            Protocol::Ws(_) | Protocol::Wss(_) => return Reach::WebSocket,
            Protocol::WebTransport => return Reach::WebTransport,
            Protocol::Tcp(_) => tcp = true,
            Protocol::Udp(_) | Protocol::QuicV1 | Protocol::Quic => {}
            Protocol::P2p(_) | Protocol::Ip4(_) | Protocol::Ip6(_) => {}
            Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_) | Protocol::Dnsaddr(_) => {}
            Protocol::Certhash(_) | Protocol::Tls | Protocol::Sni(_) => {}
            _ => return Reach::Unreachable,
        }
    }
    if tcp {
        Reach::Tcp
    } else {
        Reach::Unreachable
    }
}

/// Why a bridge URL or peer address cannot be turned into a relay address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayAddressError {
    /// The bridge URL is not `http(s)://host[:port]` or `ws(s)://host[:port]`.
    #[error("bridge URL {0:?}: expected http(s)://host[:port] or ws(s)://host[:port]")]
    BridgeUrl(String),
    /// The peer address has no `/p2p/<id>`.
    #[error("peer address {0} has no /p2p/<peer id>")]
    NoPeerId(Multiaddr),
}

/// The address of `peer` (`/ip4/…/tcp/…/p2p/<id>`) through the relay of the bridge at
/// `bridge_url`: `<bridge>/x-parity-ws/%2Frelay%2F<id>/p2p/<id>`, which the WebSocket transport
/// dials as `ws(s)://<bridge>/relay/<id>`. The `/p2p/<id>` stays, so noise still checks that the
/// far end of the relay is that peer.
pub fn relay_address(bridge_url: &str, peer: &Multiaddr) -> Result<Multiaddr, RelayAddressError> {
    let id = peer_id_of(peer).ok_or_else(|| RelayAddressError::NoPeerId(peer.clone()))?;
    let bad = || RelayAddressError::BridgeUrl(bridge_url.chars().take(200).collect());
    let (scheme, rest) = bridge_url.split_once("://").ok_or_else(bad)?;
    let secure = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => false,
        "https" | "wss" => true,
        _ => return Err(bad()),
    };
    // Only the authority counts: the relay lives at the bridge's root.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or_else(bad)?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) => port.parse::<u16>().map_err(|_| bad())?,
        None if secure => 443,
        None => 80,
    };
    let mut address = Multiaddr::empty();
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        address.push(ip.into());
    } else if !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        address.push(Protocol::Dns(Cow::Owned(host.to_ascii_lowercase())));
    } else {
        return Err(bad());
    }
    address.push(Protocol::Tcp(port));
    let path = Cow::Owned(format!("/relay/{id}"));
    address.push(if secure {
        Protocol::Wss(path)
    } else {
        Protocol::Ws(path)
    });
    address.push(Protocol::P2p(id));
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "16Uiu2HAmAP8rPwbQZLYcYMNty2oPPQcEvGwEHs3ZDXKLSMkSisEd";

    fn peer() -> Multiaddr {
        format!("/ip4/203.0.113.7/tcp/9000/p2p/{PEER}")
            .parse()
            .unwrap()
    }

    #[test]
    fn relay_addresses_keep_the_peer_id_and_dial_the_relay_path() {
        let cases = [
            (
                "http://127.0.0.1:8080",
                format!("/ip4/127.0.0.1/tcp/8080/x-parity-ws/%2Frelay%2F{PEER}/p2p/{PEER}"),
            ),
            (
                "https://bridge.example.org/",
                format!(
                    "/dns/bridge.example.org/tcp/443/x-parity-wss/%2Frelay%2F{PEER}/p2p/{PEER}"
                ),
            ),
            (
                "ws://[::1]:9",
                format!("/ip6/::1/tcp/9/x-parity-ws/%2Frelay%2F{PEER}/p2p/{PEER}"),
            ),
        ];
        for (bridge, expected) in cases {
            let address = relay_address(bridge, &peer()).unwrap();
            assert_eq!(address.to_string(), expected, "{bridge}");
            assert_eq!(reach(&address), Reach::WebSocket);
        }
    }

    #[test]
    fn bad_bridges_and_peers_are_errors() {
        for bridge in [
            "",
            "127.0.0.1:8080",
            "ftp://x",
            "http://",
            "http://a:b",
            "http://u@h",
            "http://a b",
        ] {
            assert!(
                matches!(
                    relay_address(bridge, &peer()),
                    Err(RelayAddressError::BridgeUrl(_))
                ),
                "{bridge}"
            );
        }
        let no_id: Multiaddr = "/ip4/1.2.3.4/tcp/1".parse().unwrap();
        assert_eq!(
            relay_address("http://h", &no_id),
            Err(RelayAddressError::NoPeerId(no_id))
        );
    }

    #[test]
    fn reach_by_address() {
        let parse = |text: &str| text.parse::<Multiaddr>().unwrap();
        assert_eq!(reach(&peer()), Reach::Tcp);
        assert_eq!(reach(&parse("/dns4/a.b/tcp/443/wss")), Reach::WebSocket);
        assert_eq!(
            reach(&parse("/ip4/1.2.3.4/tcp/443/tls/ws")),
            Reach::WebSocket
        );
        assert_eq!(
            reach(&parse("/ip4/1.2.3.4/udp/9/quic-v1/webtransport")),
            Reach::WebTransport
        );
        assert_eq!(
            reach(&parse("/ip4/1.2.3.4/udp/9/quic-v1")),
            Reach::Unreachable
        );
    }
}
