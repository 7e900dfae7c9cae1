//! Where answers come from: peers (the node) and Beacon-API sources (`Config::rpc`), under a
//! [`SourcePolicy`]. A call goes to the first kind, and to the second after `p2p_budget` or as
//! soon as the first fails; the first answer that holds wins, so a call fails only when every
//! source failed. Beacon-API answers go through the node's store like a peer's (verified mode):
//! a source whose data does not verify, or whose latest update is older than what was proved, is
//! flagged ([`Event::SourceMisbehaved`](crate::node::NodeEvent)) and demoted for a while.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use futures::channel::oneshot;
use futures::{pin_mut, FutureExt};
use web_time::Instant;

pub use crate::node::SourcePolicy;
use crate::rpc::RpcSource;

/// How long a source that misbehaved is skipped.
pub const DEMOTION: Duration = Duration::from_secs(60);

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum DataSource {
    /// A peer, through the node.
    P2p {
        /// The peer whose data it is: the one that answered, or — when the node had it from an
        /// earlier answer or gossip — the one that sent it then.
        peer: String,
    },
    /// A Beacon-API source.
    Rpc {
        /// Its URL.
        url: String,
    },
}

/// `p2p; peer=<peer id>` or `rpc; url=<url>`: the bridge's `beacon-p2p-source` response header.
impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSource::P2p { peer } => write!(f, "p2p; peer={peer}"),
            DataSource::Rpc { url } => write!(f, "rpc; url={url}"),
        }
    }
}

impl DataSource {
    /// The source as `Client::sources` names it: `"p2p"` or the Beacon-API URL.
    pub fn name(&self) -> &str {
        match self {
            DataSource::P2p { .. } => "p2p",
            DataSource::Rpc { url } => url,
        }
    }

    /// `"p2p"` or `"rpc"`.
    pub fn kind(&self) -> &'static str {
        match self {
            DataSource::P2p { .. } => "p2p",
            DataSource::Rpc { .. } => "rpc",
        }
    }
}

/// Data and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The data.
    pub data: T,
    /// Its source.
    pub source: DataSource,
}

impl<T> Sourced<T> {
    /// The same source with `f` applied to the data.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sourced<U> {
        Sourced {
            data: f(self.data),
            source: self.source,
        }
    }
}

/// What one source did so far (`Client::sources`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceReport {
    /// `"p2p"` or the Beacon-API URL.
    pub source: String,
    /// `"p2p"` or `"rpc"`.
    pub kind: &'static str,
    /// Calls it answered.
    pub answers: u64,
    /// Calls it failed (no answer, an error, data refused).
    pub failures: u64,
    /// Answers refused as lies (do not verify, or older than what was proved).
    pub misbehaved: u64,
    /// Mean time of its answers, in milliseconds.
    pub mean_latency_ms: f64,
    /// Its last failure.
    pub last_error: Option<String>,
    /// Skipped until its demotion ends.
    pub demoted: bool,
}

#[derive(Default)]
struct Record {
    report: SourceReport,
    total_latency_ms: f64,
    demoted_until: Option<Instant>,
}

/// The client's sources beside the node: the Beacon-API ones, the policy, and what each did.
pub(crate) struct Sources {
    pub(crate) rpc: Vec<RpcSource>,
    pub(crate) policy: SourcePolicy,
    pub(crate) p2p_budget: Duration,
    records: Mutex<BTreeMap<String, Record>>,
    /// The kind that answered last (a change is a switch).
    last_kind: Mutex<Option<&'static str>>,
}

impl Sources {
    pub(crate) fn new(rpc: Vec<RpcSource>, policy: SourcePolicy, p2p_budget: Duration) -> Self {
        Sources {
            rpc,
            policy,
            p2p_budget,
            records: Mutex::new(BTreeMap::new()),
            last_kind: Mutex::new(None),
        }
    }

    fn with_record<T>(
        &self,
        source: &str,
        kind: &'static str,
        f: impl FnOnce(&mut Record) -> T,
    ) -> T {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let record = records.entry(source.to_string()).or_insert_with(|| Record {
            report: SourceReport {
                source: source.to_string(),
                kind,
                ..SourceReport::default()
            },
            ..Record::default()
        });
        f(record)
    }

    /// Counts an answer from `source` that took `since` until now.
    pub(crate) fn answered(&self, source: &str, kind: &'static str, since: Instant) {
        let ms = since.elapsed().as_secs_f64() * 1000.0;
        self.with_record(source, kind, |record| {
            record.report.answers += 1;
            record.total_latency_ms += ms;
            record.report.mean_latency_ms = record.total_latency_ms / record.report.answers as f64;
        });
    }

    /// Counts a failure of `source`.
    pub(crate) fn failed(&self, source: &str, kind: &'static str, error: &str) {
        self.with_record(source, kind, |record| {
            record.report.failures += 1;
            record.report.last_error = Some(error.to_string());
        });
    }

    /// Counts a lie of `source` and demotes it for [`DEMOTION`].
    pub(crate) fn misbehaved(&self, source: &str, reason: &str) {
        self.with_record(source, "rpc", |record| {
            record.report.failures += 1;
            record.report.misbehaved += 1;
            record.report.last_error = Some(reason.to_string());
            record.demoted_until = Some(Instant::now() + DEMOTION);
        });
    }

