//! A network's chain configuration: fork schedule (including blob-parameter-only forks),
//! genesis, preset and bootnodes, read from the standard network-config format every client
//! uses (`config.yaml`, `genesis.ssz`, `boot_enr.yaml`).

use serde_yaml::Value;
use sha2::{Digest, Sha256};

use super::fork::{Fork, Preset};
use crate::primitives::{Epoch, ForkDigest, Root, Slot, Version};

/// `FAR_FUTURE_EPOCH`: a fork that is not scheduled.
pub const FAR_FUTURE_EPOCH: Epoch = u64::MAX;

/// One fork's place in the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForkActivation {
    /// The fork.
    pub fork: Fork,
    /// Its version.
    pub version: Version,
    /// Its activation epoch (`FAR_FUTURE_EPOCH` if not scheduled).
    pub epoch: Epoch,
}

/// An entry of `BLOB_SCHEDULE` (`BlobParameters` in the specs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlobParameters {
    /// Epoch from which the entry applies.
    pub epoch: Epoch,
    /// Blob limit from that epoch.
    pub max_blobs_per_block: u64,
}

/// A digest the network uses between two epochs: each fork activation and, from Fulu on, each
/// blob-schedule entry starts one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestPeriod {
    /// The fork digest.
    pub digest: ForkDigest,
    /// The fork whose types apply.
    pub fork: Fork,
    /// First epoch of this digest.
    pub epoch: Epoch,
}

/// Everything about a network that the wire protocol depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainConfig {
    /// `CONFIG_NAME`, or the directory's name.
    pub name: String,
    /// `PRESET_BASE`.
    pub preset: Preset,
    /// Root of the genesis validator registry; salts every fork digest.
    pub genesis_validators_root: Root,
    /// Genesis time (unix seconds), when known.
    pub genesis_time: Option<u64>,
    /// Slot duration in milliseconds: `SLOT_DURATION_MS`, or `SECONDS_PER_SLOT` × 1000 in
    /// configs written before consensus-specs 1.7. Never 0.
    pub slot_duration_ms: u64,
    /// Every fork, oldest first.
    pub forks: Vec<ForkActivation>,
    /// `BLOB_SCHEDULE`, sorted by epoch.
    pub blob_schedule: Vec<BlobParameters>,
    /// `MAX_BLOBS_PER_BLOCK_ELECTRA`: the blob parameters when no schedule entry applies.
    pub max_blobs_per_block_electra: u64,
    /// Bootnode ENRs (`enr:-…`).
    pub bootnodes: Vec<String>,
    /// The `config.yaml` text this was read from (handed on to browsers and other clients).
    pub config_yaml: String,
}

/// Why a chain configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A YAML file is malformed.
    #[error("{what} is not valid YAML: {detail}")]
    Yaml {
        /// Which file or text.
        what: String,
        /// Parser message (with line and column).
        detail: String,
    },
    /// A required key is absent.
    #[error("config.yaml has no {0}")]
    MissingKey(&'static str),
    /// A key has a value of the wrong form.
    #[error("config.yaml {key} = {value}: {reason}")]
    InvalidValue {
        /// The key.
        key: String,
        /// Its value, as written.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
    /// `genesis.ssz` is too short to hold the validators root.
    #[error(
        "{path} is {length} bytes; a BeaconState holds genesis_validators_root at bytes 8..40"
    )]
    GenesisTooShort {
        /// The file.
        path: String,
        /// Its length.
        length: usize,
    },
    /// Neither slot-duration key is present (12 s is not assumed: a 2-second devnet's clock
    /// would run six times slow).
    #[error("config.yaml has neither SLOT_DURATION_MS nor SECONDS_PER_SLOT: the slot duration is needed to tell the current slot")]
    MissingSlotDuration,
    /// The network name is not built in.
    #[error("unknown network {0:?} (built in: mainnet, sepolia, holesky, hoodi; or give a testnet directory)")]
    UnknownNetwork(String),
}

