//! Shared helpers for the native test suites: where the copied conformance data lives and how
//! to read its YAML/JSON views.
#![allow(dead_code)]

#[cfg(not(target_arch = "wasm32"))]
pub mod discovery;
#[cfg(not(target_arch = "wasm32"))]
pub mod http;
#[cfg(not(target_arch = "wasm32"))]
pub mod peer;
#[cfg(not(target_arch = "wasm32"))]
pub mod synthnet;

use std::path::{Path, PathBuf};

use beacon_p2p::chain::{ChainConfig, Network};
use beacon_p2p::primitives::Root;
use serde_json::Value;

/// `tests/data`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// `tests/data/vectors/public`.
pub fn public_dir() -> PathBuf {
    data_dir().join("vectors/public")
}

/// `tests/data/devnet-capture`.
pub fn devnet_dir() -> PathBuf {
    data_dir().join("devnet-capture")
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read(path))
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

pub fn read_yaml(path: &Path) -> serde_yaml::Value {
    serde_yaml::from_slice(&read(path))
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The spec's YAML view of a value, in the Beacon API's JSON conventions: the YAML writes
/// integers as numbers, the Beacon API as decimal strings; bytes are 0x-hex in both.
pub fn yaml_to_beacon_json(yaml: &serde_yaml::Value) -> Value {
    match yaml {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(*b),
        serde_yaml::Value::Number(n) => Value::String(n.to_string()),
        serde_yaml::Value::String(s) => Value::String(s.clone()),
        serde_yaml::Value::Sequence(items) => {
            Value::Array(items.iter().map(yaml_to_beacon_json).collect())
        }
        serde_yaml::Value::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.as_str().expect("string keys").to_string(),
                        yaml_to_beacon_json(v),
                    )
                })
                .collect(),
        ),
        serde_yaml::Value::Tagged(tagged) => yaml_to_beacon_json(&tagged.value),
    }
}

/// The root in a `roots.yaml`.
pub fn root_from_yaml(path: &Path) -> Root {
    let yaml = read_yaml(path);
    Root::from_hex(yaml["root"].as_str().expect("root")).expect("32-byte root")
}

/// The public vectors' network: mainnet's fork schedule with a made-up validators root.
pub fn vectors_chain(genesis_validators_root: &str) -> ChainConfig {
    let mut chain = Network::Mainnet.config();
    chain.genesis_validators_root = Root::from_hex(genesis_validators_root).expect("gvr");
    chain
}

/// Every `case_N` directory below `dir`, sorted.
pub fn case_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap_or_else(|e| panic!("{}: {e}", next.display()))
        {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                if path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("case_"))
                {
                    found.push(path);
                } else {
                    stack.push(path);
                }
            }
        }
    }
    found.sort();
    found
}
