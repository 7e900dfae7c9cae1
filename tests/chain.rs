//! Built-in networks and custom network configs: every built-in parses into a consistent fork
//! schedule, and malformed configs fail with errors that name the key.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use beacon_p2p::chain::{ChainConfig, ChainError, Fork, Network, Preset, FAR_FUTURE_EPOCH};
use beacon_p2p::primitives::Root;

#[test]
fn built_in_networks_parse_with_bootnodes_and_bpo_schedules() {
    for network in Network::ALL {
        let chain = network.config();
        assert_eq!(chain.name, network.name());
        assert_eq!(network.name().parse::<Network>().unwrap(), network);
        assert_eq!(chain.preset, Preset::Mainnet);
        assert_eq!(chain.slot_duration_ms, 12_000);
        assert!(chain.genesis_time.is_some());
        assert!(chain.bootnodes.len() >= 3, "{network}: bootnodes");
        assert!(chain.bootnodes.iter().all(|enr| enr.starts_with("enr:-")));
        assert_eq!(
            chain.forks.len(),
            Fork::ALL.len(),
            "{network}: every fork scheduled"
        );
        let fulu = chain.activation(Fork::Fulu).unwrap().epoch;
        assert_ne!(fulu, FAR_FUTURE_EPOCH, "{network}: fulu scheduled");
        // Every fork and every BPO entry after Fulu starts a distinct digest.
        let periods = chain.digest_periods();
        let mut starts: Vec<u64> = chain.forks.iter().map(|f| f.epoch).collect();
        starts.extend(chain.blob_schedule.iter().map(|entry| entry.epoch));
        starts.dedup(); // forks at the same epoch (genesis on testnets) share one digest
        assert_eq!(periods.len(), starts.len(), "{network}");
        assert_eq!(
            periods.last().unwrap().epoch,
            chain.blob_schedule.last().unwrap().epoch
        );
        for window in periods.windows(2) {
            assert_ne!(window[0].digest, window[1].digest, "{network}");
            assert!(window[0].epoch < window[1].epoch);
        }
        for period in &periods {
            assert_eq!(chain.fork_for_digest(&period.digest), Some(period.fork));
            assert_eq!(chain.fork_digest(period.epoch), period.digest);
        }
    }
    assert!(matches!(
        "goerli".parse::<Network>(),
        Err(ChainError::UnknownNetwork(_))
    ));
}

#[test]
fn mainnet_schedule_matches_the_design_card() {
    let chain = Network::Mainnet.config();
    let epoch = |fork| chain.activation(fork).unwrap().epoch;
    assert_eq!(epoch(Fork::Electra), 364_032);
    assert_eq!(epoch(Fork::Fulu), 411_392);
    let bpo: Vec<u64> = chain
        .blob_schedule
        .iter()
        .map(|entry| entry.epoch)
        .collect();
    assert_eq!(bpo, [412_672, 419_072]);
    assert_eq!(chain.fork_at_epoch(412_671), Fork::Fulu);
    assert_ne!(
        chain.fork_digest(412_671),
        chain.fork_digest(412_672),
        "BPO1 changes the digest"
    );
    assert_eq!(
        chain.genesis_validators_root.to_hex(),
        "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"
    );
    assert_eq!(chain.sync_committee_period_at_slot(8192 * 1000), 1000);
}

fn parse(yaml: &str) -> Result<ChainConfig, ChainError> {
    ChainConfig::from_config_yaml(yaml, Root::default())
}

#[test]
fn custom_configs_read_like_client_configs() {
    // Unquoted hex (YAML reads it as an integer), string epochs, unknown keys, no FULU keys.
    let chain = parse(
        "PRESET_BASE: minimal\nCONFIG_NAME: devnet\nGENESIS_FORK_VERSION: 0x10000038\n\
         ALTAIR_FORK_VERSION: 0x20000038\nALTAIR_FORK_EPOCH: \"0\"\nSOMETHING_ELSE: [1, 2]\n\
         SECONDS_PER_SLOT: 6\n",
    )
    .unwrap();
    assert_eq!(chain.name, "devnet");
    assert_eq!(chain.preset, Preset::Minimal);
    assert_eq!(chain.forks.len(), 2);
    assert_eq!(
        chain.activation(Fork::Phase0).unwrap().version.to_hex(),
        "0x10000038"
    );
    assert_eq!(chain.fork_at_epoch(5), Fork::Altair);
    assert_eq!(
        chain.epoch_at_slot(17),
        2,
        "minimal preset: 8 slots per epoch"
    );
}

