//! The light-client sync protocol inside beacon-p2p, offline: the devnet capture (minimal,
//! deneb, real Lodestar signatures) and synthnet (mainnet, electra → fulu → BPO1) verify from
//! their checkpoints to the heads Lodestar's light client reaches on the same data, and each kind
//! of tampering is refused with the rule it breaks.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use beacon_p2p::chain::{ChainConfig, Network};
use beacon_p2p::primitives::Root;
use beacon_p2p::types::{LightClientKind, LightClientObject};
use beacon_p2p::verify::{Disposition, LightClientStore, Verdict, VerifyError};
use common::{data_dir, devnet_dir, read_json};
use serde_json::Value;

const DEVNET_CHECKPOINT: &str =
    "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5";
const SYNTHNET_CHECKPOINT: &str =
    "0x566d487e54840062b59797f748ac8b9d84086dbe8be42c1e4fe5e3d01a7b5adf";

fn synthnet_dir() -> PathBuf {
    data_dir().join("synthnet")
}

fn json_lines(output: std::process::Output, what: &str) -> Vec<Value> {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: {line}: {e}")))
        .collect()
}

/// `beacon-p2p verify` over `dir`.
fn ours(network: &[&str], checkpoint: &str, dir: &Path) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
        .arg("verify")
        .args(network)
        .args(["--checkpoint", checkpoint])
        .arg(dir)
        .output()
        .unwrap();
    json_lines(output, "beacon-p2p verify")
}

/// Lodestar's light client over the same directory (`tests/peer/lodestar-sync.mjs`).
fn lodestars(checkpoint: &str, dir: &Path) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer/lodestar-sync.mjs");
    let output = Command::new("node")
        .arg(script)
        .arg("--data")
        .arg(dir)
        .args(["--checkpoint", checkpoint])
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    json_lines(output, "lodestar-sync.mjs")
}

fn last(lines: &[Value]) -> &Value {
    let last = lines.last().expect("a final line");
    assert_eq!(last["event"], "final", "{last}");
    last
}

/// Both end on the same finalized and optimistic headers (slot and root), and neither refused
/// an object of the capture.
fn assert_same_heads(ours: &[Value], lodestar: &[Value]) -> (u64, u64) {
    let (mine, theirs) = (last(ours), last(lodestar));
    for head in ["finalized", "optimistic"] {
        assert_eq!(
            mine[head]["root"], theirs[head]["root"],
            "{head}: ours {mine}, Lodestar's {theirs}"
        );
        assert_eq!(
            mine[head]["slot"].as_u64(),
            theirs[head]["slot"].as_u64(),
            "{head}"
        );
    }
    for (who, lines) in [("ours", ours), ("Lodestar", lodestar)] {
        let rejected: Vec<&Value> = lines.iter().filter(|l| l["result"] == "rejected").collect();
        assert!(rejected.is_empty(), "{who} rejected {rejected:?}");
    }
    (
        mine["finalized"]["slot"].as_u64().unwrap(),
        mine["optimistic"]["slot"].as_u64().unwrap(),
    )
}

#[test]
fn the_devnet_capture_verifies_to_lodestars_heads() {
    let dir = devnet_dir();
    let testnet = ["--testnet-dir", dir.to_str().unwrap()];
    let ours = ours(&testnet, DEVNET_CHECKPOINT, &dir);
    let lodestar = lodestars(DEVNET_CHECKPOINT, &dir);
    assert_eq!(assert_same_heads(&ours, &lodestar), (296, 318));
    // Period 0 comes before the checkpoint's period: neither can check it.
    let period0 = |lines: &[Value]| {
        lines
            .iter()
            .find(|l| l["file"] == "updates/period_0000.json")
            .unwrap()["result"]
            .clone()
    };
    assert_eq!(period0(&ours), "ignored");
    assert_eq!(period0(&lodestar), "ignored");
}

#[test]
fn synthnet_verifies_across_fulu_and_bpo1_to_lodestars_heads() {
    let dir = synthnet_dir();
    let ours = ours(&["--network", "mainnet"], SYNTHNET_CHECKPOINT, &dir);
    let lodestar = lodestars(SYNTHNET_CHECKPOINT, &dir);
    let meta = read_json(&dir.join("meta.json"));
    let heads = assert_same_heads(&ours, &lodestar);
    assert_eq!(heads, (13221792, 13221883), "{meta}");
    // Every period update of the window moved the store on (9 periods, 1605 → 1613).
    let applied = ours
        .iter()
        .filter(|l| l["kind"] == "update" && l["result"] == "accepted")
        .count();
    assert_eq!(applied, 9);
}