impl ChainConfig {
    /// Reads a `config.yaml` (the format every client uses; unknown keys are ignored).
    /// The genesis validators root comes from elsewhere (`genesis.ssz`, or the caller).
    pub fn from_config_yaml(text: &str, genesis_validators_root: Root) -> Result<Self, ChainError> {
        let yaml: Value =
            serde_yaml::from_str(&quote_big_integers(text)).map_err(|error| ChainError::Yaml {
                what: "config.yaml".into(),
                detail: error.to_string(),
            })?;
        let config = ConfigKeys(&yaml);

        let preset = match config.get("PRESET_BASE") {
            None => Preset::Mainnet,
            Some(value) => {
                let name = scalar_text(value);
                name.parse().map_err(|_| ChainError::InvalidValue {
                    key: "PRESET_BASE".into(),
                    value: name,
                    reason: "expected mainnet or minimal",
                })?
            }
        };
        if let Some(size) = config.optional_u64("SYNC_COMMITTEE_SIZE")? {
            if size != preset.sync_committee_size() as u64 {
                return Err(ChainError::InvalidValue {
                    key: "SYNC_COMMITTEE_SIZE".into(),
                    value: size.to_string(),
                    reason: "does not match PRESET_BASE",
                });
            }
        }

        let mut forks = Vec::with_capacity(Fork::ALL.len());
        for fork in Fork::ALL {
            let activation = match fork.config_prefix() {
                None => ForkActivation {
                    fork,
                    version: config.version("GENESIS_FORK_VERSION")?,
                    epoch: 0,
                },
                Some(prefix) => {
                    let version_key = format!("{prefix}_FORK_VERSION");
                    let epoch_key = format!("{prefix}_FORK_EPOCH");
                    match config.get(&version_key) {
                        // A config written before this fork existed does not schedule it.
                        None => break,
                        Some(_) => ForkActivation {
                            fork,
                            version: config.version(&version_key)?,
                            epoch: config.optional_u64(&epoch_key)?.unwrap_or(FAR_FUTURE_EPOCH),
                        },
                    }
                }
            };
            if let Some(previous) = forks.last() {
                let previous: &ForkActivation = previous;
                if activation.epoch < previous.epoch {
                    return Err(ChainError::InvalidValue {
                        key: format!("{}_FORK_EPOCH", fork.name().to_ascii_uppercase()),
                        value: activation.epoch.to_string(),
                        reason: "forks must activate in order",
                    });
                }
            }
            forks.push(activation);
        }

        let mut blob_schedule = Vec::new();
        if let Some(entries) = config.get("BLOB_SCHEDULE") {
            let entries = entries
                .as_sequence()
                .ok_or_else(|| ChainError::InvalidValue {
                    key: "BLOB_SCHEDULE".into(),
                    value: scalar_text(entries),
                    reason: "expected a list of {EPOCH, MAX_BLOBS_PER_BLOCK}",
                })?;
            for entry in entries {
                let entry = ConfigKeys(entry);
                blob_schedule.push(BlobParameters {
                    epoch: entry.required_u64("EPOCH")?,
                    max_blobs_per_block: entry.required_u64("MAX_BLOBS_PER_BLOCK")?,
                });
            }
            blob_schedule.sort();
        }

        Ok(ChainConfig {
            name: config
                .get("CONFIG_NAME")
                .map(scalar_text)
                .unwrap_or_else(|| "custom".into()),
            preset,
            genesis_validators_root,
            genesis_time: None,
            slot_duration_ms: config.slot_duration_ms()?,
            forks,
            blob_schedule,
            max_blobs_per_block_electra: config
                .optional_u64("MAX_BLOBS_PER_BLOCK_ELECTRA")?
                .unwrap_or(9),
            bootnodes: Vec::new(),
            config_yaml: text.to_owned(),
        })
    }