#[test]
fn malformed_configs_name_the_problem() {
    let message = |yaml: &str| parse(yaml).unwrap_err().to_string();
    assert!(message("ALTAIR_FORK_EPOCH: 0\n").contains("GENESIS_FORK_VERSION"));
    assert!(message("GENESIS_FORK_VERSION: '0x0102'\n").contains("GENESIS_FORK_VERSION = 0x0102"));
    assert!(
        message("PRESET_BASE: gnosis\nGENESIS_FORK_VERSION: '0x00000000'\n")
            .contains("PRESET_BASE")
    );
    assert!(message(
        "GENESIS_FORK_VERSION: '0x00000000'\nALTAIR_FORK_VERSION: '0x01000000'\nALTAIR_FORK_EPOCH: 10\n\
         BELLATRIX_FORK_VERSION: '0x02000000'\nBELLATRIX_FORK_EPOCH: 5\n"
    )
    .contains("BELLATRIX_FORK_EPOCH = 5: forks must activate in order"));
    assert!(
        message("GENESIS_FORK_VERSION: '0x00000000'\nBLOB_SCHEDULE:\n  - EPOCH: 1\n")
            .contains("MAX_BLOBS_PER_BLOCK")
    );
    assert!(
        message("GENESIS_FORK_VERSION: '0x00000000'\nSECONDS_PER_SLOT: -1\n")
            .contains("SECONDS_PER_SLOT")
    );
    assert!(message(
        "PRESET_BASE: minimal\nSYNC_COMMITTEE_SIZE: 512\nGENESIS_FORK_VERSION: '0x00000000'\n"
    )
    .contains("SYNC_COMMITTEE_SIZE"));
    assert!(message(": : :\n").contains("not valid YAML"));
}