#[test]
fn a_bootstrap_for_another_root_is_refused() {
    let chain = Network::Mainnet.config();
    let bootstrap = synthnet_bootstrap();
    let other = Root::from([1u8; 32]);
    let error = LightClientStore::initialize(chain, &other, &bootstrap).unwrap_err();
    assert_eq!(error.code(), "wrong_checkpoint", "{error}");
    assert!(error.to_string().contains(&other.to_hex()), "{error}");
}

#[test]
fn a_bootstrap_whose_committee_branch_is_wrong_is_refused() {
    let error = tampered_bootstrap(|data| flip_hex(&mut data["current_sync_committee_branch"][3]));
    assert_eq!(error.code(), "invalid_branch", "{error}");
    assert!(
        error.to_string().contains("current sync committee"),
        "{error}"
    );
    // The committee itself swapped for another key list: its root no longer matches the branch.
    let error = tampered_bootstrap(|data| {
        let keys = data["current_sync_committee"]["pubkeys"]
            .as_array_mut()
            .unwrap();
        keys.swap(0, 1);
    });
    assert_eq!(error.code(), "invalid_branch", "{error}");
}

/// Each tampered variant of the first period update of synthnet (next sync committee and
/// finality, electra) is refused with its rule; the untampered one is accepted.
#[test]
fn a_tampered_update_is_rejected_with_the_rule_it_breaks() {
    let (file, original) = first_period_update();
    let accepted = process_fresh(&original).expect("the update as recorded verifies");
    assert!(
        accepted.committee,
        "{}: learns the next committee",
        file.display()
    );
    let cases: Vec<(&str, &str, Tamper)> = vec![
        (
            "one flipped signature bit",
            "invalid_signature",
            Box::new(|d| flip_hex_at(&mut d["sync_aggregate"]["sync_committee_signature"], 40)),
        ),
        (
            "a wrong finality branch node",
            "invalid_branch",
            Box::new(|d| flip_hex(&mut d["finality_branch"][2])),
        ),
        (
            "a wrong next sync committee branch node",
            "invalid_branch",
            Box::new(|d| flip_hex(&mut d["next_sync_committee_branch"][4])),
        ),
        (
            "a wrong execution branch node of the attested header",
            "invalid_header",
            Box::new(|d| flip_hex(&mut d["attested_header"]["execution_branch"][1])),
        ),
        (
            "a wrong execution branch node of the finalized header",
            "invalid_header",
            Box::new(|d| flip_hex(&mut d["finalized_header"]["execution_branch"][0])),
        ),
        (
            "a next sync committee that does not match its branch",
            "invalid_branch",
            Box::new(|d| {
                let keys = d["next_sync_committee"]["pubkeys"].as_array_mut().unwrap();
                keys.swap(3, 7);
            }),
        ),
        (
            "no participants",
            "too_few_participants",
            Box::new(|d| {
                let bits = d["sync_aggregate"]["sync_committee_bits"].as_str().unwrap();
                let zero = format!("0x{}", "0".repeat(bits.len() - 2));
                d["sync_aggregate"]["sync_committee_bits"] = zero.into();
            }),
        ),
        (
            "one participant fewer than signed",
            "invalid_signature",
            Box::new(|d| {
                let bits = d["sync_aggregate"]["sync_committee_bits"].as_str().unwrap();
                let mut bytes = hex::decode(&bits[2..]).unwrap();
                let byte = bytes.iter().position(|b| *b != 0).unwrap();
                bytes[byte] &= bytes[byte] - 1;
                d["sync_aggregate"]["sync_committee_bits"] =
                    format!("0x{}", hex::encode(bytes)).into();
            }),
        ),
        (
            "a signature slot not after the attested slot",
            "slot_order",
            Box::new(|d| {
                d["signature_slot"] = d["attested_header"]["beacon"]["slot"].clone();
            }),
        ),
    ];
    for (what, code, tamper) in cases {
        let mut value = original.clone();
        tamper(&mut value["data"]);
        let error = match object(LightClientKind::Update, &value) {
            Ok(object) => process_fresh_object(&object).unwrap_err(),
            Err(error) => panic!("{what}: the tampered update no longer decodes: {error}"),
        };
        assert_eq!(error.code(), code, "{what}: {error}");
        assert_eq!(error.disposition(), Disposition::Reject, "{what}");
    }
}

