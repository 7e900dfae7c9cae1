//! `beacon-p2p verify`: replays a capture directory offline through the light-client store and
//! says, per object, whether it was accepted, ignored or rejected, and why ("why does my light
//! client reject this?").
//!
//! A capture directory has the layout of the test data (`bootstrap/<slot>_<root>.json`,
//! `updates/period_NNNN.json`, `finality_update/*.json`, `optimistic_update/*.json`, optional
//! `arrivals.json` giving the order of the last two). JSON is the Beacon API's.

use std::path::{Path, PathBuf};

use beacon_p2p::chain::ChainConfig;
use beacon_p2p::primitives::{Root, Slot};
use beacon_p2p::types::{LightClientKind, LightClientObject};
use beacon_p2p::verify::{LightClientStore, Verdict, VerifiedHeader};
use clap::Args;
use serde_json::{json, Value};

use crate::cli::{print_json_line, read_input, CliError, NetworkArgs};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    network: NetworkArgs,
    /// The trusted block root to start from (0x-hex).
    #[arg(long, value_name = "ROOT")]
    checkpoint: String,
    /// The current slot each object is checked at: `signature` (its signature slot + 1, as if
    /// it had just arrived) or a slot number.
    #[arg(long, default_value = "signature", value_name = "signature|SLOT")]
    current_slot: String,
    /// The capture directory.
    capture: PathBuf,
}

#[derive(Debug, Clone, Copy)]
enum CurrentSlot {
    AfterSignature,
    Fixed(Slot),
}

pub fn run(args: VerifyArgs) -> Result<(), CliError> {
    let chain = args.network.chain()?;
    let checkpoint = Root::from_hex(&args.checkpoint)
        .map_err(|error| CliError::Usage(format!("--checkpoint {}: {error}", args.checkpoint)))?;
    let current = match args.current_slot.as_str() {
        "signature" => CurrentSlot::AfterSignature,
        slot => CurrentSlot::Fixed(slot.parse().map_err(|_| {
            CliError::Usage(format!(
                "--current-slot {slot}: expected `signature` or a slot number"
            ))
        })?),
    };
    let capture = Capture::open(&args.capture, &chain)?;
    let bootstrap = capture.bootstrap(&checkpoint)?;
    let updates = capture.updates()?;
    let mut store = LightClientStore::initialize(chain.clone(), &checkpoint, &bootstrap.object)
        .map_err(|error| {
            CliError::Invalid(format!(
                "{}: the store cannot start from this bootstrap: {error}",
                bootstrap.file
            ))
        })?;
    print_json_line(&json!({
        "kind": "bootstrap",
        "file": bootstrap.file,
        "result": "accepted",
        "finalized": header_json(&store.finalized()),
    }))?;
    let mut counts = Counts::default();
    for entry in updates {
        let current_slot = match current {
            CurrentSlot::AfterSignature => entry.object.signature_slot.unwrap_or(0) + 1,
            CurrentSlot::Fixed(slot) => slot,
        };
        let forced = store.force_update(current_slot).unwrap_or_default();
        if !forced.is_empty() {
            print_json_line(&json!({
                "kind": "force_update",
                "result": "accepted",
                "current_slot": current_slot,
                "finalized": header_json(&store.finalized()),
            }))?;
        }
        let mut line = json!({ "kind": entry.kind_name(), "file": entry.file });
        let result = store.process(&entry.object, current_slot);
        let verdict = Verdict::of(&result);
        line["result"] = verdict.name().into();
        match verdict {
            Verdict::Accepted => counts.accepted += 1,
            Verdict::Ignored => counts.ignored += 1,
            Verdict::Rejected => counts.rejected += 1,
        }
        match result {
            Ok(change) if change.is_empty() => {
                line["reason"] = "not_newer".into();
                line["detail"] = "valid, but brings no newer header or committee".into();
            }
            Ok(change) => {
                line["changed"] = json!({
                    "finalized": change.finalized,
                    "optimistic": change.optimistic,
                    "committee": change.committee,
                });
            }
            Err(error) => {
                line["reason"] = error.code().into();
                line["detail"] = error.to_string().into();
            }
        }
        print_json_line(&line)?;
    }
    print_json_line(&json!({
        "event": "final",
        "finalized": header_json(&store.finalized()),
        "optimistic": header_json(&store.optimistic()),
        "counts": { "accepted": counts.accepted, "ignored": counts.ignored, "rejected": counts.rejected },
    }))
}

#[derive(Debug, Default)]
struct Counts {
    accepted: usize,
    ignored: usize,
    rejected: usize,
}