    /// The Beacon-API sources to ask now, in order: the demoted ones are skipped.
    pub(crate) fn usable_rpc(&self) -> Vec<RpcSource> {
        let now = Instant::now();
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        self.rpc
            .iter()
            .filter(|source| {
                records
                    .get(source.url())
                    .and_then(|record| record.demoted_until)
                    .is_none_or(|until| until <= now)
            })
            .cloned()
            .collect()
    }

    /// Notes that `kind` answered; the kind that answered before, if it was another.
    pub(crate) fn switched_to(&self, kind: &'static str) -> Option<&'static str> {
        let mut last = self.last_kind.lock().unwrap_or_else(|e| e.into_inner());
        let before = last.replace(kind);
        before.filter(|before| *before != kind)
    }

    /// Every source's report: p2p first, then the Beacon-API sources in `Config::rpc` order.
    pub(crate) fn reports(&self) -> Vec<SourceReport> {
        let now = Instant::now();
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let report = |source: &str, kind: &'static str| {
            records.get(source).map_or_else(
                || SourceReport {
                    source: source.to_string(),
                    kind,
                    ..SourceReport::default()
                },
                |record| SourceReport {
                    demoted: record.demoted_until.is_some_and(|until| until > now),
                    ..record.report.clone()
                },
            )
        };
        std::iter::once(report("p2p", "p2p"))
            .chain(self.rpc.iter().map(|source| report(source.url(), "rpc")))
            .collect()
    }
}

/// Runs `primary`, and `secondary` too once `budget` has passed or `primary` failed; the first
/// success wins (the other is dropped). With both failed, both errors; `primary`'s error, when
/// it failed before the winner answered, comes with the success as the reason for the switch.
pub(crate) async fn first_answer<T, E>(
    primary: impl Future<Output = Result<T, E>>,
    secondary: impl Future<Output = Result<T, E>>,
    budget: Duration,
) -> Result<(T, Won), (E, E)> {
    let (start, started) = oneshot::channel::<()>();
    let mut start = Some(start);
    let secondary = async move {
        // Waits for the go; dropping `start` (the call ends) ends it.
        let _ = started.await;
        secondary.await
    }
    .fuse();
    let primary = primary.fuse();
    let delay = futures_timer::Delay::new(budget).fuse();
    pin_mut!(primary, secondary, delay);
    let (mut primary_error, mut secondary_error) = (None, None);
    loop {
        futures::select! {
            result = primary => match result {
                Ok(value) => return Ok((value, Won::Primary)),
                Err(error) => {
                    primary_error = Some(error);
                    if let Some(start) = start.take() {
                        let _ = start.send(());
                    }
                }
            },
            () = delay => {
                if let Some(start) = start.take() {
                    let _ = start.send(());
                }
            },
            result = secondary => match result {
                Ok(value) => {
                    return Ok((value, Won::Secondary { primary_failed: primary_error.is_some() }))
                }
                Err(error) => secondary_error = Some(error),
            },
        }
        if let (Some(_), Some(_)) = (&primary_error, &secondary_error) {
            return Err((primary_error.unwrap(), secondary_error.unwrap()));
        }
    }
}

/// Which future of [`first_answer`] won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Won {
    /// The first.
    Primary,
    /// The second; whether the first had failed (else it was over its budget).
    Secondary {
        /// The first had failed.
        primary_failed: bool,
    },
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    async fn after(ms: u64, result: Result<u32, &'static str>) -> Result<u32, &'static str> {
        futures_timer::Delay::new(Duration::from_millis(ms)).await;
        result
    }

    #[tokio::test]
    async fn the_first_answer_wins_and_the_second_waits_its_turn() {
        let budget = Duration::from_millis(100);
        // Primary in budget: the secondary never runs.
        let ran = std::sync::atomic::AtomicBool::new(false);
        let secondary = async {
            ran.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(2)
        };
        assert_eq!(
            first_answer(after(10, Ok(1)), secondary, budget).await,
            Ok((1, Won::Primary))
        );
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
        // Primary over budget: the secondary answers first.
        assert_eq!(
            first_answer(after(1000, Ok(1)), after(10, Ok(2)), budget).await,
            Ok((
                2,
                Won::Secondary {
                    primary_failed: false
                }
            ))
        );
        // Primary fails at once: the secondary starts without waiting for the budget.
        let start = Instant::now();
        let won = first_answer(
            after(0, Err("down")),
            after(0, Ok(2)),
            Duration::from_secs(30),
        );
        assert_eq!(
            won.await,
            Ok((
                2,
                Won::Secondary {
                    primary_failed: true
                }
            ))
        );
        assert!(start.elapsed() < Duration::from_secs(30));
        // Secondary fails: the primary may still answer.
        assert_eq!(
            first_answer(after(200, Ok(1)), after(0, Err("no")), Duration::ZERO).await,
            Ok((1, Won::Primary))
        );
        // Both fail: both errors.
        assert_eq!(
            first_answer(after(0, Err::<u32, _>("a")), after(0, Err("b")), budget).await,
            Err(("a", "b"))
        );
    }
}
