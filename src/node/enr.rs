//! Dialable addresses from consensus-node ENRs (`enr:-…`): the TCP endpoint and the libp2p peer
//! id derived from the record's secp256k1 key; which addresses are not on the public internet.

use std::net::{IpAddr, SocketAddr};

use libp2p::multiaddr::Protocol as Part;
use libp2p::{identity, Multiaddr, PeerId};

/// Why an ENR gives no address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrError {
    /// Not a valid ENR.
    #[error("invalid ENR: {0}")]
    Invalid(String),
    /// Valid, but without an IP and TCP port.
    #[error("ENR has no IP and TCP port")]
    NoTcp,
}

/// The `/ip4|ip6/…/tcp/…/p2p/<id>` address of the node an ENR describes.
pub fn tcp_multiaddr(text: &str) -> Result<Multiaddr, EnrError> {
    let record: enr::Enr<enr::k256::ecdsa::SigningKey> = text
        .trim()
        .parse()
        .map_err(|error: String| EnrError::Invalid(error))?;
    // k256 compresses SEC1 points: the 33-byte form libp2p's secp256k1 keys use.
    let key = record.public_key().to_sec1_bytes();
    let key = identity::secp256k1::PublicKey::try_from_bytes(&key)
        .map_err(|error| EnrError::Invalid(error.to_string()))?;
    let peer = PeerId::from_public_key(&identity::PublicKey::from(key));
    let mut address = match (record.ip4(), record.tcp4(), record.ip6(), record.tcp6()) {
        (Some(ip), Some(port), _, _) => Multiaddr::from(ip).with(Part::Tcp(port)),
        (_, _, Some(ip), Some(port)) => Multiaddr::from(ip).with(Part::Tcp(port)),
        _ => return Err(EnrError::NoTcp),
    };
    address.push(Part::P2p(peer));
    Ok(address)
}

/// Whether an address is private, loopback, link-local or otherwise not on the public internet.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            ip.is_private()
                || ip.is_loopback()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_documentation()
                || ip.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240
        }
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        }
    }
}

/// The TCP socket address in `/ip4|ip6/…/tcp/…[/p2p/…]`.
pub fn socket_address(address: &Multiaddr) -> Option<SocketAddr> {
    let mut parts = address.iter();
    let ip = match parts.next()? {
        Part::Ip4(ip) => IpAddr::V4(ip),
        Part::Ip6(ip) => IpAddr::V6(ip),
        _ => return None,
    };
    match parts.next()? {
        Part::Tcp(port) => Some(SocketAddr::new(ip, port)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Network;

    #[test]
    fn mainnet_bootnodes_with_tcp_have_dialable_addresses() {
        let bootnodes = Network::Mainnet.config().bootnodes;
        let dialable: Vec<Multiaddr> = bootnodes
            .iter()
            .filter_map(|enr| tcp_multiaddr(enr).ok())
            .collect();
        assert!(!dialable.is_empty());
        for address in dialable {
            assert!(address.to_string().contains("/tcp/"), "{address}");
            assert!(crate::node::peer_id_of(&address).is_some());
        }
        assert!(matches!(
            tcp_multiaddr("enr:-garbage"),
            Err(EnrError::Invalid(_))
        ));
    }

    #[test]
    fn private_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2a01:4f8::1", "::ffff:8.8.8.8"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn socket_addresses() {
        let address: Multiaddr = "/ip4/1.2.3.4/tcp/9000".parse().unwrap();
        assert_eq!(
            socket_address(&address),
            Some("1.2.3.4:9000".parse().unwrap())
        );
        let dns: Multiaddr = "/dns4/example.org/tcp/9000".parse().unwrap();
        assert_eq!(socket_address(&dns), None);
    }
}
