//! Beacon-block types against data nobody on this project's Rust side wrote: `ssz_static`-style
//! cases generated with the executable consensus spec (`scripts/gen_block_vectors.py`), and
//! real signed blocks from the synthnet (SSZ + the Beacon-API JSON, Lodestar's conventions).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;

use beacon_p2p::chain::{Fork, Preset};
use beacon_p2p::primitives::Root;
use beacon_p2p::types::block::{mainnet, MAX_BLOCK_SSZ_SIZE};
use beacon_p2p::types::{
    decode_named, ssz_bounds_named, SignedBeaconBlock, SszTypeName, TypeError,
};
use common::*;
use serde_json::Value;

fn block_vectors_dir() -> std::path::PathBuf {
    data_dir().join("block-vectors")
}

/// Parses `<preset>/<fork>/<Type>/<case>` below `root`.
fn case_of(root: &Path, dir: &Path) -> (Preset, Fork, SszTypeName) {
    let parts: Vec<&str> = dir
        .strip_prefix(root)
        .unwrap()
        .iter()
        .map(|p| p.to_str().unwrap())
        .collect();
    (
        parts[0].parse().unwrap(),
        parts[1].parse().unwrap(),
        parts[2].parse().unwrap(),
    )
}

#[test]
fn spec_generated_block_cases() {
    let root = block_vectors_dir();
    let cases = case_dirs(&root);
    assert_eq!(cases.len(), 512, "every generated case is present");
    let mut names = std::collections::BTreeSet::new();
    for dir in &cases {
        let name = dir.display().to_string();
        let (preset, fork, type_name) = case_of(&root, dir);
        assert!(type_name.is_block(), "{name}");
        names.insert(type_name.name());
        let ssz = read(&dir.join("serialized.ssz"));
        let case = read_json(&dir.join("case.json"));
        let decoded = decode_named(type_name, fork, preset, &ssz)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(
            decoded.root,
            Root::from_hex(case["root"].as_str().unwrap()).unwrap(),
            "{name}: hash_tree_root"
        );
        assert_eq!(decoded.ssz, ssz, "{name}: re-encoding");
        assert_eq!(decoded.fork, Some(fork), "{name}");
        // Field order and spelling too, not only the set of fields.
        assert_eq!(
            decoded.json.to_string(),
            case["value"].to_string(),
            "{name}: Beacon-API JSON"
        );
        let (min, max) = ssz_bounds_named(type_name, fork, preset).unwrap();
        assert!(min <= ssz.len() && ssz.len() <= max, "{name}: bounds");

        // The block containers read their JSON back to the same bytes. A truncation is an
        // error or, where it happens to cut off whole trailing list elements, the shorter
        // block (decoding is canonical either way); never a panic.
        if type_name == SszTypeName::SignedBeaconBlock {
            let value = SignedBeaconBlock::from_json_data(fork, preset, &case["value"])
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(value.to_ssz(), ssz, "{name}: JSON round trip");
            for cut in (0..ssz.len()).step_by(7) {
                if let Ok(shorter) = SignedBeaconBlock::from_ssz(fork, preset, &ssz[..cut]) {
                    assert_eq!(shorter.to_ssz(), &ssz[..cut], "{name}: truncated at {cut}");
                }
            }
        }
    }
    assert_eq!(names.len(), 25, "every block type has cases: {names:?}");
}

#[test]
fn block_types_choose_the_container_by_fork() {
    let root = block_vectors_dir();
    let electra =
        read(&root.join("mainnet/electra/SignedBeaconBlock/ssz_random/case_0/serialized.ssz"));
    // Electra's body has one more offset (execution_requests): deneb's layout does not fit.
    assert!(SignedBeaconBlock::from_ssz(Fork::Deneb, Preset::Mainnet, &electra).is_err());
    // Fulu's container is electra's.
    let fulu = SignedBeaconBlock::from_ssz(Fork::Fulu, Preset::Mainnet, &electra).unwrap();
    assert_eq!(fulu.fork(), Fork::Fulu);
    assert_eq!(fulu.to_ssz(), electra);
    assert!(matches!(
        SignedBeaconBlock::from_ssz(Fork::Bellatrix, Preset::Mainnet, &electra),
        Err(TypeError::NoSuchFork { .. })
    ));
    // A minimal attestation's committee bits are 4 wide, mainnet's 64: the presets differ.
    let attestation =
        read(&root.join("minimal/electra/Attestation/ssz_random/case_0/serialized.ssz"));
    assert!(decode_named(
        SszTypeName::Attestation,
        Fork::Electra,
        Preset::Minimal,
        &attestation
    )
    .is_ok());
    assert!(decode_named(
        SszTypeName::Attestation,
        Fork::Electra,
        Preset::Mainnet,
        &attestation
    )
    .is_err());
    // Over the payload limit before any decoding.
    assert!(matches!(
        SignedBeaconBlock::from_ssz(
            Fork::Electra,
            Preset::Mainnet,
            &vec![0u8; MAX_BLOCK_SSZ_SIZE + 1]
        ),
        Err(TypeError::Length { .. })
    ));
}