    /// Reads a network-config directory, like Lighthouse's `--testnet-dir`: `config.yaml`,
    /// `genesis.ssz` (genesis time at bytes 0..8, validators root at 8..40) and the optional
    /// `boot_enr.yaml`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_directory(dir: &std::path::Path) -> Result<Self, ChainError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| ChainError::Io {
                path: path.display().to_string(),
                source,
            })
        };
        let genesis_path = dir.join("genesis.ssz").display().to_string();
        let genesis = read("genesis.ssz")?;
        let (genesis_time, genesis_validators_root) =
            genesis_fields(&genesis).ok_or(ChainError::GenesisTooShort {
                path: genesis_path,
                length: genesis.len(),
            })?;
        let config_text = String::from_utf8_lossy(&read("config.yaml")?).into_owned();
        let mut config = Self::from_config_yaml(&config_text, genesis_validators_root)?;
        config.genesis_time = Some(genesis_time);
        if dir.join("boot_enr.yaml").exists() {
            let text = String::from_utf8_lossy(&read("boot_enr.yaml")?).into_owned();
            config.bootnodes = parse_boot_enr_yaml(&text)?;
        }
        Ok(config)
    }

    /// The fork in force at `epoch`.
    pub fn fork_at_epoch(&self, epoch: Epoch) -> Fork {
        self.activation_at_epoch(epoch).fork
    }

    /// `compute_fork_version(epoch)`: the version of the fork in force at `epoch` (BPO steps keep
    /// the fork's version).
    pub fn fork_version_at_epoch(&self, epoch: Epoch) -> Version {
        self.activation_at_epoch(epoch).version
    }

    fn activation_at_epoch(&self, epoch: Epoch) -> &ForkActivation {
        self.forks
            .iter()
            .rev()
            .find(|activation| activation.epoch <= epoch)
            .unwrap_or(&self.forks[0])
    }

    /// The schedule entry of `fork`, if the config knows the fork.
    pub fn activation(&self, fork: Fork) -> Option<&ForkActivation> {
        self.forks.iter().find(|activation| activation.fork == fork)
    }

    /// `get_blob_parameters(epoch)`: the blob-schedule entry in force at `epoch`.
    pub fn blob_parameters(&self, epoch: Epoch) -> BlobParameters {
        self.blob_schedule
            .iter()
            .rev()
            .find(|entry| epoch >= entry.epoch)
            .copied()
            .unwrap_or(BlobParameters {
                epoch: self
                    .activation(Fork::Electra)
                    .map_or(FAR_FUTURE_EPOCH, |activation| activation.epoch),
                max_blobs_per_block: self.max_blobs_per_block_electra,
            })
    }

    /// `compute_fork_digest(genesis_validators_root, epoch)`, with the Fulu rule: from Fulu on the
    /// base digest is XORed with `sha256(uint64_le(epoch) ‖ uint64_le(max_blobs))` of the
    /// blob-schedule entry in force.
    pub fn fork_digest(&self, epoch: Epoch) -> ForkDigest {
        let activation = self.activation_at_epoch(epoch);
        let base = compute_fork_data_root(&activation.version, &self.genesis_validators_root);
        let mut digest = [0u8; 4];
        digest.copy_from_slice(&base.0[..4]);
        if activation.fork >= Fork::Fulu {
            let blob = self.blob_parameters(epoch);
            let mut hasher = Sha256::new();
            hasher.update(blob.epoch.to_le_bytes());
            hasher.update(blob.max_blobs_per_block.to_le_bytes());
            let mask = hasher.finalize();
            for (byte, mask) in digest.iter_mut().zip(mask.iter()) {
                *byte ^= mask;
            }
        }
        ForkDigest::from(digest)
    }

    /// Every digest the network has used or has scheduled, oldest first: one per fork
    /// activation, plus one per blob-schedule entry from Fulu on.
    pub fn digest_periods(&self) -> Vec<DigestPeriod> {
        let mut epochs: Vec<Epoch> = self
            .forks
            .iter()
            .filter(|activation| activation.epoch != FAR_FUTURE_EPOCH)
            .map(|activation| activation.epoch)
            .collect();
        if let Some(fulu) = self.activation(Fork::Fulu) {
            epochs.extend(
                self.blob_schedule
                    .iter()
                    .map(|entry| entry.epoch)
                    .filter(|&epoch| epoch > fulu.epoch && epoch != FAR_FUTURE_EPOCH),
            );
        }
        epochs.sort_unstable();
        epochs.dedup();
        let mut periods: Vec<DigestPeriod> = Vec::with_capacity(epochs.len());
        for epoch in epochs {
            let period = DigestPeriod {
                digest: self.fork_digest(epoch),
                fork: self.fork_at_epoch(epoch),
                epoch,
            };
            // Forks scheduled at the same epoch collapse into the last one.
            match periods.last_mut() {
                Some(last) if last.epoch == epoch => *last = period,
                _ => periods.push(period),
            }
        }
        periods
    }

    /// The fork whose types a message tagged with `digest` uses, if the digest belongs to this
    /// network.
    pub fn fork_for_digest(&self, digest: &ForkDigest) -> Option<Fork> {
        self.digest_periods()
            .into_iter()
            .find(|period| &period.digest == digest)
            .map(|period| period.fork)
    }

    /// The slot at `unix_ms` (milliseconds since 1970), or `None` without a genesis time or
    /// before genesis.
    pub fn slot_at_unix_ms(&self, unix_ms: u64) -> Option<Slot> {
        let genesis_ms = self.genesis_time?.saturating_mul(1000);
        let since_genesis = unix_ms.checked_sub(genesis_ms)?;
        Some(since_genesis / self.slot_duration_ms.max(1))
    }

    /// The epoch at `unix_ms` (0 before genesis or without a genesis time).
    pub fn epoch_at_unix_ms(&self, unix_ms: u64) -> Epoch {
        self.slot_at_unix_ms(unix_ms)
            .map_or(0, |slot| self.epoch_at_slot(slot))
    }

    /// `compute_epoch_at_slot`.
    pub fn epoch_at_slot(&self, slot: Slot) -> Epoch {
        slot / self.preset.slots_per_epoch()
    }

    /// The sync-committee period of `slot`.
    pub fn sync_committee_period_at_slot(&self, slot: Slot) -> u64 {
        self.epoch_at_slot(slot) / self.preset.epochs_per_sync_committee_period()
    }

    /// The digest of objects about `slot` (context bytes of light-client responses, gossip topic).
    pub fn fork_digest_at_slot(&self, slot: Slot) -> ForkDigest {
        self.fork_digest(self.epoch_at_slot(slot))
    }

    /// The fork of objects about `slot`.
    pub fn fork_at_slot(&self, slot: Slot) -> Fork {
        self.fork_at_epoch(self.epoch_at_slot(slot))
    }
}

