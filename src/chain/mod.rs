//! Chain layer: networks, presets, the fork schedule (including blob-parameter-only forks) and
//! fork digests, and the clock chain time is read from. Depends on nothing else in the crate but the primitive byte types.

mod clock;
mod config;
mod fork;
mod networks;

pub use clock::Clock;
pub use config::{
    compute_fork_data_root, genesis_fields, parse_boot_enr_yaml, BlobParameters, ChainConfig,
    ChainError, DigestPeriod, ForkActivation, FAR_FUTURE_EPOCH,
};
pub use fork::{
    Fork, Preset, UnknownFork, UnknownPreset, MAINNET_SYNC_COMMITTEE_SIZE,
    MINIMAL_SYNC_COMMITTEE_SIZE,
};
pub use networks::Network;
