//! The node's side of the consensus handshake and the other non-light-client req/resp messages:
//! Status (ours, a peer's, and what fetched data teaches us for ours), MetaData, Ping and
//! Goodbye, inbound and outbound, and announcing a peer once it is ready.

use std::time::Duration;

use libp2p::request_response::{self, OutboundFailure};
use libp2p::PeerId;
use ssz_rs::{Deserialize as _, Serialize as _};
use web_time::Instant;

use super::behaviour::Message;
use super::codec::{status_payload, EthRequest, EthResponse};
use super::verifier::Sender;
use super::{InFlight, Node, NodeEvent};
use crate::types::{
    LightClientKind, LightClientObject, MetaDataV2, MetaDataV3, StatusV1, StatusV2,
};
use crate::wire::{Protocol, ResponseChunk, ResultCode};

/// Goodbye reason: we are shutting down.
pub const GOODBYE_CLIENT_SHUTDOWN: u64 = 1;
/// Goodbye reason: the peer is on another network or fork.
pub const GOODBYE_IRRELEVANT_NETWORK: u64 = 2;
/// Goodbye reason: too many peers (one without the light-client protocols makes room).
pub const GOODBYE_TOO_MANY_PEERS: u64 = 129;
/// Goodbye reason: the peer's score fell too low.
pub const GOODBYE_BAD_SCORE: u64 = 250;

/// How often connected peers are pinged.
const PING_INTERVAL: Duration = Duration::from_secs(30);

impl Node {
    /// Opens the handshake with a peer we dialed (the dialer speaks first): sends our Status.
    pub(super) fn send_status(&mut self, peer: PeerId) {
        let status = self.our_status();
        let id = self
            .swarm
            .behaviour_mut()
            .status
            .send_request(&peer, EthRequest::Status(status));
        self.inflight
            .insert((Message::Status, id), InFlight::Status);
    }

    /// Handles the answer to our Status: a peer on our network goes on to MetaData, one on another
    /// network (or with a Status we cannot read) is told goodbye, a failed request disconnects.
    pub(super) fn on_status_response(
        &mut self,
        peer: PeerId,
        response: Result<EthResponse, OutboundFailure>,
    ) {
        match response.map(|r| (r.protocol, r.chunks)) {
            Ok((protocol, Ok(chunks))) => {
                let status = chunks
                    .first()
                    .filter(|chunk| chunk.result == ResultCode::Success)
                    .and_then(|chunk| decode_status(protocol, &chunk.payload));
                match status {
                    Some(status) => self.on_peer_status(peer, status),
                    None => self.say_goodbye(peer, GOODBYE_IRRELEVANT_NETWORK),
                }
            }
            Ok((_, Err(error))) => {
                tracing::info!(%peer, %error, "invalid Status");
                self.say_goodbye(peer, GOODBYE_IRRELEVANT_NETWORK);
            }
            Err(error) => {
                tracing::info!(%peer, %error, "Status failed");
                let _ = self.swarm.disconnect_peer_id(peer);
            }
        }
    }