fn header_json(header: &VerifiedHeader) -> Value {
    json!({ "slot": header.slot(), "root": header.block_root.to_hex() })
}

/// One object of the capture and the file it came from.
struct Entry {
    file: String,
    object: LightClientObject,
}

impl Entry {
    fn kind_name(&self) -> &'static str {
        match self.object.kind {
            LightClientKind::Bootstrap => "bootstrap",
            LightClientKind::Update => "update",
            LightClientKind::FinalityUpdate => "finality_update",
            LightClientKind::OptimisticUpdate => "optimistic_update",
        }
    }
}

struct Capture<'a> {
    dir: PathBuf,
    chain: &'a ChainConfig,
}

impl<'a> Capture<'a> {
    fn open(dir: &Path, chain: &'a ChainConfig) -> Result<Self, CliError> {
        if !dir.join("bootstrap").is_dir() {
            return Err(CliError::Usage(format!(
                "{}: not a capture directory (no bootstrap/)",
                dir.display()
            )));
        }
        Ok(Capture {
            dir: dir.to_path_buf(),
            chain,
        })
    }

    fn json(&self, path: &Path) -> Result<Value, CliError> {
        let bytes = read_input(&path.to_string_lossy())?;
        serde_json::from_slice(&bytes)
            .map_err(|error| CliError::Invalid(format!("{}: {error}", path.display())))
    }

    fn object(&self, kind: LightClientKind, path: &Path, value: &Value) -> Result<Entry, CliError> {
        let object = LightClientObject::from_beacon_api_json(kind, self.chain.preset, value)
            .map_err(|error| CliError::Invalid(format!("{}: {error}", path.display())))?;
        Ok(Entry {
            file: self.relative(path),
            object,
        })
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.dir)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    /// JSON files of a subdirectory, sorted by name.
    fn files(&self, sub: &str) -> Result<Vec<PathBuf>, CliError> {
        let dir = self.dir.join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        Ok(files)
    }

    /// The bootstrap for `checkpoint`: by file name first, else by the header's root.
    fn bootstrap(&self, checkpoint: &Root) -> Result<Entry, CliError> {
        let files = self.files("bootstrap")?;
        let wanted = checkpoint.to_hex();
        let (named, others): (Vec<_>, Vec<_>) = files
            .into_iter()
            .partition(|path| path.to_string_lossy().contains(&wanted));
        for path in named.iter().chain(&others) {
            let entry = self.object(LightClientKind::Bootstrap, path, &self.json(path)?)?;
            if entry.object.block_root == *checkpoint {
                return Ok(entry);
            }
        }
        Err(CliError::Invalid(format!(
            "{}: no bootstrap for the checkpoint {wanted}",
            self.dir.join("bootstrap").display()
        )))
    }

    /// Period updates in period order, then finality and optimistic updates in arrival order
    /// (`arrivals.json`), or by file name without it.
    fn updates(&self) -> Result<Vec<Entry>, CliError> {
        let mut entries = Vec::new();
        for path in self.files("updates")? {
            // The `updates` route's answer: an array of `{version, data}`.
            let value = self.json(&path)?;
            let items = match value {
                Value::Array(items) => items,
                single => vec![single],
            };
            for item in &items {
                entries.push(self.object(LightClientKind::Update, &path, item)?);
            }
        }
        let arrivals = self.dir.join("arrivals.json");
        let order: Vec<(String, String)> = if arrivals.exists() {
            let value = self.json(&arrivals)?;
            let list = value.as_array().ok_or_else(|| {
                CliError::Invalid(format!("{}: not an array", arrivals.display()))
            })?;
            list.iter()
                .filter_map(|item| {
                    Some((
                        item["kind"].as_str()?.to_string(),
                        item["file"].as_str()?.to_string(),
                    ))
                })
                .collect()
        } else {
            let mut all = Vec::new();
            for kind in ["finality_update", "optimistic_update"] {
                for path in self.files(kind)? {
                    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                    all.push((kind.to_string(), stem.into_owned()));
                }
            }
            all.sort_by(|a, b| a.1.cmp(&b.1));
            all
        };
        for (kind_name, file) in order {
            let kind = match kind_name.as_str() {
                "finality_update" => LightClientKind::FinalityUpdate,
                "optimistic_update" => LightClientKind::OptimisticUpdate,
                other => {
                    return Err(CliError::Invalid(format!(
                        "{}: unknown kind {other:?}",
                        arrivals.display()
                    )))
                }
            };
            let path = self.dir.join(&kind_name).join(format!("{file}.json"));
            entries.push(self.object(kind, &path, &self.json(&path)?)?);
        }
        Ok(entries)
    }
}