/// `compute_fork_data_root(current_version, genesis_validators_root)`: the hash tree root of
/// `ForkData`, a two-field container.
pub fn compute_fork_data_root(version: &Version, genesis_validators_root: &Root) -> Root {
    let mut version_chunk = [0u8; 32];
    version_chunk[..4].copy_from_slice(&version.0);
    let mut hasher = Sha256::new();
    hasher.update(version_chunk);
    hasher.update(genesis_validators_root.0);
    Root::from(<[u8; 32]>::from(hasher.finalize()))
}

/// `(genesis_time, genesis_validators_root)` from the first bytes of an SSZ `BeaconState`.
pub fn genesis_fields(genesis_state: &[u8]) -> Option<(u64, Root)> {
    let time = u64::from_le_bytes(genesis_state.get(0..8)?.try_into().ok()?);
    let root = Root::try_from(genesis_state.get(8..40)?).ok()?;
    Some((time, root))
}

/// Reads `boot_enr.yaml`: a YAML list of ENR strings.
pub fn parse_boot_enr_yaml(text: &str) -> Result<Vec<String>, ChainError> {
    let yaml_error = |detail: String| ChainError::Yaml {
        what: "boot_enr.yaml".into(),
        detail,
    };
    let value: Value = serde_yaml::from_str(text).map_err(|error| yaml_error(error.to_string()))?;
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(entries) => entries
            .into_iter()
            .map(|entry| match entry {
                Value::String(enr) if enr.starts_with("enr:") => Ok(enr),
                other => Err(yaml_error(format!(
                    "expected \"enr:…\" strings, found {}",
                    scalar_text(&other)
                ))),
            })
            .collect(),
        other => Err(yaml_error(format!(
            "expected a list of ENRs, found {}",
            scalar_text(&other)
        ))),
    }
}

