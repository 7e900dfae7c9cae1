//! The peer manager: who we know, who we are connected to, who serves light-client data, how well
//! each peer has served us, and whom to dial next.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use serde::Serialize;
use web_time::Instant;

use crate::types::StatusV2;
use crate::wire::Protocol;

/// Score below which a peer is disconnected and backed off.
pub const DISCONNECT_SCORE: f64 = -50.0;
const MAX_SCORE: f64 = 20.0;
/// Half-life of a peer's score.
const SCORE_HALF_LIFE: Duration = Duration::from_secs(300);
const BACKOFF_START: Duration = Duration::from_secs(5);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// How a peer served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Valid data.
    Good,
    /// It does not have the data (resource unavailable).
    Unavailable,
    /// It answered with an error code.
    ErrorResponse,
    /// It did not answer in time.
    Timeout,
    /// The stream or connection broke.
    Broken,
    /// Malformed bytes, wrong context bytes, or objects that do not fit the request.
    BadData,
}

impl Outcome {
    fn score_delta(self) -> f64 {
        match self {
            Outcome::Good => 1.0,
            Outcome::Unavailable => -1.0,
            Outcome::ErrorResponse => -5.0,
            Outcome::Broken => -10.0,
            Outcome::Timeout => -15.0,
            Outcome::BadData => -25.0,
        }
    }
}

/// What we know of one peer.
#[derive(Debug, Clone)]
pub struct PeerRecord {
    /// Where to dial it.
    pub address: Option<Multiaddr>,
    /// Its identify agent version (the client name).
    pub agent: Option<String>,
    /// Protocols it announced through identify.
    pub protocols: Option<HashSet<String>>,
    /// Protocols a request found unsupported (multistream-select failed).
    pub unsupported: HashSet<Protocol>,
    /// Its Status, once exchanged.
    pub status: Option<StatusV2>,
    /// Connected right now.
    pub connected: bool,
    /// Score from the data it served.
    pub score: f64,
    /// When the score last changed (it decays towards 0 from there).
    pub scored_at: Option<Instant>,
    /// Consecutive failed dials or drops.
    pub failures: u32,
    /// Not to be dialed before this.
    pub backoff_until: Option<Instant>,
    /// Requests in flight, per protocol.
    pub inflight: HashMap<Protocol, usize>,
    /// When we last sent each protocol (for per-peer quotas).
    pub last_request: HashMap<Protocol, Instant>,
    /// Last time it sent or answered anything.
    pub last_seen: Option<Instant>,
    /// When its connection last went down.
    pub dropped_at: Option<Instant>,
    /// Whether we dialed it (static or discovered candidate) rather than it dialing us.
    pub candidate: bool,
    /// Objects it sent that proved something false (verified mode).
    pub invalid: u64,
    /// Valid objects it sent that were not newer than the store, or not checkable yet.
    pub stale: u64,
}

impl PeerRecord {
    fn new(address: Option<Multiaddr>, candidate: bool) -> Self {
        PeerRecord {
            address,
            agent: None,
            protocols: None,
            unsupported: HashSet::new(),
            status: None,
            connected: false,
            score: 0.0,
            scored_at: None,
            failures: 0,
            backoff_until: None,
            inflight: HashMap::new(),
            last_request: HashMap::new(),
            last_seen: None,
            dropped_at: None,
            candidate,
            invalid: 0,
            stale: 0,
        }
    }

    /// Whether the peer can be asked `protocol`: connected, Status exchanged, and not known
    /// not to speak it.
    pub fn can_serve(&self, protocol: Protocol) -> bool {
        self.connected
            && self.status.is_some()
            && !self.unsupported.contains(&protocol)
            && self
                .protocols
                .as_ref()
                .is_none_or(|protocols| protocols.contains(protocol.protocol_id()))
    }

    /// Whether identify says it serves any light-client protocol (`None` before identify).
    pub fn serves_light_client(&self) -> Option<bool> {
        self.protocols.as_ref().map(|protocols| {
            Protocol::LIGHT_CLIENT
                .iter()
                .any(|protocol| protocols.contains(protocol.protocol_id()))
        })
    }
}

/// A peer as `Client::peers` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// Its peer id.
    pub peer_id: String,
    /// The address we know for it.
    pub address: Option<String>,
    /// Its client (identify agent version).
    pub client: Option<String>,
    /// Connected right now.
    pub connected: bool,
    /// Whether identify says it serves the light-client protocols.
    pub serves_light_client: Option<bool>,
    /// Light-client protocols it has (per identify and failed negotiations).
    pub light_client_protocols: Vec<String>,
    /// Its score.
    pub score: f64,
    /// Its head slot from Status.
    pub head_slot: Option<u64>,
    /// Objects it sent that did not verify (verified mode).
    pub invalid: u64,
    /// Objects it sent that verified but were not newer (verified mode).
    pub stale: u64,
}