/// Lowercases every string value (addresses lose their checksum).
fn lowercase_strings(value: &mut Value) {
    match value {
        Value::String(text) => *text = text.to_ascii_lowercase(),
        Value::Array(items) => items.iter_mut().for_each(lowercase_strings),
        Value::Object(map) => map.values_mut().for_each(lowercase_strings),
        _ => {}
    }
}

#[test]
fn synthnet_blocks() {
    let dir = data_dir().join("synthnet/blocks");
    let manifest = read_json(&dir.join("manifest.json"));
    let entries = manifest.as_array().unwrap();
    assert_eq!(entries.len(), 4);
    let mut forks = std::collections::BTreeSet::new();
    let mut with_transactions_and_withdrawals = 0;
    for entry in entries {
        let stem = entry["path"].as_str().unwrap().rsplit('/').next().unwrap();
        let name = stem.to_string();
        let ssz = read(&dir.join(format!("{stem}.ssz")));
        let file_json = read_json(&dir.join(format!("{stem}.json")));
        let fork: Fork = entry["fork"].as_str().unwrap().parse().unwrap();
        forks.insert(fork);

        let block = SignedBeaconBlock::from_ssz(fork, Preset::Mainnet, &ssz)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let root_in_name = Root::from_hex(stem.split('_').nth(1).unwrap()).unwrap();
        assert_eq!(block.block_root(), root_in_name, "{name}: block root");
        assert_eq!(
            block.block_root().to_hex(),
            entry["block_root"].as_str().unwrap()
        );
        assert_eq!(
            block.hash_tree_root().to_hex(),
            entry["root"].as_str().unwrap(),
            "{name}: SignedBeaconBlock root"
        );
        let mut header = block.header();
        assert_eq!(
            ssz_rs::Merkleized::hash_tree_root(&mut header)
                .unwrap()
                .as_ref(),
            root_in_name.as_ref(),
            "{name}: header root"
        );
        assert_eq!(block.slot(), entry["slot"].as_u64().unwrap());
        assert_eq!(
            block.parent_root().to_hex(),
            entry["parent_root"].as_str().unwrap()
        );
        assert_eq!(block.to_ssz(), ssz, "{name}: re-encoding");

        // Our JSON is the file's, byte for byte once both are compact (checksummed addresses,
        // field order).
        let ours = block.to_beacon_api_json(
            file_json["execution_optimistic"].as_bool().unwrap(),
            file_json["finalized"].as_bool().unwrap(),
        );
        assert_eq!(ours.to_string(), file_json.to_string(), "{name}: JSON");

        // JSON in, SSZ out; addresses in any case.
        let from_json = SignedBeaconBlock::from_beacon_api_json(Preset::Mainnet, &file_json)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(from_json, block, "{name}: from JSON");
        let mut lower = file_json.clone();
        lowercase_strings(&mut lower);
        assert_eq!(
            SignedBeaconBlock::from_beacon_api_json(Preset::Mainnet, &lower).unwrap(),
            block
        );

        if let SignedBeaconBlock::Mainnet(
            mainnet::SignedBeaconBlock::Electra(inner) | mainnet::SignedBeaconBlock::Fulu(inner),
        ) = &block
        {
            let payload = &inner.message.body.execution_payload;
            if !payload.transactions.is_empty() && !payload.withdrawals.is_empty() {
                with_transactions_and_withdrawals += 1;
            }
        }
    }
    assert_eq!(forks.len(), 2, "an electra and a fulu block");
    assert!(with_transactions_and_withdrawals >= 2);
}

/// One value for `tests/peer/lodestar-json.mjs`: where its SSZ is and what it is.
struct LodestarCase {
    name: String,
    fork: Fork,
    type_name: &'static str,
    path: std::path::PathBuf,
    ours: String,
}

