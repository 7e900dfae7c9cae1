//! Forks and presets: the two facts about a chain that pick SSZ types.

use std::fmt;
use std::str::FromStr;

/// A consensus fork, in activation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fork {
    /// Phase 0 (no light-client protocol).
    Phase0,
    /// Altair: sync committees and the light-client protocol.
    Altair,
    /// Bellatrix: the merge (light-client types unchanged).
    Bellatrix,
    /// Capella: light-client headers carry the execution payload header.
    Capella,
    /// Deneb: blob gas fields in the execution header.
    Deneb,
    /// Electra: deeper state proofs.
    Electra,
    /// Fulu: PeerDAS; blob-parameter-only forks change the fork digest from here on.
    Fulu,
}

impl Fork {
    /// Every fork, oldest first.
    pub const ALL: [Fork; 7] = [
        Fork::Phase0,
        Fork::Altair,
        Fork::Bellatrix,
        Fork::Capella,
        Fork::Deneb,
        Fork::Electra,
        Fork::Fulu,
    ];

    /// The lower-case name the specs, the Beacon API's `version` and config keys use.
    pub fn name(self) -> &'static str {
        match self {
            Fork::Phase0 => "phase0",
            Fork::Altair => "altair",
            Fork::Bellatrix => "bellatrix",
            Fork::Capella => "capella",
            Fork::Deneb => "deneb",
            Fork::Electra => "electra",
            Fork::Fulu => "fulu",
        }
    }

    /// Whether the light-client protocol exists at this fork.
    pub fn has_light_client(self) -> bool {
        self >= Fork::Altair
    }

    /// The config.yaml key prefix of this fork (`ALTAIR` in `ALTAIR_FORK_EPOCH`), or `None` for
    /// phase0, whose version is `GENESIS_FORK_VERSION`.
    pub(crate) fn config_prefix(self) -> Option<&'static str> {
        match self {
            Fork::Phase0 => None,
            Fork::Altair => Some("ALTAIR"),
            Fork::Bellatrix => Some("BELLATRIX"),
            Fork::Capella => Some("CAPELLA"),
            Fork::Deneb => Some("DENEB"),
            Fork::Electra => Some("ELECTRA"),
            Fork::Fulu => Some("FULU"),
        }
    }
}

impl fmt::Display for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fork name that is not one we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fork {0:?} (expected one of phase0, altair, bellatrix, capella, deneb, electra, fulu)"
)]
pub struct UnknownFork(pub String);

impl FromStr for Fork {
    type Err = UnknownFork;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Fork::ALL
            .into_iter()
            .find(|fork| fork.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownFork(text.to_string()))
    }
}

/// A consensus preset: compile-time constants that set type sizes and epoch lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// Every public network.
    Mainnet,
    /// Local devnets and spec tests.
    Minimal,
}

/// `SYNC_COMMITTEE_SIZE` of the mainnet preset.
pub const MAINNET_SYNC_COMMITTEE_SIZE: usize = 512;
/// `SYNC_COMMITTEE_SIZE` of the minimal preset.
pub const MINIMAL_SYNC_COMMITTEE_SIZE: usize = 32;

impl Preset {
    /// `PRESET_BASE` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Mainnet => "mainnet",
            Preset::Minimal => "minimal",
        }
    }

    /// `SLOTS_PER_EPOCH`.
    pub fn slots_per_epoch(self) -> u64 {
        match self {
            Preset::Mainnet => 32,
            Preset::Minimal => 8,
        }
    }

    /// `EPOCHS_PER_SYNC_COMMITTEE_PERIOD`.
    pub fn epochs_per_sync_committee_period(self) -> u64 {
        match self {
            Preset::Mainnet => 256,
            Preset::Minimal => 8,
        }
    }

    /// `SYNC_COMMITTEE_SIZE`.
    pub fn sync_committee_size(self) -> usize {
        match self {
            Preset::Mainnet => MAINNET_SYNC_COMMITTEE_SIZE,
            Preset::Minimal => MINIMAL_SYNC_COMMITTEE_SIZE,
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A preset name that is not one we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown preset {0:?} (expected mainnet or minimal)")]
pub struct UnknownPreset(pub String);

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "mainnet" => Ok(Preset::Mainnet),
            "minimal" => Ok(Preset::Minimal),
            _ => Err(UnknownPreset(text.to_string())),
        }
    }
}

/// Runs `$body` with the const `$size` bound to the preset's sync committee size, so code
/// generic over `const S: usize` can be picked at run time.
#[macro_export]
macro_rules! with_preset {
    ($preset:expr, $size:ident => $body:expr) => {
        match $preset {
            $crate::chain::Preset::Mainnet => {
                const $size: usize = $crate::chain::MAINNET_SYNC_COMMITTEE_SIZE;
                $body
            }
            $crate::chain::Preset::Minimal => {
                const $size: usize = $crate::chain::MINIMAL_SYNC_COMMITTEE_SIZE;
                $body
            }
        }
    };
}