/// The peer table.
#[derive(Debug, Default)]
pub struct PeerManager {
    peers: HashMap<PeerId, PeerRecord>,
    target: usize,
}

impl PeerManager {
    /// A manager that keeps `target` peers.
    pub fn new(target: usize) -> Self {
        PeerManager {
            peers: HashMap::new(),
            target: target.max(1),
        }
    }

    /// Adds a peer to dial (static peer, bootnode, discovered).
    pub fn add_candidate(&mut self, peer: PeerId, address: Multiaddr) {
        let record = self
            .peers
            .entry(peer)
            .or_insert_with(|| PeerRecord::new(None, true));
        record.address = Some(address);
        record.candidate = true;
    }

    /// The record of `peer`, created when it connects to us first.
    pub fn record(&mut self, peer: PeerId) -> &mut PeerRecord {
        self.peers
            .entry(peer)
            .or_insert_with(|| PeerRecord::new(None, false))
    }

    /// The record of `peer`, if known.
    pub fn get(&self, peer: &PeerId) -> Option<&PeerRecord> {
        self.peers.get(peer)
    }

    /// Marks a connection up.
    pub fn connected(&mut self, peer: PeerId, now: Instant) {
        let record = self.record(peer);
        record.connected = true;
        record.last_seen = Some(now);
    }

    /// Marks a connection down; backs off if the peer misbehaved or failed. A peer dropped for
    /// its score comes back on probation (half the threshold) once its back-off ends.
    pub fn disconnected(&mut self, peer: PeerId, now: Instant) {
        let record = self.record(peer);
        record.connected = false;
        record.dropped_at = Some(now);
        record.status = None;
        record.inflight.clear();
        if record.score < 0.0 || record.failures > 0 {
            Self::back_off(record, now);
        }
        if record.score < DISCONNECT_SCORE {
            record.score = DISCONNECT_SCORE / 2.0;
        }
    }

    /// Whether `peer` is backing off: we neither dial it nor accept its connections.
    pub fn is_backing_off(&self, peer: &PeerId, now: Instant) -> bool {
        self.peers
            .get(peer)
            .and_then(|record| record.backoff_until)
            .is_some_and(|until| until > now)
    }

    /// Connected peers whose Status exchange has not completed yet.
    pub fn handshaking(&self) -> usize {
        self.peers
            .values()
            .filter(|record| record.connected && record.status.is_none())
            .count()
    }

    /// A dial that failed.
    pub fn dial_failed(&mut self, peer: PeerId, now: Instant) {
        let record = self.record(peer);
        record.failures += 1;
        Self::back_off(record, now);
    }

    fn back_off(record: &mut PeerRecord, now: Instant) {
        let exponent = record.failures.min(6);
        let delay = (BACKOFF_START * 2u32.pow(exponent)).min(BACKOFF_MAX);
        record.backoff_until = Some(now + delay);
    }

    /// Records how `peer` served a request; returns true when its score fell below the
    /// disconnect threshold.
    pub fn report(&mut self, peer: PeerId, outcome: Outcome, now: Instant) -> bool {
        let record = self.record(peer);
        // Old verdicts fade: the score halves every SCORE_HALF_LIFE, so a peer that erred a
        // while ago and behaves now is not dropped for a few new errors.
        if let Some(then) = record.scored_at {
            let elapsed = now.saturating_duration_since(then).as_secs_f64();
            record.score *= 0.5f64.powf(elapsed / SCORE_HALF_LIFE.as_secs_f64());
        }
        record.scored_at = Some(now);
        let before = record.score;
        record.score = (before + outcome.score_delta()).min(MAX_SCORE);
        if outcome == Outcome::Unavailable {
            // Not having the data is not misbehaving: alone it never gets a peer dropped.
            record.score = record.score.max(before.min(DISCONNECT_SCORE / 2.0));
        }
        record.last_seen = Some(now);
        match outcome {
            Outcome::Good => record.failures = 0,
            Outcome::Timeout | Outcome::Broken | Outcome::BadData => record.failures += 1,
            _ => {}
        }
        record.score < DISCONNECT_SCORE
    }

    /// Connected peers.
    pub fn connected_count(&self) -> usize {
        self.peers
            .values()
            .filter(|record| record.connected)
            .count()
    }

