//! Dialable addresses from consensus-node ENRs (`enr:-…`): the TCP endpoint and the libp2p peer
//! id derived from the record's secp256k1 key.

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
}
