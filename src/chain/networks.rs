//! Built-in networks, kept as data: each is a trimmed copy of the network's official
//! `config.yaml`, its `boot_enr.yaml` and its genesis facts (sources in `networks/SOURCES.md`),
//! read by the same parser as a custom `--testnet-dir`.

use std::fmt;
use std::str::FromStr;

use serde_yaml::Value;

use super::config::{parse_boot_enr_yaml, ChainConfig, ChainError};
use crate::primitives::Root;

/// A public network whose configuration is built in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    /// Ethereum mainnet.
    Mainnet,
    /// Sepolia testnet.
    Sepolia,
    /// Holesky testnet.
    Holesky,
    /// Hoodi testnet.
    Hoodi,
}

struct NetworkFiles {
    config: &'static str,
    boot_enr: &'static str,
    genesis: &'static str,
}

macro_rules! network_files {
    ($dir:literal) => {
        NetworkFiles {
            config: include_str!(concat!("networks/", $dir, "/config.yaml")),
            boot_enr: include_str!(concat!("networks/", $dir, "/boot_enr.yaml")),
            genesis: include_str!(concat!("networks/", $dir, "/genesis.yaml")),
        }
    };
}

impl Network {
    /// Every built-in network.
    pub const ALL: [Network; 4] = [
        Network::Mainnet,
        Network::Sepolia,
        Network::Holesky,
        Network::Hoodi,
    ];

    /// The network's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Sepolia => "sepolia",
            Network::Holesky => "holesky",
            Network::Hoodi => "hoodi",
        }
    }

    fn files(self) -> NetworkFiles {
        match self {
            Network::Mainnet => network_files!("mainnet"),
            Network::Sepolia => network_files!("sepolia"),
            Network::Holesky => network_files!("holesky"),
            Network::Hoodi => network_files!("hoodi"),
        }
    }

    /// The network's chain configuration.
    pub fn config(self) -> ChainConfig {
        // The data is part of the crate and every network is parsed by the tests.
        self.try_config()
            .unwrap_or_else(|error| panic!("built-in {} config is invalid: {error}", self.name()))
    }

    fn try_config(self) -> Result<ChainConfig, ChainError> {
        let files = self.files();
        let genesis: Value =
            serde_yaml::from_str(files.genesis).map_err(|error| ChainError::Yaml {
                what: format!("{} genesis.yaml", self.name()),
                detail: error.to_string(),
            })?;
        let root_text = genesis
            .get("GENESIS_VALIDATORS_ROOT")
            .and_then(Value::as_str)
            .ok_or(ChainError::MissingKey("GENESIS_VALIDATORS_ROOT"))?;
        let root = Root::from_hex(root_text).map_err(|_| ChainError::InvalidValue {
            key: "GENESIS_VALIDATORS_ROOT".into(),
            value: root_text.into(),
            reason: "expected 32 bytes of 0x-hex",
        })?;
        let mut config = ChainConfig::from_config_yaml(files.config, root)?;
        config.name = self.name().to_string();
        config.genesis_time = genesis.get("GENESIS_TIME").and_then(Value::as_u64);
        config.bootnodes = parse_boot_enr_yaml(files.boot_enr)?;
        Ok(config)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Network {
    type Err = ChainError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Network::ALL
            .into_iter()
            .find(|network| network.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| ChainError::UnknownNetwork(text.to_string()))
    }
}