    /// Candidates to dial now to get back to the target: known addresses, not connected, not
    /// backing off; those identify showed serving the light-client protocols first, then the
    /// ones not known yet, those known not to serve them last, best score first within each.
    /// A connected peer that lacks the protocols does not count towards the target (it stays
    /// for gossip); connections stop at twice the target, where [`PeerManager::to_make_room`]
    /// lets one of those go.
    pub fn to_dial(&self, now: Instant, dialing: &HashSet<PeerId>) -> Vec<(PeerId, Multiaddr)> {
        let useful = self
            .peers
            .values()
            .filter(|record| record.connected && record.serves_light_client() != Some(false))
            .count();
        let room = (2 * self.target).saturating_sub(self.connected_count() + dialing.len());
        let missing = self.target.saturating_sub(useful + dialing.len()).min(room);
        let mut candidates: Vec<(&PeerId, &PeerRecord)> = self
            .peers
            .iter()
            .filter(|(peer, record)| {
                record.candidate
                    && !record.connected
                    && !dialing.contains(peer)
                    && record.address.is_some()
                    && record.backoff_until.is_none_or(|until| until <= now)
            })
            .collect();
        candidates.sort_by(|a, b| {
            let rank = |record: &PeerRecord| {
                let serves = record.serves_light_client();
                (
                    serves == Some(true),
                    serves != Some(false),
                    (record.score * 1000.0) as i64,
                )
            };
            rank(b.1).cmp(&rank(a.1))
        });
        candidates
            .into_iter()
            .take(missing)
            .filter_map(|(peer, record)| record.address.clone().map(|address| (*peer, address)))
            .collect()
    }

    /// A connected peer without the light-client protocols to let go, when connections are at
    /// their cap (twice the target), the target of useful peers is not met and a candidate not
    /// known to lack them waits: the lowest scored such peer.
    pub fn to_make_room(&self, now: Instant, dialing: &HashSet<PeerId>) -> Option<PeerId> {
        let lacking = |record: &PeerRecord| record.serves_light_client() == Some(false);
        let connected = self.connected_count() + dialing.len();
        let useful = self
            .peers
            .values()
            .filter(|record| record.connected && !lacking(record))
            .count();
        let waiting = self.peers.iter().any(|(peer, record)| {
            record.candidate
                && !record.connected
                && !dialing.contains(peer)
                && record.address.is_some()
                && !lacking(record)
                && record.backoff_until.is_none_or(|until| until <= now)
        });
        if connected < 2 * self.target || useful >= self.target || !waiting {
            return None;
        }
        self.peers
            .iter()
            .filter(|(_, record)| record.connected && lacking(record))
            .min_by(|a, b| a.1.score.total_cmp(&b.1.score))
            .map(|(peer, _)| *peer)
    }

    /// The best peer for `protocol` right now, respecting the per-protocol concurrency limit and
    /// the minimum interval between requests (`quota`), skipping `exclude`.
    pub fn pick(
        &self,
        protocol: Protocol,
        max_inflight: usize,
        quota: Duration,
        exclude: &[PeerId],
        now: Instant,
    ) -> Option<PeerId> {
        self.peers
            .iter()
            .filter(|(peer, record)| {
                record.can_serve(protocol)
                    && !exclude.contains(peer)
                    && record.inflight.get(&protocol).copied().unwrap_or(0) < max_inflight
                    && record
                        .last_request
                        .get(&protocol)
                        .is_none_or(|last| now.duration_since(*last) >= quota)
            })
            .max_by(|a, b| {
                let rank = |record: &PeerRecord| {
                    (
                        record.serves_light_client() == Some(true),
                        (record.score * 1000.0) as i64,
                    )
                };
                rank(a.1).cmp(&rank(b.1))
            })
            .map(|(peer, _)| *peer)
    }

    /// Whether any connected peer could ever answer `protocol` (ignoring load and quotas).
    pub fn anyone_serves(&self, protocol: Protocol, exclude: &[PeerId]) -> bool {
        self.peers
            .iter()
            .any(|(peer, record)| record.can_serve(protocol) && !exclude.contains(peer))
    }

    /// Whether a peer that could serve `protocol` lost its connection since `since` and will be
    /// dialed again before `by`: a request then waits for it rather than failing at once.
    pub fn may_return(&self, protocol: Protocol, since: Instant, by: Instant) -> bool {
        self.peers.values().any(|record| {
            record.candidate
                && !record.connected
                && record.address.is_some()
                && !record.unsupported.contains(&protocol)
                && record.dropped_at.is_some_and(|dropped| dropped >= since)
                && record.backoff_until.is_none_or(|until| until < by)
        })
    }

