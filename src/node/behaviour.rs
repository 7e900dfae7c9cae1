//! The libp2p behaviour of a light consensus node: identify, gossipsub, and one request-response
//! behaviour per req/resp message (so multistream-select only ever picks between versions of the
//! same message).

use std::sync::Arc;
use std::time::Duration;

use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{gossipsub, identify, identity};

use super::codec::EthCodec;
use super::gossip;
use crate::chain::{ChainConfig, Fork, FAR_FUTURE_EPOCH};
use crate::wire::Protocol;

/// The identify agent version we announce.
pub const AGENT_VERSION: &str = concat!("beacon-p2p/", env!("CARGO_PKG_VERSION"));

type ReqResp = request_response::Behaviour<EthCodec>;

/// A req/resp message, with all its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    /// `status`.
    Status,
    /// `ping`.
    Ping,
    /// `metadata`.
    MetaData,
    /// `goodbye`.
    Goodbye,
    /// `light_client_bootstrap`.
    Bootstrap,
    /// `light_client_updates_by_range`.
    UpdatesByRange,
    /// `light_client_finality_update`.
    FinalityUpdate,
    /// `light_client_optimistic_update`.
    OptimisticUpdate,
    /// `beacon_blocks_by_range`.
    BlocksByRange,
    /// `beacon_blocks_by_root`.
    BlocksByRoot,
}

impl Message {
    /// The message a protocol carries.
    pub fn of(protocol: Protocol) -> Message {
        match protocol {
            Protocol::StatusV1 | Protocol::StatusV2 => Message::Status,
            Protocol::Ping => Message::Ping,
            Protocol::MetaDataV1 | Protocol::MetaDataV2 | Protocol::MetaDataV3 => Message::MetaData,
            Protocol::Goodbye => Message::Goodbye,
            Protocol::LightClientBootstrap => Message::Bootstrap,
            Protocol::LightClientUpdatesByRange => Message::UpdatesByRange,
            Protocol::LightClientFinalityUpdate => Message::FinalityUpdate,
            Protocol::LightClientOptimisticUpdate => Message::OptimisticUpdate,
            Protocol::BeaconBlocksByRange => Message::BlocksByRange,
            Protocol::BeaconBlocksByRoot => Message::BlocksByRoot,
        }
    }

    /// Versions we speak, preferred first, and whether we also answer them.
    fn protocols(self, fulu_scheduled: bool) -> Vec<(Protocol, ProtocolSupport)> {
        let full = |protocols: &[Protocol]| {
            protocols
                .iter()
                .map(|protocol| (*protocol, ProtocolSupport::Full))
                .collect()
        };
        match self {
            Message::Status if fulu_scheduled => full(&[Protocol::StatusV2, Protocol::StatusV1]),
            Message::Status => full(&[Protocol::StatusV1]),
            Message::MetaData if fulu_scheduled => {
                full(&[Protocol::MetaDataV3, Protocol::MetaDataV2])
            }
            Message::MetaData => full(&[Protocol::MetaDataV2]),
            Message::Ping => full(&[Protocol::Ping]),
            Message::Goodbye => full(&[Protocol::Goodbye]),
            // A light client asks for light-client data; it has none to serve.
            Message::Bootstrap => vec![(Protocol::LightClientBootstrap, ProtocolSupport::Outbound)],
            Message::UpdatesByRange => vec![(
                Protocol::LightClientUpdatesByRange,
                ProtocolSupport::Outbound,
            )],
            Message::FinalityUpdate => vec![(
                Protocol::LightClientFinalityUpdate,
                ProtocolSupport::Outbound,
            )],
            Message::OptimisticUpdate => vec![(
                Protocol::LightClientOptimisticUpdate,
                ProtocolSupport::Outbound,
            )],
            // Nor blocks: it stores none.
            Message::BlocksByRange => {
                vec![(Protocol::BeaconBlocksByRange, ProtocolSupport::Outbound)]
            }
            Message::BlocksByRoot => {
                vec![(Protocol::BeaconBlocksByRoot, ProtocolSupport::Outbound)]
            }
        }
    }
}

/// The node's network behaviour.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Identify: learns peers' agents and protocols.
    pub identify: identify::Behaviour,
    /// Gossipsub for the light-client topics.
    pub gossipsub: gossipsub::Behaviour,
    /// `status`.
    pub status: ReqResp,
    /// `ping`.
    pub ping: ReqResp,
    /// `metadata`.
    pub metadata: ReqResp,
    /// `goodbye`.
    pub goodbye: ReqResp,
    /// `light_client_bootstrap`.
    pub bootstrap: ReqResp,
    /// `light_client_updates_by_range`.
    pub updates_by_range: ReqResp,
    /// `light_client_finality_update`.
    pub finality_update: ReqResp,
    /// `light_client_optimistic_update`.
    pub optimistic_update: ReqResp,
    /// `beacon_blocks_by_range`.
    pub blocks_by_range: ReqResp,
    /// `beacon_blocks_by_root`.
    pub blocks_by_root: ReqResp,
}

impl Behaviour {
    /// The behaviour for `chain`, with requests timing out after `request_timeout`.
    pub fn new(
        key: &identity::Keypair,
        chain: Arc<ChainConfig>,
        request_timeout: Duration,
    ) -> Result<Self, String> {
        let fulu_scheduled = chain
            .activation(Fork::Fulu)
            .is_some_and(|activation| activation.epoch != FAR_FUTURE_EPOCH);
        let codec = EthCodec::new(chain);
        let req_resp = |message: Message| {
            // The spec allows two concurrent requests per protocol per peer, each way.
            let config = request_response::Config::default()
                .with_request_timeout(request_timeout)
                .with_max_concurrent_streams(2 * 64);
            ReqResp::with_codec(codec.clone(), message.protocols(fulu_scheduled), config)
        };
        Ok(Behaviour {
            identify: identify::Behaviour::new(
                identify::Config::new("eth2/1.0.0".into(), key.public())
                    .with_agent_version(AGENT_VERSION.into()),
            ),
            gossipsub: gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Anonymous,
                gossip::config()?,
            )
            .map_err(str::to_string)?,
            status: req_resp(Message::Status),
            ping: req_resp(Message::Ping),
            metadata: req_resp(Message::MetaData),
            goodbye: req_resp(Message::Goodbye),
            bootstrap: req_resp(Message::Bootstrap),
            updates_by_range: req_resp(Message::UpdatesByRange),
            finality_update: req_resp(Message::FinalityUpdate),
            optimistic_update: req_resp(Message::OptimisticUpdate),
            blocks_by_range: req_resp(Message::BlocksByRange),
            blocks_by_root: req_resp(Message::BlocksByRoot),
        })
    }

    /// The request-response behaviour of `message`.
    pub fn req_resp(&mut self, message: Message) -> &mut ReqResp {
        match message {
            Message::Status => &mut self.status,
            Message::Ping => &mut self.ping,
            Message::MetaData => &mut self.metadata,
            Message::Goodbye => &mut self.goodbye,
            Message::Bootstrap => &mut self.bootstrap,
            Message::UpdatesByRange => &mut self.updates_by_range,
            Message::FinalityUpdate => &mut self.finality_update,
            Message::OptimisticUpdate => &mut self.optimistic_update,
            Message::BlocksByRange => &mut self.blocks_by_range,
            Message::BlocksByRoot => &mut self.blocks_by_root,
        }
    }
}