/// Typed look-ups in a config mapping; values may be written as numbers or quoted strings.
struct ConfigKeys<'a>(&'a Value);

impl ConfigKeys<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    fn optional_u64(&self, key: &str) -> Result<Option<u64>, ChainError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let parsed = match value {
            Value::Number(number) => number.as_u64(),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| ChainError::InvalidValue {
            key: key.into(),
            value: scalar_text(value),
            reason: "expected an unsigned 64-bit integer",
        })
    }

    fn required_u64(&self, key: &'static str) -> Result<u64, ChainError> {
        self.optional_u64(key)?.ok_or(ChainError::MissingKey(key))
    }

    /// `SLOT_DURATION_MS` (consensus-specs 1.7 on), else `SECONDS_PER_SLOT` in milliseconds.
    fn slot_duration_ms(&self) -> Result<u64, ChainError> {
        let (key, ms) = match self.optional_u64("SLOT_DURATION_MS")? {
            Some(ms) => ("SLOT_DURATION_MS", Some(ms)),
            None => match self.optional_u64("SECONDS_PER_SLOT")? {
                Some(seconds) => ("SECONDS_PER_SLOT", seconds.checked_mul(1000)),
                None => return Err(ChainError::MissingSlotDuration),
            },
        };
        match ms {
            Some(ms) if ms > 0 => Ok(ms),
            _ => Err(ChainError::InvalidValue {
                key: key.into(),
                value: self.get(key).map(scalar_text).unwrap_or_default(),
                reason: "expected a slot duration above 0 and below 2^64 ms",
            }),
        }
    }

    fn version(&self, key: &str) -> Result<Version, ChainError> {
        let value = self.get(key).ok_or_else(|| ChainError::InvalidValue {
            key: key.into(),
            value: "(missing)".into(),
            reason: "expected a 4-byte 0x-hex version",
        })?;
        let text = match value {
            Value::String(text) => text.clone(),
            // An unquoted 0x01000000 is read by YAML as an integer: take it as the hex it was.
            Value::Number(number) => number
                .as_u64()
                .map(|n| format!("0x{n:08x}"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        Version::from_hex(&text).map_err(|_| ChainError::InvalidValue {
            key: key.into(),
            value: scalar_text(value),
            reason: "expected a 4-byte 0x-hex version",
        })
    }
}

/// `text` with integers too large for 64 bits quoted: serde_yaml's `Value` cannot hold them, and
/// real configs have them (mainnet's `TERMINAL_TOTAL_DIFFICULTY: 58750000000000000000000`, and
/// `DEPOSIT_CONTRACT_ADDRESS: 0x…`, which YAML reads as a hex integer). Only plain `KEY: number`
/// lines are touched; nothing we read is that large.
fn quote_big_integers(text: &str) -> std::borrow::Cow<'_, str> {
    let quoted = |line: &str| -> Option<String> {
        let (key, rest) = line.split_once(':')?;
        let value = rest.split('#').next()?.trim();
        let plain_key = !key.is_empty()
            && key
                .trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        let decimal = value.len() > 19
            && value.chars().all(|c| c.is_ascii_digit())
            && value.parse::<u64>().is_err();
        let hex = value.strip_prefix("0x").is_some_and(|digits| {
            digits.chars().all(|c| c.is_ascii_hexdigit())
                && digits.trim_start_matches('0').len() > 16
        });
        let big = decimal || hex;
        (plain_key && big).then(|| format!("{key}: \"{value}\""))
    };
    if !text.lines().any(|line| quoted(line).is_some()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.lines() {
        out.push_str(&quoted(line).unwrap_or_else(|| line.to_string()));
        out.push('\n');
    }
    std::borrow::Cow::Owned(out)
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}
