//! Shared set-up of the fuzz targets: the two chains they decode against and the meaning of the
//! selector byte that starts every input.
//!
//! Selector bytes (`fuzz/seed.sh` writes seeds with the same conventions):
//!
//! | target | bit 0 | higher bits |
//! |---|---|---|
//! | `reqresp_stream` | preset (0 mainnet, 1 minimal) | `>> 1`: index into `Protocol::ALL` (mod 11) |
//! | `gossip` | preset | bit 1: kind (0 finality, 1 optimistic); `>> 2`: digest period (mod count) |
//! | `ssz_light_client_*` | preset | `>> 1`: fork, altair..fulu (mod 6) |
//! | `ssz_p2p_messages` | — | the whole byte: index into [`P2P_TYPES`] (mod 11) |

use std::sync::OnceLock;

use beacon_p2p::chain::{ChainConfig, DigestPeriod, Fork, Network, Preset};
use beacon_p2p::primitives::Root;
use beacon_p2p::types::{
    decode_named, LightClientBootstrap, LightClientFinalityUpdate, LightClientHeader,
    LightClientOptimisticUpdate, LightClientUpdate, SszTypeName,
};

/// The devnet recording's `config.yaml` (minimal preset, altair..deneb at epoch 0).
pub const DEVNET_CONFIG_YAML: &str =
    include_str!("../../tests/data/devnet-capture/config.yaml");

/// The devnet's genesis validators root (bytes 8..40 of its `genesis.ssz`).
pub const DEVNET_GENESIS_VALIDATORS_ROOT: &str =
    "0x83431ec7fcf92cfc44947fc0418e831c25e1d0806590231c439830db7ad54fda";

/// The forks that have light-client containers, in the order the selector byte counts them.
pub const LIGHT_CLIENT_FORKS: [Fork; 6] = [
    Fork::Altair,
    Fork::Bellatrix,
    Fork::Capella,
    Fork::Deneb,
    Fork::Electra,
    Fork::Fulu,
];

/// The p2p (non-light-client) SSZ types, in the order the selector byte counts them.
pub const P2P_TYPES: [SszTypeName; 11] = [
    SszTypeName::StatusV1,
    SszTypeName::StatusV2,
    SszTypeName::MetaDataV1,
    SszTypeName::MetaDataV2,
    SszTypeName::MetaDataV3,
    SszTypeName::Ping,
    SszTypeName::Goodbye,
    SszTypeName::EnrForkId,
    SszTypeName::ErrorMessage,
    SszTypeName::LightClientUpdatesByRangeRequest,
    SszTypeName::Root,
];

struct Chain {
    config: ChainConfig,
    periods: Vec<DigestPeriod>,
}

fn chain_data(preset: Preset) -> &'static Chain {
    static MAINNET: OnceLock<Chain> = OnceLock::new();
    static MINIMAL: OnceLock<Chain> = OnceLock::new();
    let (cell, build): (_, fn() -> ChainConfig) = match preset {
        Preset::Mainnet => (&MAINNET, || Network::Mainnet.config()),
        Preset::Minimal => (&MINIMAL, || {
            let root = Root::from_hex(DEVNET_GENESIS_VALIDATORS_ROOT).expect("devnet root");
            let config = ChainConfig::from_config_yaml(DEVNET_CONFIG_YAML, root)
                .expect("devnet config.yaml parses");
            assert_eq!(config.preset, Preset::Minimal, "devnet config is minimal");
            config
        }),
    };
    cell.get_or_init(|| {
        let config = build();
        let periods = config.digest_periods();
        assert!(!periods.is_empty());
        Chain { config, periods }
    })
}

/// Mainnet's built-in config for [`Preset::Mainnet`], the devnet config for [`Preset::Minimal`].
pub fn chain(preset: Preset) -> &'static ChainConfig {
    &chain_data(preset).config
}

/// `chain(preset).digest_periods()`, computed once.
pub fn digest_periods(preset: Preset) -> &'static [DigestPeriod] {
    &chain_data(preset).periods
}

/// Bit 0 of a selector byte.
pub fn preset_of(selector: u8) -> Preset {
    if selector & 1 == 0 {
        Preset::Mainnet
    } else {
        Preset::Minimal
    }
}

/// The light-client fork a selector byte names (bits 1..).
pub fn light_client_fork_of(selector: u8) -> Fork {
    LIGHT_CLIENT_FORKS[usize::from(selector >> 1) % LIGHT_CLIENT_FORKS.len()]
}

/// The `ssz_light_client_*` targets: decode by name at the selected fork and preset; whatever
/// decodes must re-encode to the input and survive Beacon-API JSON → value → SSZ unchanged.
pub fn check_light_client(type_name: SszTypeName, data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let fork = light_client_fork_of(selector);
    let preset = preset_of(selector);
    let Ok(decoded) = decode_named(type_name, fork, preset, bytes) else {
        return;
    };
    assert_eq!(decoded.type_name, type_name);
    assert_eq!(decoded.fork, Some(fork));
    assert!(
        decoded.ssz == bytes,
        "{type_name} ({fork}, {preset}): re-encoding differs from the accepted input \
         ({} bytes in, {} bytes out)",
        bytes.len(),
        decoded.ssz.len()
    );

    macro_rules! via_json {
        ($value:expr) => {{
            let value = $value.unwrap_or_else(|error| {
                panic!("{type_name} ({fork}, {preset}): own JSON does not parse back: {error}")
            });
            assert_eq!(value.fork(), fork);
            (value.to_ssz(), value.hash_tree_root(), value.to_beacon_api_json())
        }};
    }
    let json = &decoded.json;
    let (ssz, root, json_again) = match type_name {
        SszTypeName::LightClientHeader => via_json!(LightClientHeader::from_beacon_api_json(json)),
        SszTypeName::LightClientBootstrap => beacon_p2p::with_preset!(preset, S => {
            via_json!(LightClientBootstrap::<S>::from_beacon_api_json(json))
        }),
        SszTypeName::LightClientUpdate => beacon_p2p::with_preset!(preset, S => {
            via_json!(LightClientUpdate::<S>::from_beacon_api_json(json))
        }),
        SszTypeName::LightClientFinalityUpdate => beacon_p2p::with_preset!(preset, S => {
            via_json!(LightClientFinalityUpdate::<S>::from_beacon_api_json(json))
        }),
        SszTypeName::LightClientOptimisticUpdate => beacon_p2p::with_preset!(preset, S => {
            via_json!(LightClientOptimisticUpdate::<S>::from_beacon_api_json(json))
        }),
        other => panic!("{other} is not a light-client type"),
    };
    assert!(
        ssz == bytes,
        "{type_name} ({fork}, {preset}): SSZ → JSON → SSZ changed the bytes"
    );
    assert_eq!(root, decoded.root, "{type_name} ({fork}, {preset}): root changed via JSON");
    assert_eq!(&json_again, json, "{type_name} ({fork}, {preset}): JSON changed via JSON");
}
