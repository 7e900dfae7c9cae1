//! The req/resp protocols we speak, their ids, and the SSZ types and limits of their messages:
//! kept as data next to each other, so the codec never guesses.

use std::fmt;
use std::str::FromStr;

use crate::chain::{Fork, Preset};
use crate::types::{
    ssz_bounds_named, SszTypeName, TypeError, MAX_REQUEST_BLOCKS_DENEB,
    MAX_REQUEST_LIGHT_CLIENT_UPDATES,
};

/// `MAX_PAYLOAD_SIZE`: no req/resp or gossip payload may exceed 10 MiB uncompressed.
pub const MAX_PAYLOAD_SIZE: usize = 10 * 1024 * 1024;

/// A req/resp protocol (name and version; the encoding is always `ssz_snappy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `status/1`.
    StatusV1,
    /// `status/2` (Fulu).
    StatusV2,
    /// `goodbye/1`.
    Goodbye,
    /// `ping/1`.
    Ping,
    /// `metadata/1` (phase0; old peers only).
    MetaDataV1,
    /// `metadata/2` (Altair).
    MetaDataV2,
    /// `metadata/3` (Fulu).
    MetaDataV3,
    /// `light_client_bootstrap/1`.
    LightClientBootstrap,
    /// `light_client_updates_by_range/1`.
    LightClientUpdatesByRange,
    /// `light_client_finality_update/1`.
    LightClientFinalityUpdate,
    /// `light_client_optimistic_update/1`.
    LightClientOptimisticUpdate,
    /// `beacon_blocks_by_range/2`.
    BeaconBlocksByRange,
    /// `beacon_blocks_by_root/2`.
    BeaconBlocksByRoot,
}

impl Protocol {
    /// Every protocol.
    pub const ALL: [Protocol; 13] = [
        Protocol::StatusV1,
        Protocol::StatusV2,
        Protocol::Goodbye,
        Protocol::Ping,
        Protocol::MetaDataV1,
        Protocol::MetaDataV2,
        Protocol::MetaDataV3,
        Protocol::LightClientBootstrap,
        Protocol::LightClientUpdatesByRange,
        Protocol::LightClientFinalityUpdate,
        Protocol::LightClientOptimisticUpdate,
        Protocol::BeaconBlocksByRange,
        Protocol::BeaconBlocksByRoot,
    ];

    /// The block protocols (success chunks carry context bytes and a `SignedBeaconBlock`).
    pub const BLOCKS: [Protocol; 2] = [Protocol::BeaconBlocksByRange, Protocol::BeaconBlocksByRoot];

    /// The light-client protocols.
    pub const LIGHT_CLIENT: [Protocol; 4] = [
        Protocol::LightClientBootstrap,
        Protocol::LightClientUpdatesByRange,
        Protocol::LightClientFinalityUpdate,
        Protocol::LightClientOptimisticUpdate,
    ];

    /// Message name and schema version.
    pub fn name_and_version(self) -> (&'static str, u8) {
        match self {
            Protocol::StatusV1 => ("status", 1),
            Protocol::StatusV2 => ("status", 2),
            Protocol::Goodbye => ("goodbye", 1),
            Protocol::Ping => ("ping", 1),
            Protocol::MetaDataV1 => ("metadata", 1),
            Protocol::MetaDataV2 => ("metadata", 2),
            Protocol::MetaDataV3 => ("metadata", 3),
            Protocol::LightClientBootstrap => ("light_client_bootstrap", 1),
            Protocol::LightClientUpdatesByRange => ("light_client_updates_by_range", 1),
            Protocol::LightClientFinalityUpdate => ("light_client_finality_update", 1),
            Protocol::LightClientOptimisticUpdate => ("light_client_optimistic_update", 1),
            Protocol::BeaconBlocksByRange => ("beacon_blocks_by_range", 2),
            Protocol::BeaconBlocksByRoot => ("beacon_blocks_by_root", 2),
        }
    }