/// Lodestar's `toJson` (`@lodestar/types`, the test peer's) of each case's bytes, in order.
fn lodestar_json(preset: Preset, cases: &[LodestarCase]) -> Vec<Value> {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer/lodestar-json.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .args(["--preset", &preset.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs (scripts/setup.sh installs the test peer's packages)");
    let requests: String = cases
        .iter()
        .map(|case| {
            serde_json::json!({
                "fork": case.fork.to_string(),
                "type": case.type_name,
                "path": case.path,
            })
            .to_string()
                + "\n"
        })
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    // Written from another thread: the answers fill the stdout pipe meanwhile.
    let writer = std::thread::spawn(move || stdin.write_all(requests.as_bytes()));
    let answers: Vec<Value> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "lodestar-json.mjs failed");
    assert_eq!(answers.len(), cases.len(), "one answer per case");
    answers
}

/// Our Beacon-API JSON is Lodestar's, byte for byte, for every generated case (random values,
/// empty and full lists of every block type) and every synthnet block (real transactions and
/// withdrawals, checksummed addresses): `@lodestar/types` `toJson` of the same bytes.
#[test]
fn block_json_is_lodestar_to_json() {
    let root = block_vectors_dir();
    let mut by_preset: std::collections::BTreeMap<String, (Preset, Vec<LodestarCase>)> =
        Default::default();
    for dir in case_dirs(&root) {
        let (preset, fork, type_name) = case_of(&root, &dir);
        let path = dir.join("serialized.ssz");
        let decoded = decode_named(type_name, fork, preset, &read(&path)).unwrap();
        by_preset
            .entry(preset.to_string())
            .or_insert_with(|| (preset, Vec::new()))
            .1
            .push(LodestarCase {
                name: dir.strip_prefix(&root).unwrap().display().to_string(),
                fork,
                type_name: type_name.name(),
                path,
                ours: decoded.json.to_string(),
            });
    }
    let blocks = data_dir().join("synthnet/blocks");
    let mut synthnet = 0;
    for entry in std::fs::read_dir(&blocks).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("ssz") {
            continue;
        }
        let file_json = read_json(&path.with_extension("json"));
        let fork: Fork = file_json["version"].as_str().unwrap().parse().unwrap();
        let block = SignedBeaconBlock::from_ssz(fork, Preset::Mainnet, &read(&path)).unwrap();
        let ours = block.to_beacon_api_json(false, false)["data"].to_string();
        synthnet += 1;
        by_preset
            .entry(Preset::Mainnet.to_string())
            .or_insert_with(|| (Preset::Mainnet, Vec::new()))
            .1
            .push(LodestarCase {
                name: format!("synthnet/{}", path.file_name().unwrap().to_string_lossy()),
                fork,
                type_name: SszTypeName::SignedBeaconBlock.name(),
                path,
                ours,
            });
    }
    assert_eq!(synthnet, 147, "every synthnet block");
    let (mut compared, mut exact, mut rounded, mut older_limits) = (0, 0, 0, 0);
    for (preset, cases) in by_preset.values() {
        for (case, answer) in cases.iter().zip(lodestar_json(*preset, cases)) {
            compared += 1;
            let Some(theirs) = answer.get("json") else {
                // Lodestar 1.28.1's minimal preset predates today's electra request limits
                // (MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD 2, MAX_DEPOSIT_REQUESTS_PER_PAYLOAD 4 there;
                // 16 and 8192 in the spec the cases come from): longer lists it refuses.
                let error = answer["error"].as_str().unwrap_or_default();
                assert!(
                    case.name.starts_with("minimal/")
                        && matches!(case.fork, Fork::Electra | Fork::Fulu)
                        && error.contains("over limit"),
                    "{}: Lodestar: {error}",
                    case.name
                );
                older_limits += 1;
                continue;
            };
            let text = theirs.to_string();
            if case.ours == text {
                exact += 1;
                continue;
            }
            // Real data must match byte for byte; random values only up to Lodestar's rounding.
            assert!(
                !case.name.starts_with("synthnet/"),
                "{}: JSON differs from Lodestar's",
                case.name
            );
            let ours: Value = serde_json::from_str(&case.ours).unwrap();
            rounded += same_json_but_rounding(&ours, theirs, &case.name);
        }
    }
    assert_eq!(compared, 512 + 147);
    eprintln!(
        "{compared} values: {exact} byte for byte as Lodestar's toJson, {older_limits} over its \
         older minimal limits, the rest equal but for {rounded} numbers above 2^53 that Lodestar \
         holds as a JS number"
    );
    assert!(exact >= 147 + 100, "{exact} exact");
    assert!(older_limits < 40, "{older_limits} refused by Lodestar");
}

/// `ours` equals Lodestar's JSON except where Lodestar types a uint64 as a JS number
/// (`UintNum64`: slots, indices, epochs) and a random value above 2^53 came back rounded: such a
/// decimal string must be ours rounded to a double. Keys, their order, lengths, hex, addresses and
/// every other string match exactly. Returns how many numbers were rounded.
fn same_json_but_rounding(ours: &Value, theirs: &Value, at: &str) -> usize {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let keys_a: Vec<&String> = a.keys().collect();
            let keys_b: Vec<&String> = b.keys().collect();
            assert_eq!(keys_a, keys_b, "{at}: fields");
            a.iter()
                .map(|(key, value)| same_json_but_rounding(value, &b[key], &format!("{at}.{key}")))
                .sum()
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: length");
            a.iter()
                .zip(b)
                .enumerate()
                .map(|(i, (x, y))| same_json_but_rounding(x, y, &format!("{at}[{i}]")))
                .sum()
        }
        (Value::String(a), Value::String(b)) if a == b => 0,
        (Value::String(a), Value::String(b)) => {
            let exact: u64 = a
                .parse()
                .unwrap_or_else(|_| panic!("{at}: {a:?} vs Lodestar's {b:?}"));
            let lodestar: f64 = b.parse().unwrap_or_else(|_| panic!("{at}: {b:?}"));
            assert!(
                exact > (1u64 << 53) && exact as f64 == lodestar,
                "{at}: {a} vs Lodestar's {b}"
            );
            1
        }
        _ => {
            assert_eq!(ours, theirs, "{at}");
            0
        }
    }
}