    /// Answers a peer's Status, Ping, MetaData or Goodbye (and nothing else).
    pub(super) fn on_inbound_request(
        &mut self,
        peer: PeerId,
        message: Message,
        request: EthRequest,
        channel: request_response::ResponseChannel<EthResponse>,
    ) {
        let EthRequest::Payload {
            protocol: Some(protocol),
            ssz,
        } = request
        else {
            return;
        };
        let success = |payload: Vec<u8>| EthResponse {
            protocol,
            chunks: Ok(vec![ResponseChunk {
                result: ResultCode::Success,
                context: None,
                fork: None,
                payload,
            }]),
        };
        let response = match message {
            Message::Status => {
                if let Some(status) = decode_status(protocol, &ssz) {
                    self.on_peer_status(peer, status);
                }
                success(status_payload(protocol, &self.our_status()))
            }
            Message::Ping => success(0u64.to_le_bytes().to_vec()),
            Message::MetaData => success(our_metadata(protocol)),
            Message::Goodbye => {
                let reason = u64::deserialize(&ssz).unwrap_or_default();
                tracing::info!(%peer, reason, "peer said goodbye");
                self.pending_disconnects
                    .push((peer, Instant::now() + Duration::from_millis(200)));
                EthResponse {
                    protocol,
                    chunks: Ok(Vec::new()),
                }
            }
            // We announce no light-client protocol for inbound requests.
            _ => return,
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .req_resp(message)
            .send_response(channel, response);
    }

    /// Takes a peer's Status: says goodbye to a peer on another network, asks a new one for its
    /// MetaData.
    pub(super) fn on_peer_status(&mut self, peer: PeerId, status: StatusV2) {
        let ours = self.current_digest();
        let relevant = status.fork_digest == ours
            || self
                .config
                .chain
                .fork_for_digest(&status.fork_digest)
                .is_some();
        if !relevant {
            tracing::info!(%peer, digest = %status.fork_digest, "peer is on another network");
            self.say_goodbye(peer, GOODBYE_IRRELEVANT_NETWORK);
            return;
        }
        let first = self.peers.record(peer).status.is_none();
        self.peers.record(peer).status = Some(status);
        if first {
            let id = self
                .swarm
                .behaviour_mut()
                .metadata
                .send_request(&peer, EthRequest::payload(Vec::new()));
            self.inflight
                .insert((Message::MetaData, id), InFlight::MetaData);
            self.announce(peer);
        }
    }

    /// Emits `PeerConnected` once a peer has both exchanged Status and been identified.
    pub(super) fn announce(&mut self, peer: PeerId) {
        let Some(record) = self.peers.get(&peer) else {
            return;
        };
        if record.status.is_none() || record.agent.is_none() || !self.announced.insert(peer) {
            return;
        }
        let client = record.agent.clone();
        tracing::info!(%peer, client = client.as_deref().unwrap_or("?"), "peer ready");
        self.emit(NodeEvent::PeerConnected {
            peer_id: peer.to_string(),
            client,
        });
    }

    /// Pings every connected peer once [`PING_INTERVAL`] has passed since the last round.
    pub(super) fn ping_if_due(&mut self, now: Instant) {
        if now.duration_since(self.last_ping) >= PING_INTERVAL {
            self.last_ping = now;
            let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
            for peer in connected {
                let id = self
                    .swarm
                    .behaviour_mut()
                    .ping
                    .send_request(&peer, EthRequest::payload(0u64.to_le_bytes().to_vec()));
                self.inflight.insert((Message::Ping, id), InFlight::Ping);
            }
        }
    }

    /// Sends Goodbye with `reason`; disconnects when the peer acknowledges, or a second later.
    pub(super) fn say_goodbye(&mut self, peer: PeerId, reason: u64) {
        let id = self
            .swarm
            .behaviour_mut()
            .goodbye
            .send_request(&peer, EthRequest::payload(reason.to_le_bytes().to_vec()));
        self.inflight
            .insert((Message::Goodbye, id), InFlight::Goodbye);
        // Disconnect even if the peer never acknowledges.
        self.pending_disconnects
            .push((peer, Instant::now() + Duration::from_secs(1)));
    }

    /// An honest Status: the best finalized and head headers we know, genesis-like before that.
    pub(super) fn our_status(&self) -> StatusV2 {
        let (finalized_root, finalized_epoch, head_root, head_slot) = self.best.unwrap_or_default();
        StatusV2 {
            fork_digest: self.current_digest(),
            finalized_root,
            finalized_epoch,
            head_root,
            head_slot,
            earliest_available_slot: head_slot,
        }
    }

    /// Updates what our Status says from data we fetched.
    pub(super) fn learn(&mut self, sender: Sender<'_>, objects: &[LightClientObject]) {
        let now = web_time::Instant::now();
        for object in objects {
            self.latest.note(object, (&sender).into(), now);
            // In verified mode `head` and `finalized` name what the store proved.
            let verified = self.store().is_some();
            if !verified && object.kind != LightClientKind::Bootstrap {
                self.witness(&sender, "attested", object.slot, object.block_root);
                if let (Some(slot), Some(root)) = (object.finalized_slot, object.finalized_root) {
                    self.witness(&sender, "finalized", slot, root);
                }
            }
            // A bootstrap's header is a checkpoint, not a head.
            if !verified
                && object.kind != LightClientKind::Bootstrap
                && self.known.head.is_none_or(|(slot, _)| object.slot > slot)
            {
                self.known.head = Some((object.slot, object.block_root));
            }
            if let (false, Some(slot), Some(root)) =
                (verified, object.finalized_slot, object.finalized_root)
            {
                if self.known.finalized.is_none_or(|(known, _)| slot > known) {
                    self.known.finalized = Some((slot, root));
                }
            }
            if let (Some(finalized_slot), Some(finalized_root)) =
                (object.finalized_slot, object.finalized_root)
            {
                let epoch = self.config.chain.epoch_at_slot(finalized_slot);
                if self.best.is_none_or(|(_, best_epoch, _, head)| {
                    epoch > best_epoch || (epoch == best_epoch && object.slot > head)
                }) {
                    self.best = Some((finalized_root, epoch, object.block_root, object.slot));
                }
            }
        }
    }
}

/// A Status of either version, as a `StatusV2` (a V1 one with earliest available slot 0).
fn decode_status(protocol: Protocol, ssz: &[u8]) -> Option<StatusV2> {
    if protocol == Protocol::StatusV1 {
        StatusV1::deserialize(ssz).ok().map(|status| StatusV2 {
            fork_digest: status.fork_digest,
            finalized_root: status.finalized_root,
            finalized_epoch: status.finalized_epoch,
            head_root: status.head_root,
            head_slot: status.head_slot,
            earliest_available_slot: 0,
        })
    } else {
        StatusV2::deserialize(ssz).ok()
    }
}

/// Our MetaData: sequence 0, no subnets, no custody (we store nothing).
fn our_metadata(protocol: Protocol) -> Vec<u8> {
    let mut ssz = Vec::new();
    let written = if protocol == Protocol::MetaDataV3 {
        MetaDataV3::default().serialize(&mut ssz)
    } else {
        MetaDataV2::default().serialize(&mut ssz)
    };
    written.expect("MetaData serializes");
    ssz
}