    /// Every peer we know or knew, for `Client::peers`.
    pub fn infos(&self) -> Vec<PeerInfo> {
        let mut infos: Vec<PeerInfo> = self
            .peers
            .iter()
            .map(|(peer, record)| PeerInfo {
                peer_id: peer.to_string(),
                address: record.address.as_ref().map(ToString::to_string),
                client: record.agent.clone(),
                connected: record.connected,
                serves_light_client: record.serves_light_client(),
                light_client_protocols: Protocol::LIGHT_CLIENT
                    .iter()
                    .filter(|protocol| {
                        !record.unsupported.contains(protocol)
                            && record
                                .protocols
                                .as_ref()
                                .is_some_and(|p| p.contains(protocol.protocol_id()))
                    })
                    .map(|protocol| protocol.to_string())
                    .collect(),
                score: record.score,
                head_slot: record.status.as_ref().map(|status| status.head_slot),
                invalid: record.invalid,
                stale: record.stale,
            })
            .collect();
        infos.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        infos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identified(peers: &mut PeerManager, serves: bool) -> PeerId {
        let peer = PeerId::random();
        let address: Multiaddr = "/ip4/127.0.0.1/tcp/9000".parse().unwrap();
        peers.add_candidate(peer, address);
        let protocol = if serves {
            Protocol::LIGHT_CLIENT[0].protocol_id()
        } else {
            Protocol::StatusV1.protocol_id()
        };
        peers.record(peer).protocols = Some(HashSet::from([protocol.to_string()]));
        peer
    }

    #[test]
    fn light_client_servers_are_dialed_first_and_peers_without_the_protocols_leave_room() {
        let now = Instant::now();
        let mut peers = PeerManager::new(1);
        let lacking = identified(&mut peers, false);
        let unknown = PeerId::random();
        peers.add_candidate(unknown, "/ip4/127.0.0.1/tcp/9001".parse().unwrap());
        let serving = identified(&mut peers, true);
        let order: Vec<PeerId> = {
            let mut all = PeerManager::new(3);
            all.peers = peers.peers.clone();
            all.to_dial(now, &HashSet::new())
                .into_iter()
                .map(|(peer, _)| peer)
                .collect()
        };
        assert_eq!(order, vec![serving, unknown, lacking]);

        // Connected to one that lacks them: it does not fill the one slot.
        peers.connected(lacking, now);
        let next = peers.to_dial(now, &HashSet::new());
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].0, serving);
        // A server connected: the target is met.
        peers.connected(serving, now);
        assert!(peers.to_dial(now, &HashSet::new()).is_empty());
    }

    #[test]
    fn at_the_cap_a_peer_without_the_protocols_makes_room_for_a_candidate() {
        let now = Instant::now();
        let mut peers = PeerManager::new(1);
        let first = identified(&mut peers, false);
        let second = identified(&mut peers, false);
        peers.connected(first, now);
        assert_eq!(
            peers.to_make_room(now, &HashSet::new()),
            None,
            "below the cap"
        );
        peers.connected(second, now);
        assert_eq!(
            peers.to_make_room(now, &HashSet::new()),
            None,
            "no candidate waits"
        );
        let candidate = PeerId::random();
        peers.add_candidate(candidate, "/ip4/127.0.0.1/tcp/9002".parse().unwrap());
        assert!(peers.to_dial(now, &HashSet::new()).is_empty(), "at the cap");
        let leaving = peers.to_make_room(now, &HashSet::new()).unwrap();
        assert!([first, second].contains(&leaving));
        peers.disconnected(leaving, now);
        assert_eq!(peers.to_dial(now, &HashSet::new())[0].0, candidate);
    }

    #[test]
    fn unavailable_alone_never_drops_a_peer_and_old_errors_fade() {
        let peer = PeerId::random();
        let start = Instant::now();
        let mut peers = PeerManager::new(1);
        for second in 0..1_000 {
            let now = start + Duration::from_secs(second);
            assert!(!peers.report(peer, Outcome::Unavailable, now), "{second}");
        }
        assert!(peers.record(peer).score >= DISCONNECT_SCORE / 2.0);

        // Bad data still drops it quickly...
        let other = PeerId::random();
        let dropped = (0..10).any(|_| peers.report(other, Outcome::BadData, start));
        assert!(dropped);
        // ...while the same errors spread over half-lives do not add up.
        let slow = PeerId::random();
        for step in 0..20 {
            let now = start + SCORE_HALF_LIFE * step;
            assert!(!peers.report(slow, Outcome::ErrorResponse, now), "{step}");
        }
    }
}
