//! The `beacon-p2p ssz` subcommand, run as a user would: real vector files in, JSON out, and a
//! one-line error with a non-zero exit (never a panic) for bad input.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::Value;

const VECTORS_GVR: &str = "0x68c1cd5973bb2a2935284a423a75453d211452b3ff1e3606f2632c8f575196d6";

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or_default())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok_json_lines(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    serde_json::Deserializer::from_str(&text)
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// A failure is one line on stderr naming the problem, exit code 1, no panic or backtrace.
fn assert_clean_failure(output: &Output, mentions: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(mentions),
        "{stderr:?} should mention {mentions:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn decode_prints_beacon_api_json_and_root() {
    let dir =
        public_dir().join("mainnet/electra/ssz_static/LightClientFinalityUpdate/ssz_random/case_0");
    let meta = read_json(&dir.join("meta.json"));
    let file = dir.join("serialized.ssz");
    let output = run(
        &[
            "ssz",
            "decode",
            "--type",
            "LightClientFinalityUpdate",
            "--fork",
            "electra",
            file.to_str().unwrap(),
        ],
        None,
    );
    let out = &ok_json_lines(&output)[0];
    assert_eq!(out["hash_tree_root"], meta["hash_tree_root"]);
    assert_eq!(out["fork"], "electra");
    assert_eq!(out["value"]["version"], "electra");
    let expected = yaml_to_beacon_json(&read_yaml(&dir.join("value.yaml")));
    assert_eq!(out["value"]["data"], expected);

    // stdin, the minimal preset, a p2p type.
    let status = read(
        &public_dir().join("general/fulu/ssz_static/StatusV2/ssz_random/case_0/serialized.ssz"),
    );
    let out = &ok_json_lines(&run(
        &["ssz", "decode", "--type", "StatusV2", "-"],
        Some(&status),
    ))[0];
    assert_eq!(out["type"], "StatusV2");
    assert!(out["value"]["earliest_available_slot"].is_string());

    let bootstrap = read(&devnet_dir().join("p2p/bootstrap_0.ssz"));
    let out = &ok_json_lines(&run(
        &[
            "ssz",
            "decode",
            "--type",
            "LightClientBootstrap",
            "--fork",
            "deneb",
            "--preset",
            "minimal",
            "-",
        ],
        Some(&bootstrap),
    ))[0];
    assert_eq!(
        out["value"]["data"]["current_sync_committee"]["pubkeys"]
            .as_array()
            .unwrap()
            .len(),
        32
    );
}

#[test]
fn decode_stream_prints_one_line_per_chunk() {
    let case = public_dir().join("reqresp/lc_updates_by_range_then_error_ok");
    let meta = read_json(&case.join("case.json"));
    let stream = case.join("stream.bin");
    let lines = ok_json_lines(&run(
        &[
            "ssz",
            "decode-stream",
            "--protocol",
            "light_client_updates_by_range",
            "--genesis-validators-root",
            VECTORS_GVR,
            stream.to_str().unwrap(),
        ],
        None,
    ));
    let expected = meta["chunks"].as_array().unwrap();
    assert_eq!(lines.len(), expected.len());
    for (line, chunk) in lines.iter().zip(expected) {
        assert_eq!(line["result"], chunk["result"]);
        assert_eq!(line["root"], chunk["hash_tree_root"]);
        if let Some(fork) = chunk["fork"].as_str() {
            assert_eq!(line["fork"], fork);
            assert_eq!(line["data"]["version"], fork);
        }
    }
    assert_eq!(lines[3]["error"], "ResourceUnavailable: no more updates");

    // A request stream, by full protocol id.
    let request = read(&public_dir().join("reqresp/lc_updates_by_range_request_ok/stream.bin"));
    let lines = ok_json_lines(&run(
        &[
            "ssz",
            "decode-stream",
            "--request",
            "--protocol",
            "/eth2/beacon_chain/req/light_client_updates_by_range/1/ssz_snappy",
            "-",
        ],
        Some(&request),
    ));
    assert!(lines[0]["data"]["start_period"].is_string());
}

#[test]
fn decode_stream_with_a_testnet_dir() {
    // Real bytes from the devnet capture, framed as a peer frames them.
    let payload = read(&devnet_dir().join("p2p/finality_update_0.ssz"));
    let context = beacon_p2p::primitives::ForkDigest::from_hex("0x8cdad603").unwrap();
    let stream = beacon_p2p::wire::encode_response_chunk(
        beacon_p2p::wire::ResultCode::Success,
        Some(context),
        &payload,
    );
    let dir = devnet_dir();
    let lines = ok_json_lines(&run(
        &[
            "ssz",
            "decode-stream",
            "--protocol",
            "light_client_finality_update",
            "--testnet-dir",
            dir.to_str().unwrap(),
            "-",
        ],
        Some(&stream),
    ));
    assert_eq!(lines[0]["fork"], "deneb");
    assert_eq!(lines[0]["context_bytes"], "0x8cdad603");
}

#[test]
fn gossip_prints_message_id_fork_and_value() {
    let case = public_dir().join("gossip/light_client_optimistic_update_fulu_bpo2_sparse_ok");
    let meta = read_json(&case.join("case.json"));
    let data = case.join("message_data.bin");
    let out = &ok_json_lines(&run(
        &[
            "ssz",
            "gossip",
            "--topic",
            meta["topic"].as_str().unwrap(),
            "--genesis-validators-root",
            VECTORS_GVR,
            data.to_str().unwrap(),
        ],
        None,
    ))[0];
    assert_eq!(out["message_id"], meta["message_id"]);
    assert_eq!(out["fork"], "fulu");
    assert_eq!(out["root"], meta["hash_tree_root"]);
    assert_eq!(out["value"]["version"], "fulu");
}

#[test]
fn bad_input_fails_with_one_clear_line() {
    let truncated = public_dir().join("reqresp/invalid_truncated_frame/stream.bin");
    let output = run(
        &[
            "ssz",
            "decode-stream",
            "--protocol",
            "light_client_finality_update",
            "--genesis-validators-root",
            VECTORS_GVR,
            truncated.to_str().unwrap(),
        ],
        None,
    );
    assert_clean_failure(&output, "unexpected end of stream at byte 551");

    let oversize =
        public_dir().join("reqresp/invalid_length_prefix_over_max_payload_size/stream.bin");
    let output = run(
        &[
            "ssz",
            "decode-stream",
            "--protocol",
            "light_client_finality_update",
            oversize.to_str().unwrap(),
        ],
        None,
    );
    assert_clean_failure(&output, "at byte");

    let output = run(
        &[
            "ssz",
            "decode",
            "--type",
            "LightClientUpdate",
            "--fork",
            "deneb",
            "-",
        ],
        Some(&[0u8; 100]),
    );
    assert_clean_failure(
        &output,
        "LightClientUpdate (deneb): 100 bytes, outside the SSZ bounds",
    );

    let output = run(
        &[
            "ssz",
            "decode",
            "--type",
            "LightClientHeader",
            "--fork",
            "phase0",
            "-",
        ],
        Some(&[0u8; 112]),
    );
    assert_clean_failure(&output, "does not exist at phase0");

    let output = run(
        &["ssz", "decode", "--type", "Ping", "/nonexistent/file"],
        None,
    );
    assert_clean_failure(&output, "cannot read /nonexistent/file");

    let not_snappy = public_dir().join("gossip/invalid_not_snappy");
    let meta = read_json(&not_snappy.join("case.json"));
    let output = run(
        &[
            "ssz",
            "gossip",
            "--topic",
            meta["topic"].as_str().unwrap(),
            "--genesis-validators-root",
            VECTORS_GVR,
            not_snappy.join("message_data.bin").to_str().unwrap(),
        ],
        None,
    );
    assert_clean_failure(&output, meta["message_id"].as_str().unwrap());

    let output = run(
        &[
            "ssz",
            "gossip",
            "--topic",
            "/eth2/zz/light_client_finality_update/ssz_snappy",
            "-",
        ],
        Some(b"x"),
    );
    assert_clean_failure(&output, "fork digest must be 8 hex digits");

    let empty = tempdir_with_config(
        "PRESET_BASE: 'minimal'\nGENESIS_FORK_VERSION: 0x00000001\n",
        None,
    );
    let output = run(
        &[
            "ssz",
            "decode-stream",
            "--protocol",
            "ping",
            "--testnet-dir",
            empty.to_str().unwrap(),
            "-",
        ],
        Some(b""),
    );
    assert_clean_failure(&output, "genesis.ssz");

    // Unknown names are usage errors from the argument parser (exit 2), still no panic.
    let output = run(&["ssz", "decode", "--type", "NoSuchType", "-"], Some(b""));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown SSZ type \"NoSuchType\""));
}

