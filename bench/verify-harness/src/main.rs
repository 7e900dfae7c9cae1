//! Native side of `bench/parts/verify.sh`.
//!
//!   bench-verify order --data DIR                       # the replay order, one JSON line
//!   bench-verify run --data DIR --checkpoint ROOT [--rounds N]
//!
//! `order` prints `{"bootstrap": path, "objects": [[kind, path], ...]}` (paths in DIR) so that
//! the browser page replays exactly what the native run replays. `run` replays DIR N times
//! (default 5), each round from a fresh store, and prints one JSON line: per kind the median
//! over rounds of the mean milliseconds per `process` call that verified completely, what the
//! store made of each object (counts), and the heads reached.

use beacon_p2p_bench_verify::Replay;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn usage(message: &str) -> ExitCode {
    eprintln!(
        "{message}\nusage: bench-verify order --data DIR\n       bench-verify run --data DIR --checkpoint ROOT [--rounds N]"
    );
    ExitCode::from(2)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The bootstrap of `checkpoint` (any if `None`) and the objects in replay order, as paths
/// relative to `dir`: the order of `tests/peer/lodestar-sync.mjs`.
fn order(dir: &Path, checkpoint: Option<&str>) -> Result<(String, Vec<(String, String)>), String> {
    let names = |sub: &str| -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir.join(sub)).map_err(|e| format!("{sub}: {e}"))? {
            let name = entry.map_err(|e| e.to_string())?.file_name();
            names.push(name.to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    };
    let bootstrap = names("bootstrap")?
        .into_iter()
        .filter(|name| name.ends_with(".json"))
        .find(|name| {
            checkpoint.is_none_or(|root| {
                name.to_lowercase()
                    .ends_with(&format!("_{}.json", root.to_lowercase()))
            })
        })
        .ok_or("no bootstrap/<slot>_<checkpoint>.json")?;
    let mut periods: Vec<(u64, String)> = names("updates")?
        .into_iter()
        .filter_map(|name| {
            let period = name
                .strip_prefix("period_")?
                .strip_suffix(".json")?
                .parse()
                .ok()?;
            Some((period, format!("updates/{name}")))
        })
        .collect();
    periods.sort();
    let mut objects: Vec<(String, String)> = periods
        .into_iter()
        .map(|(_, path)| ("update".to_string(), path))
        .collect();
    let arrivals: Value = serde_json::from_str(&read(&dir.join("arrivals.json"))?)
        .map_err(|e| format!("arrivals.json: {e}"))?;
    for arrival in arrivals.as_array().ok_or("arrivals.json is not an array")? {
        let (Some(kind), Some(file)) = (arrival["kind"].as_str(), arrival["file"].as_str()) else {
            return Err(format!("arrivals.json: entry without kind/file: {arrival}"));
        };
        objects.push((kind.to_string(), format!("{kind}/{file}.json")));
    }
    Ok((format!("bootstrap/{bootstrap}"), objects))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn run(dir: &Path, checkpoint: &str, rounds: usize) -> Result<Value, String> {
    let meta: Value = serde_json::from_str(&read(&dir.join("meta.json"))?)
        .map_err(|e| format!("meta.json: {e}"))?;
    let gvr = meta["genesis_validators_root"]
        .as_str()
        .or(meta["genesis"]["genesis_validators_root"].as_str())
        .ok_or("meta.json has no genesis_validators_root")?;
    let (bootstrap, objects) = order(dir, Some(checkpoint))?;
    let mut replay = Replay::new(
        &read(&dir.join("config.yaml"))?,
        gvr,
        checkpoint,
        &read(&dir.join(&bootstrap))?,
    )?;
    for (kind, path) in &objects {
        replay.push(kind, &read(&dir.join(path))?)?;
    }
    let mut samples: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut counts = json!({});
    let mut verified = 0;
    for round in 0..rounds {
        replay.reset()?;
        let mut sums: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
        verified = 0;
        for (index, (kind, _)) in objects.iter().enumerate() {
            let started = Instant::now();
            let outcome = replay.process(index)?;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let kind = kind.as_str();
            if outcome.verified {
                let sum = sums.entry(kind).or_default();
                sum.0 += ms;
                sum.1 += 1;
                verified += 1;
            }
            if round == 0 {
                let slot = &mut counts[kind][outcome.verdict];
                *slot = json!(slot.as_u64().unwrap_or(0) + 1);
            }
        }
        for (kind, (ms, n)) in sums {
            samples.entry(kind).or_default().push(ms / n as f64);
        }
    }
    let (finalized, optimistic) = replay.heads().ok_or("no store")?;
    let ms_by_kind: BTreeMap<_, _> = samples
        .into_iter()
        .map(|(kind, values)| (kind, (median(values) * 1e3).round() / 1e3))
        .collect();
    Ok(json!({
        "impl": "beacon-p2p native",
        "finalized": finalized,
        "optimistic": optimistic,
        "counts": counts,
        "verified": verified,
        "ms_by_kind": ms_by_kind,
        "rounds": rounds,
    }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        return usage("a command is required");
    };
    let mut data: Option<PathBuf> = None;
    let mut checkpoint: Option<String> = None;
    let mut rounds = 5usize;
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        let Some(value) = rest.next() else {
            return usage(&format!("{arg} needs a value"));
        };
        match arg.as_str() {
            "--data" => data = Some(PathBuf::from(value)),
            "--checkpoint" => checkpoint = Some(value.clone()),
            "--rounds" => match value.parse() {
                Ok(n) if n > 0 => rounds = n,
                _ => return usage("--rounds must be a positive number"),
            },
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    let Some(data) = data else {
        return usage("--data is required");
    };
    let result = match command.as_str() {
        "order" => order(&data, checkpoint.as_deref())
            .map(|(bootstrap, objects)| json!({"bootstrap": bootstrap, "objects": objects})),
        "run" => match checkpoint {
            Some(checkpoint) => run(&data, &checkpoint, rounds),
            None => return usage("--checkpoint is required"),
        },
        other => return usage(&format!("unknown command {other}")),
    };
    match result {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench-verify: {error}");
            ExitCode::FAILURE
        }
    }
}