    /// The multistream protocol id, `/eth2/beacon_chain/req/<name>/<version>/ssz_snappy`.
    pub fn protocol_id(self) -> &'static str {
        match self {
            Protocol::StatusV1 => "/eth2/beacon_chain/req/status/1/ssz_snappy",
            Protocol::StatusV2 => "/eth2/beacon_chain/req/status/2/ssz_snappy",
            Protocol::Goodbye => "/eth2/beacon_chain/req/goodbye/1/ssz_snappy",
            Protocol::Ping => "/eth2/beacon_chain/req/ping/1/ssz_snappy",
            Protocol::MetaDataV1 => "/eth2/beacon_chain/req/metadata/1/ssz_snappy",
            Protocol::MetaDataV2 => "/eth2/beacon_chain/req/metadata/2/ssz_snappy",
            Protocol::MetaDataV3 => "/eth2/beacon_chain/req/metadata/3/ssz_snappy",
            Protocol::LightClientBootstrap => {
                "/eth2/beacon_chain/req/light_client_bootstrap/1/ssz_snappy"
            }
            Protocol::LightClientUpdatesByRange => {
                "/eth2/beacon_chain/req/light_client_updates_by_range/1/ssz_snappy"
            }
            Protocol::LightClientFinalityUpdate => {
                "/eth2/beacon_chain/req/light_client_finality_update/1/ssz_snappy"
            }
            Protocol::LightClientOptimisticUpdate => {
                "/eth2/beacon_chain/req/light_client_optimistic_update/1/ssz_snappy"
            }
            Protocol::BeaconBlocksByRange => {
                "/eth2/beacon_chain/req/beacon_blocks_by_range/2/ssz_snappy"
            }
            Protocol::BeaconBlocksByRoot => {
                "/eth2/beacon_chain/req/beacon_blocks_by_root/2/ssz_snappy"
            }
        }
    }

    /// Whether success chunks carry 4 context bytes (the fork digest of the object's slot).
    pub fn has_context_bytes(self) -> bool {
        Protocol::LIGHT_CLIENT.contains(&self) || self.is_block()
    }

    /// Whether this is a block protocol.
    pub fn is_block(self) -> bool {
        Protocol::BLOCKS.contains(&self)
    }

    /// The request body's type, or `None` when the request has no body.
    pub fn request_type(self) -> Option<SszTypeName> {
        match self {
            Protocol::StatusV1 => Some(SszTypeName::StatusV1),
            Protocol::StatusV2 => Some(SszTypeName::StatusV2),
            Protocol::Goodbye => Some(SszTypeName::Goodbye),
            Protocol::Ping => Some(SszTypeName::Ping),
            Protocol::LightClientBootstrap => Some(SszTypeName::Root),
            Protocol::LightClientUpdatesByRange => {
                Some(SszTypeName::LightClientUpdatesByRangeRequest)
            }
            Protocol::BeaconBlocksByRange => Some(SszTypeName::BeaconBlocksByRangeRequest),
            Protocol::BeaconBlocksByRoot => Some(SszTypeName::BeaconBlocksByRootRequest),
            Protocol::MetaDataV1
            | Protocol::MetaDataV2
            | Protocol::MetaDataV3
            | Protocol::LightClientFinalityUpdate
            | Protocol::LightClientOptimisticUpdate => None,
        }
    }

    /// The type of a success chunk's payload.
    pub fn response_type(self) -> SszTypeName {
        match self {
            Protocol::StatusV1 => SszTypeName::StatusV1,
            Protocol::StatusV2 => SszTypeName::StatusV2,
            Protocol::Goodbye => SszTypeName::Goodbye,
            Protocol::Ping => SszTypeName::Ping,
            Protocol::MetaDataV1 => SszTypeName::MetaDataV1,
            Protocol::MetaDataV2 => SszTypeName::MetaDataV2,
            Protocol::MetaDataV3 => SszTypeName::MetaDataV3,
            Protocol::LightClientBootstrap => SszTypeName::LightClientBootstrap,
            Protocol::LightClientUpdatesByRange => SszTypeName::LightClientUpdate,
            Protocol::LightClientFinalityUpdate => SszTypeName::LightClientFinalityUpdate,
            Protocol::LightClientOptimisticUpdate => SszTypeName::LightClientOptimisticUpdate,
            Protocol::BeaconBlocksByRange | Protocol::BeaconBlocksByRoot => {
                SszTypeName::SignedBeaconBlock
            }
        }
    }

    /// Most response chunks a peer may send.
    pub fn max_response_chunks(self) -> u64 {
        match self {
            Protocol::LightClientUpdatesByRange => MAX_REQUEST_LIGHT_CLIENT_UPDATES,
            Protocol::BeaconBlocksByRange | Protocol::BeaconBlocksByRoot => {
                MAX_REQUEST_BLOCKS_DENEB
            }
            // Goodbye gets no response at all.
            Protocol::Goodbye => 0,
            _ => 1,
        }
    }

    /// Length bounds of the request body.
    pub fn request_bounds(self) -> Option<(usize, usize)> {
        self.request_type().map(|name| {
            ssz_bounds_named(name, Fork::Phase0, Preset::Mainnet)
                .expect("request types are the same at every fork")
        })
    }

    /// Length bounds of a success chunk's payload at `fork` (capped at `MAX_PAYLOAD_SIZE`).
    pub fn response_bounds(self, fork: Fork, preset: Preset) -> Result<(usize, usize), TypeError> {
        let (min, max) = ssz_bounds_named(self.response_type(), fork, preset)?;
        Ok((min, max.min(MAX_PAYLOAD_SIZE)))
    }
}