#[test]
fn testnet_dir_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("beacon-p2p-chain-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let error = ChainConfig::from_directory(&dir).unwrap_err().to_string();
    assert!(error.contains("genesis.ssz"), "{error}");
    std::fs::write(dir.join("genesis.ssz"), [0u8; 20]).unwrap();
    let error = ChainConfig::from_directory(&dir).unwrap_err().to_string();
    assert!(error.contains("is 20 bytes"), "{error}");
    std::fs::write(dir.join("genesis.ssz"), [1u8; 64]).unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        "GENESIS_FORK_VERSION: '0x00000000'\nSECONDS_PER_SLOT: 12\n",
    )
    .unwrap();
    std::fs::write(dir.join("boot_enr.yaml"), "- not-an-enr\n").unwrap();
    let error = ChainConfig::from_directory(&dir).unwrap_err().to_string();
    assert!(error.contains("boot_enr.yaml"), "{error}");
    std::fs::write(dir.join("boot_enr.yaml"), "- enr:-abc\n").unwrap();
    let chain = ChainConfig::from_directory(&dir).unwrap();
    assert_eq!(chain.genesis_validators_root, Root::from([1u8; 32]));
    assert_eq!(chain.bootnodes, ["enr:-abc"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn test_data(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

const MAINNET_GENESIS_VALIDATORS_ROOT: &str =
    "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";

#[test]
fn spec_1_7_configs_give_the_slot_duration_in_milliseconds() {
    // consensus-specs 1.7 (the synthnet's mainnet config) has SLOT_DURATION_MS only.
    let synthnet = test_data("synthnet/config.yaml");
    assert!(synthnet.contains("SLOT_DURATION_MS: 12000"));
    assert!(!synthnet.contains("SECONDS_PER_SLOT:"));
    let chain = parse(&synthnet).unwrap();
    assert_eq!(chain.slot_duration_ms, 12_000);

    // Configs written before it (the devnet capture) have SECONDS_PER_SLOT only.
    let devnet = test_data("devnet-capture/config.yaml");
    assert!(!devnet.contains("SLOT_DURATION_MS"));
    assert_eq!(parse(&devnet).unwrap().slot_duration_ms, 2_000);

    // Both: SLOT_DURATION_MS wins, sub-second slots included.
    let both = "GENESIS_FORK_VERSION: '0x00000000'\nSECONDS_PER_SLOT: 12\nSLOT_DURATION_MS: 500\n";
    assert_eq!(parse(both).unwrap().slot_duration_ms, 500);
    let both =
        "GENESIS_FORK_VERSION: '0x00000000'\nSLOT_DURATION_MS: '2000'\nSECONDS_PER_SLOT: 6\n";
    assert_eq!(parse(both).unwrap().slot_duration_ms, 2_000);

    // Neither: a typed error naming both keys, never a silent 12 s.
    let neither = parse("GENESIS_FORK_VERSION: '0x00000000'\n").unwrap_err();
    assert!(
        matches!(neither, ChainError::MissingSlotDuration),
        "{neither:?}"
    );
    let message = neither.to_string();
    assert!(
        message.contains("SLOT_DURATION_MS") && message.contains("SECONDS_PER_SLOT"),
        "{message}"
    );

    // A zero or malformed duration names its key.
    let message = |yaml: &str| parse(yaml).unwrap_err().to_string();
    assert!(
        message("GENESIS_FORK_VERSION: '0x00000000'\nSLOT_DURATION_MS: 0\n")
            .contains("SLOT_DURATION_MS = 0")
    );
    assert!(
        message("GENESIS_FORK_VERSION: '0x00000000'\nSECONDS_PER_SLOT: 0\n")
            .contains("SECONDS_PER_SLOT = 0")
    );
    assert!(message(
        "GENESIS_FORK_VERSION: '0x00000000'\nSLOT_DURATION_MS: fast\nSECONDS_PER_SLOT: 12\n"
    )
    .contains("SLOT_DURATION_MS = fast"));
    assert!(message(
        "GENESIS_FORK_VERSION: '0x00000000'\nSECONDS_PER_SLOT: 18446744073709551615\n"
    )
    .contains("SECONDS_PER_SLOT"));
}

#[test]
fn the_synthnet_config_as_a_custom_network_is_mainnet() {
    let root = Root::from_hex(MAINNET_GENESIS_VALIDATORS_ROOT).unwrap();
    let custom = ChainConfig::from_config_yaml(&test_data("synthnet/config.yaml"), root).unwrap();
    let mainnet = Network::Mainnet.config();
    assert_eq!(custom.name, "mainnet");
    assert_eq!(custom.preset, Preset::Mainnet);
    assert_eq!(custom.forks, mainnet.forks);
    assert_eq!(custom.blob_schedule, mainnet.blob_schedule);
    assert_eq!(custom.digest_periods(), mainnet.digest_periods());
    assert_eq!(custom.slot_duration_ms, mainnet.slot_duration_ms);
    let bpo: Vec<u64> = custom
        .blob_schedule
        .iter()
        .map(|entry| entry.epoch)
        .collect();
    assert_eq!(bpo, [412_672, 419_072]);
    // The digests the synthnet's meta.json lists.
    for (epoch, fork, digest) in [
        (364_032, Fork::Electra, "0xad532ceb"),
        (411_392, Fork::Fulu, "0xcc2c5cdb"),
        (412_672, Fork::Fulu, "0xcb0d1acc"),
    ] {
        assert_eq!(custom.fork_at_epoch(epoch), fork);
        assert_eq!(custom.fork_digest(epoch).to_hex(), digest, "epoch {epoch}");
        assert_ne!(custom.fork_digest(epoch - 1).to_hex(), digest);
        assert_eq!(
            custom.fork_for_digest(&custom.fork_digest(epoch)),
            Some(fork)
        );
    }
}