#[test]
fn every_truncation_of_a_real_stream_fails_cleanly() {
    let case = public_dir().join("reqresp/lc_bootstrap_deneb_random_ok");
    let stream = read(&case.join("stream.bin"));
    for cut in [1, 3, 5, 6, 7, 20, stream.len() / 2, stream.len() - 1] {
        let output = run(
            &[
                "ssz",
                "decode-stream",
                "--protocol",
                "light_client_bootstrap",
                "--genesis-validators-root",
                VECTORS_GVR,
                "-",
            ],
            Some(&stream[..cut]),
        );
        assert_clean_failure(&output, "at byte");
    }
}

fn tempdir_with_config(config: &str, genesis: Option<&[u8]>) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("beacon-p2p-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.yaml"), config).unwrap();
    if let Some(genesis) = genesis {
        std::fs::write(dir.join("genesis.ssz"), genesis).unwrap();
    }
    dir
}

#[test]
fn clock_flags_parse_and_a_config_without_a_slot_duration_is_refused() {
    // Either flag, not both: a usage error from the argument parser (exit 2).
    let output = run(
        &[
            "fetch",
            "--clock-offset-ms",
            "-1000",
            "--clock-start",
            "1765486631",
            "finality-update",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--clock-start"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // A negative offset is a value, not a flag; the config error then names both slot keys.
    let dir = std::env::temp_dir().join(format!("beacon-p2p-cli-clock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        "PRESET_BASE: 'minimal'\nGENESIS_FORK_VERSION: 0x00000001\n",
    )
    .unwrap();
    std::fs::write(dir.join("genesis.ssz"), [0u8; 64]).unwrap();
    for clock in [
        ["--clock-offset-ms", "-1000"],
        ["--clock-start", "1765486631"],
    ] {
        let mut args = vec!["fetch", "--testnet-dir", dir.to_str().unwrap()];
        args.extend(clock);
        args.push("finality-update");
        let output = run(&args, None);
        assert_clean_failure(&output, "neither SLOT_DURATION_MS nor SECONDS_PER_SLOT");
    }
    for command in ["fetch", "bridge"] {
        let output = run(&[command, "--help"], None);
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(
            help.contains("--clock-offset-ms") && help.contains("--clock-start"),
            "{command} --help: {help}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fetch_block_prints_the_beacon_api_json() {
    let synthnet = common::synthnet::dir();
    let peer = common::synthnet::peer(&[]);
    let start = common::synthnet::clock_start().to_string();
    let fetch = |id: &str| {
        run(
            &[
                "fetch",
                "--peer",
                &peer.multiaddr,
                "--clock-start",
                &start,
                "--timeout",
                "20",
                "block",
                id,
            ],
            None,
        )
    };
    let expected = read_json(&synthnet.join(
        "blocks/13221800_0x6244e500d83a6c71b50b296e792cc2bb9a31edcb8e8aebcf9dfe692168fa2347.json",
    ));
    assert_eq!(ok_json_lines(&fetch("13221800")), vec![expected]);
    // Failures: exit 1, nothing on stdout, the last stderr line (after the progress logs) says why.
    for (id, mentions) in [
        ("13221864", "not found: no block at slot 13221864"),
        ("0x1234", "invalid block id \"0x1234\""),
    ] {
        let output = fetch(id);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{id}: {stderr}");
        assert!(output.stdout.is_empty(), "{id}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains(mentions),
            "{id}: {stderr}"
        );
    }
}

/// `fetch --checkpoint … watch` syncs the store first and prints verified heads only.
#[test]
fn fetch_with_a_checkpoint_prints_verified_heads() {
    // A live stream: the clock starts a second before the third-last step arrives on gossip.
    let start = common::synthnet::live_start(6, 1);
    let peer = common::synthnet::live_peer(start, &[]);
    let start = start.to_string();
    let output = run(
        &[
            "fetch",
            "--peer",
            &peer.multiaddr,
            "--clock-start",
            &start,
            "--checkpoint",
            common::synthnet::CHECKPOINT_ROOT,
            "watch",
            "--count",
            "1",
            "--seconds",
            "40",
        ],
        None,
    );
    let lines = ok_json_lines(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("synced: verified heads"), "{stderr}");
    // The gossiped step's head, verified; the raw gossip lines are not printed.
    assert!(!lines.is_empty(), "{stderr}");
    for line in &lines {
        assert!(
            line["event"] == "verified_finality" || line["event"] == "verified_optimistic",
            "{line}"
        );
        assert!(
            line["data"]["participation"].as_u64().unwrap() > 0,
            "{line}"
        );
    }
    // A checkpoint that is not a root is a usage error.
    let output = run(
        &[
            "fetch",
            "--peer",
            &peer.multiaddr,
            "--checkpoint",
            "0x12",
            "watch",
        ],
        None,
    );
    assert_clean_failure(&output, "--checkpoint 0x12");
}

/// `verify` names the rule each refused object breaks, and fails cleanly without the checkpoint's
/// bootstrap.
#[test]
fn verify_replays_a_capture_and_names_what_it_refuses() {
    let dir = std::env::temp_dir().join(format!("beacon-p2p-verify-{}", std::process::id()));
    let synthnet = common::synthnet::dir();
    for sub in ["bootstrap", "updates", "finality_update"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let bootstrap = format!("13148160_{}.json", common::synthnet::CHECKPOINT_ROOT);
    std::fs::copy(
        synthnet.join("bootstrap").join(&bootstrap),
        dir.join("bootstrap").join(&bootstrap),
    )
    .unwrap();
    std::fs::copy(
        synthnet.join("updates/period_1605.json"),
        dir.join("updates/period_1605.json"),
    )
    .unwrap();
    // The next period's update with one bit of its signature flipped (checkable: the store
    // learns period 1606's committee from 1605's update), and a finality update of a period the
    // store cannot reach from there.
    let mut forged = read_json(&synthnet.join("updates/period_1606.json"));
    let signature = forged[0]["data"]["sync_aggregate"]["sync_committee_signature"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bytes = hex::decode(&signature[2..]).unwrap();
    bytes[40] ^= 1;
    forged[0]["data"]["sync_aggregate"]["sync_committee_signature"] =
        format!("0x{}", hex::encode(bytes)).into();
    std::fs::write(
        dir.join("updates/period_1606.json"),
        serde_json::to_vec(&forged).unwrap(),
    )
    .unwrap();
    std::fs::copy(
        synthnet.join("finality_update/13221883_20d7fc03.json"),
        dir.join("finality_update/13221883_20d7fc03.json"),
    )
    .unwrap();
    let verify = |checkpoint: &str| {
        run(
            &[
                "verify",
                "--network",
                "mainnet",
                "--checkpoint",
                checkpoint,
                dir.to_str().unwrap(),
            ],
            None,
        )
    };
    let lines = ok_json_lines(&verify(common::synthnet::CHECKPOINT_ROOT));
    let result = |file: &str| {
        lines
            .iter()
            .find(|line| line["file"].as_str().is_some_and(|f| f.contains(file)))
            .unwrap_or_else(|| panic!("no {file} line: {lines:?}"))
            .clone()
    };
    assert_eq!(result("bootstrap/")["result"], "accepted");
    assert_eq!(result("period_1605")["result"], "accepted");
    let forged = result("period_1606");
    assert_eq!(forged["result"], "rejected", "{forged}");
    assert_eq!(forged["reason"], "invalid_signature", "{forged}");
    // Period 1613 cannot be checked from period 1605: ignored, not a lie.
    let finality = result("finality_update/");
    assert_eq!(finality["result"], "ignored", "{finality}");
    assert_eq!(finality["reason"], "unverifiable_period", "{finality}");
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "final");
    assert_eq!(last["counts"]["accepted"], 1);
    // Without the checkpoint's bootstrap it says so.
    let other = format!("0x{}", "11".repeat(32));
    assert_clean_failure(&verify(&other), "no bootstrap for the checkpoint");
    std::fs::remove_dir_all(&dir).unwrap();
}