impl AsRef<str> for Protocol {
    fn as_ref(&self) -> &str {
        self.protocol_id()
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, version) = self.name_and_version();
        write!(f, "{name}/{version}")
    }
}

/// A protocol name or id that is not one we speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol {0:?} (expected e.g. light_client_bootstrap, status/2, or a full /eth2/beacon_chain/req/… id)")]
pub struct UnknownProtocol(pub String);

impl FromStr for Protocol {
    type Err = UnknownProtocol;

    /// Accepts the full id, `<name>/<version>`, or `<name>` alone (its lowest version).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text
            .strip_prefix("/eth2/beacon_chain/req/")
            .map(|rest| rest.strip_suffix("/ssz_snappy").unwrap_or(rest))
            .unwrap_or(text);
        let (name, version) = match trimmed.split_once('/') {
            Some((name, version)) => (name, version.parse::<u8>().ok()),
            None => (trimmed, None),
        };
        let candidates = Protocol::ALL
            .into_iter()
            .filter(|protocol| protocol.name_and_version().0 == name);
        let found = match version {
            Some(version) => candidates
                .into_iter()
                .find(|protocol| protocol.name_and_version().1 == version),
            None => candidates.min_by_key(|protocol| protocol.name_and_version().1),
        };
        found.ok_or_else(|| UnknownProtocol(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_protocols() {
        for (name, protocol) in [
            ("beacon_blocks_by_range", Protocol::BeaconBlocksByRange),
            ("beacon_blocks_by_root/2", Protocol::BeaconBlocksByRoot),
        ] {
            assert_eq!(name.parse(), Ok(protocol));
            assert_eq!(protocol.protocol_id().parse(), Ok(protocol));
            assert!(protocol.has_context_bytes() && protocol.is_block());
            assert_eq!(protocol.max_response_chunks(), 128);
            assert_eq!(protocol.response_type(), SszTypeName::SignedBeaconBlock);
        }
        assert_eq!(
            Protocol::BeaconBlocksByRange.protocol_id(),
            "/eth2/beacon_chain/req/beacon_blocks_by_range/2/ssz_snappy"
        );
        assert_eq!(
            Protocol::BeaconBlocksByRange.request_bounds(),
            Some((24, 24))
        );
        assert_eq!(
            Protocol::BeaconBlocksByRoot.request_bounds(),
            Some((0, 4096))
        );
        // Blocks exist from capella on; the payload is capped at MAX_PAYLOAD_SIZE.
        let (_, max) = Protocol::BeaconBlocksByRange
            .response_bounds(Fork::Fulu, Preset::Mainnet)
            .unwrap();
        assert!(max <= MAX_PAYLOAD_SIZE);
        assert!(Protocol::BeaconBlocksByRoot
            .response_bounds(Fork::Altair, Preset::Mainnet)
            .is_err());
    }
}