/// After the whole stream, an older finality update is valid but stale: ignored, not held
/// against the sender.
#[test]
fn a_finality_update_older_than_the_stores_is_ignored() {
    let dir = synthnet_dir();
    let mut store = synthnet_store();
    let mut finality: Vec<PathBuf> = std::fs::read_dir(dir.join("finality_update"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    finality.sort();
    for path in &period_update_files() {
        for value in read_json(path).as_array().unwrap() {
            let update = object(LightClientKind::Update, value).unwrap();
            let slot = update.signature_slot.unwrap() + 1;
            store.process(&update, slot).unwrap();
        }
    }
    let newest = object(
        LightClientKind::FinalityUpdate,
        &read_json(finality.last().unwrap()),
    )
    .unwrap();
    let now = newest.signature_slot.unwrap() + 1;
    store.process(&newest, now).unwrap();
    assert_eq!(store.finalized().slot(), 13221792);
    // Its finalized header is older than the store's; its attested header, not: valid, but no news.
    let oldest = object(LightClientKind::FinalityUpdate, &read_json(&finality[0])).unwrap();
    assert!(oldest.finalized_slot.unwrap() < 13221792);
    let result = store.process(&oldest, now);
    assert_eq!(Verdict::of(&result), Verdict::Ignored, "{result:?}");
    // A period update from before the store's period cannot even be checked any more.
    let stale = read_json(&period_update_files()[7]).as_array().unwrap()[0].clone();
    let stale = object(LightClientKind::Update, &stale).unwrap();
    let result = store.process(&stale, now);
    assert!(
        matches!(result, Err(VerifyError::UnverifiablePeriod { .. })),
        "{result:?}"
    );
    assert_eq!(Verdict::of(&result), Verdict::Ignored);
    assert_eq!(
        store.finalized().slot(),
        13221792,
        "the store kept its head"
    );
    assert_eq!(store.optimistic().slot(), newest.slot);
}

/// An update signed after the current slot waits; it is not the sender's fault.
#[test]
fn an_update_from_the_future_is_ignored() {
    let (_, value) = first_period_update();
    let update = object(LightClientKind::Update, &value).unwrap();
    let mut store = synthnet_store();
    let error = store
        .process(&update, update.signature_slot.unwrap() - 1)
        .unwrap_err();
    assert_eq!(error.code(), "from_the_future", "{error}");
    assert_eq!(error.disposition(), Disposition::Ignore);
}

/// A change to an object's Beacon-API `data`.
type Tamper = Box<dyn Fn(&mut Value)>;

fn object(kind: LightClientKind, value: &Value) -> Result<LightClientObject, String> {
    LightClientObject::from_beacon_api_json(kind, beacon_p2p::chain::Preset::Mainnet, value)
        .map_err(|e| e.to_string())
}

fn synthnet_bootstrap_json() -> Value {
    let path = synthnet_dir()
        .join("bootstrap")
        .join(format!("13148160_{SYNTHNET_CHECKPOINT}.json"));
    read_json(&path)
}

fn synthnet_bootstrap() -> LightClientObject {
    object(LightClientKind::Bootstrap, &synthnet_bootstrap_json()).unwrap()
}

fn checkpoint() -> Root {
    Root::from_hex(SYNTHNET_CHECKPOINT).unwrap()
}

fn synthnet_store() -> LightClientStore {
    LightClientStore::initialize(
        Network::Mainnet.config(),
        &checkpoint(),
        &synthnet_bootstrap(),
    )
    .unwrap()
}

fn tampered_bootstrap(tamper: impl Fn(&mut Value)) -> VerifyError {
    let mut value = synthnet_bootstrap_json();
    tamper(&mut value["data"]);
    let bootstrap = object(LightClientKind::Bootstrap, &value).unwrap();
    let chain: ChainConfig = Network::Mainnet.config();
    LightClientStore::initialize(chain, &checkpoint(), &bootstrap).unwrap_err()
}

fn period_update_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(synthnet_dir().join("updates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn first_period_update() -> (PathBuf, Value) {
    let file = period_update_files().remove(0);
    let value = read_json(&file).as_array().unwrap()[0].clone();
    (file, value)
}

fn process_fresh_object(
    update: &LightClientObject,
) -> Result<beacon_p2p::verify::Change, VerifyError> {
    synthnet_store().process(update, update.signature_slot.unwrap() + 1)
}

fn process_fresh(value: &Value) -> Result<beacon_p2p::verify::Change, VerifyError> {
    process_fresh_object(&object(LightClientKind::Update, value).unwrap())
}

/// Flips one bit of a 0x-hex string value, in its `index`th byte.
fn flip_hex_at(value: &mut Value, index: usize) {
    let text = value.as_str().unwrap();
    let mut bytes = hex::decode(&text[2..]).unwrap();
    bytes[index] ^= 0x01;
    *value = format!("0x{}", hex::encode(bytes)).into();
}

fn flip_hex(value: &mut Value) {
    flip_hex_at(value, 31);
}
