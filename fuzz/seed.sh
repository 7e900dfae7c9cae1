#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ with real inputs from the conformance vectors
# (tests/data/vectors/public) and the minimal-preset devnet recording (tests/data/devnet-capture),
# each prefixed with the selector byte its target expects (see fuzz/src/lib.rs).
#
# Re-runnable: seed files have fixed names (seed-*) and are overwritten; whatever else the
# fuzzer has added to the corpus stays. Needs python3 (standard library only).
#
# Usage: fuzz/seed.sh            (from anywhere)
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$FUZZ_DIR")"

exec python3 - "$REPO_DIR" "$FUZZ_DIR/corpus" <<'PY'
import glob
import hashlib
import json
import os
import sys

repo, corpus = sys.argv[1], sys.argv[2]
vectors = os.path.join(repo, "tests/data/vectors/public")
devnet = os.path.join(repo, "tests/data/devnet-capture")

# --- selector conventions (fuzz/src/lib.rs) -------------------------------------------------
PROTOCOLS = [  # Protocol::ALL
    "status/1", "status/2", "goodbye/1", "ping/1", "metadata/1", "metadata/2", "metadata/3",
    "light_client_bootstrap/1", "light_client_updates_by_range/1",
    "light_client_finality_update/1", "light_client_optimistic_update/1",
]
LC_FORKS = ["altair", "bellatrix", "capella", "deneb", "electra", "fulu"]
P2P_TYPES = [
    "StatusV1", "StatusV2", "MetaDataV1", "MetaDataV2", "MetaDataV3", "Ping", "Goodbye",
    "ENRForkID", "ErrorMessage", "LightClientUpdatesByRangeRequest", "Root",
]
PRESETS = {"mainnet": 0, "minimal": 1}
LC_TARGETS = {
    "LightClientHeader": "ssz_light_client_header",
    "LightClientBootstrap": "ssz_light_client_bootstrap",
    "LightClientUpdate": "ssz_light_client_update",
    "LightClientFinalityUpdate": "ssz_light_client_finality_update",
    "LightClientOptimisticUpdate": "ssz_light_client_optimistic_update",
}
GOSSIP_KINDS = {"light_client_finality_update": 0, "light_client_optimistic_update": 1}
# The devnet (minimal preset, altair..deneb at epoch 0) has one digest period: deneb.
DEVNET_DIGEST = bytes.fromhex("8cdad603")

written = {}


def put(target, name, data):
    directory = os.path.join(corpus, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "seed-" + name), "wb") as out:
        out.write(data)
    written[target] = written.get(target, 0) + 1


def read(path):
    with open(path, "rb") as f:
        return f.read()


# --- snappy helpers ---------------------------------------------------------------------------
def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data, i):
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


CRC_TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC_TABLE.append(c)


def masked_crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def snappy_block(data):
    """A valid snappy block made of literals only (what a lazy compressor may send)."""
    out = bytearray(varint(len(data)))
    for start in range(0, len(data), 65536):
        chunk = data[start:start + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + n.to_bytes(2, "little")
        out += chunk
    return bytes(out)


def snappy_frames(data):
    """Stream identifier + uncompressed chunks (at most 65536 bytes each)."""
    out = bytearray(b"\xff\x06\x00\x00sNaPpY")
    for start in range(0, len(data), 65536):
        chunk = data[start:start + 65536]
        out.append(0x01)
        out += (len(chunk) + 4).to_bytes(3, "little")
        out += masked_crc32c(chunk).to_bytes(4, "little") + chunk
    return bytes(out)


def response_chunk(payload, context=None):
    return b"\x00" + (context or b"") + varint(len(payload)) + snappy_frames(payload)


def rewrite_contexts(stream, mapping):
    """Replaces the context bytes of every success chunk (vector digest -> real digest), up to
    where a deliberately malformed stream stops making sense."""
    out = bytearray(stream)
    try:
        walk_chunks(stream, out, mapping)
    except (IndexError, ValueError):
        pass
    return bytes(out)


def walk_chunks(stream, out, mapping):
    i = 0
    while i < len(stream):
        result = stream[i]
        i += 1
        if result == 0:
            digest = bytes(stream[i:i + 4])
            out[i:i + 4] = mapping.get(digest, digest)
            i += 4
        length, i = read_varint(stream, i)
        if length == 0:
            if stream[i:i + 1] == b"\xff":
                i += 10
            continue
        got = 0
        while got < length:
            kind = stream[i]
            frame_len = int.from_bytes(stream[i + 1:i + 4], "little")
            body = stream[i + 4:i + 4 + frame_len]
            if len(body) != frame_len:
                raise ValueError("truncated frame")
            i += 4 + frame_len
            if kind == 0x00:
                got += read_varint(body, 4)[0]
            elif kind == 0x01:
                got += frame_len - 4


# --- fork digests: the vectors' made-up genesis root -> mainnet's real one --------------------
digests = json.load(open(os.path.join(vectors, "fork_digests.json")))
real_by_label = {e["label"]: bytes.fromhex(e["fork_digest"][2:])
                 for e in digests["known_answer_mainnet_gvr"]["entries"]}
label_of_vector = {bytes.fromhex(e["fork_digest"][2:]): e["label"] for e in digests["entries"]}
to_real = {d: real_by_label[label] for d, label in label_of_vector.items()}
# Mainnet's digest periods, oldest first (ChainConfig::digest_periods).
period_index = {e["label"]: i for i, e in enumerate(digests["known_answer_mainnet_gvr"]["entries"])}

# --- reqresp_stream ---------------------------------------------------------------------------
for case_dir in sorted(glob.glob(os.path.join(vectors, "reqresp/*"))):
    case = json.load(open(os.path.join(case_dir, "case.json")))
    protocol = case["protocol_id"].removeprefix("/eth2/beacon_chain/req/").removesuffix("/ssz_snappy")
    selector = (PROTOCOLS.index(protocol) << 1) | PRESETS[case["preset"]]
    stream = read(os.path.join(case_dir, case["input_file"]))
    if case["direction"] == "response" and protocol.startswith("light_client"):
        stream = rewrite_contexts(stream, to_real)
    put("reqresp_stream", os.path.basename(case_dir), bytes([selector]) + stream)

p2p_protocols = {
    "bootstrap": "light_client_bootstrap/1",
    "finality_update": "light_client_finality_update/1",
    "optimistic_update": "light_client_optimistic_update/1",
    "updates_by_range": "light_client_updates_by_range/1",
}
by_protocol = {}
for path in sorted(glob.glob(os.path.join(devnet, "p2p/*.ssz"))):
    name = os.path.basename(path)[:-len(".ssz")]
    protocol = p2p_protocols[name.rsplit("_", 1)[0]]
    by_protocol.setdefault(protocol, []).append(read(path))
for protocol, payloads in by_protocol.items():
    selector = (PROTOCOLS.index(protocol) << 1) | PRESETS["minimal"]
    stream = b"".join(response_chunk(p, DEVNET_DIGEST) for p in payloads)
    put("reqresp_stream", "devnet-" + protocol.split("/")[0], bytes([selector]) + stream)

# --- gossip -----------------------------------------------------------------------------------
for case_dir in sorted(glob.glob(os.path.join(vectors, "gossip/*"))):
    case = json.load(open(os.path.join(case_dir, "case.json")))
    _, _, digest, kind, _ = case["topic"].split("/")
    label = label_of_vector[bytes.fromhex(digest)]
    choice = (period_index[label] << 2) | (GOSSIP_KINDS[kind] << 1) | PRESETS["mainnet"]
    data = read(os.path.join(case_dir, case["data_file"]))
    put("gossip", os.path.basename(case_dir), bytes([choice]) + data)

for kind in GOSSIP_KINDS:
    short = kind.removeprefix("light_client_")
    for path in sorted(glob.glob(os.path.join(devnet, short, "*.ssz")))[:6]:
        choice = (0 << 2) | (GOSSIP_KINDS[kind] << 1) | PRESETS["minimal"]
        data = snappy_block(read(path))
        put("gossip", "devnet-" + short + "-" + os.path.basename(path)[:-4], bytes([choice]) + data)

# --- ssz_light_client_* -----------------------------------------------------------------------
for path in sorted(glob.glob(os.path.join(vectors, "*/*/ssz_static/*/*/*/serialized.ssz"))):
    preset, fork, _, type_name, kind, case = path.split(os.sep)[-7:-1]
    if type_name not in LC_TARGETS:
        continue
    selector = (LC_FORKS.index(fork) << 1) | PRESETS[preset]
    put(LC_TARGETS[type_name], f"{preset}-{fork}-{kind}-{case}", bytes([selector]) + read(path))

for case_dir in sorted(glob.glob(os.path.join(vectors, "ssz_invalid/*"))):
    case = json.load(open(os.path.join(case_dir, "case.json")))
    type_name = case.get("ssz_type") or case.get("type")
    fork, preset = case.get("fork"), case.get("preset")
    if type_name in LC_TARGETS and fork in LC_FORKS and preset in PRESETS:
        selector = (LC_FORKS.index(fork) << 1) | PRESETS[preset]
        put(LC_TARGETS[type_name], "invalid-" + os.path.basename(case_dir),
            bytes([selector]) + read(os.path.join(case_dir, "serialized.ssz")))

devnet_selector = (LC_FORKS.index("deneb") << 1) | PRESETS["minimal"]
for directory, type_name in [("bootstrap", "LightClientBootstrap"),
                             ("finality_update", "LightClientFinalityUpdate"),
                             ("optimistic_update", "LightClientOptimisticUpdate")]:
    for path in sorted(glob.glob(os.path.join(devnet, directory, "*.ssz")))[:6]:
        put(LC_TARGETS[type_name], "devnet-" + os.path.basename(path)[:16],
            bytes([devnet_selector]) + read(path))
for name in ["updates_by_range_0"]:
    put("ssz_light_client_update", "devnet-" + name,
        bytes([devnet_selector]) + read(os.path.join(devnet, "p2p", name + ".ssz")))

# --- ssz_p2p_messages -------------------------------------------------------------------------
for path in sorted(glob.glob(os.path.join(vectors, "general/*/ssz_static/*/*/*/serialized.ssz"))):
    fork, _, type_name, kind, case = path.split(os.sep)[-6:-1]
    if type_name in P2P_TYPES:
        put("ssz_p2p_messages", f"{type_name}-{kind}-{case}",
            bytes([P2P_TYPES.index(type_name)]) + read(path))
for case_dir in sorted(glob.glob(os.path.join(vectors, "reqresp/*_request_ok"))):
    case = json.load(open(os.path.join(case_dir, "case.json")))
    for chunk in case.get("chunks", []):
        if chunk["ssz_type"] in P2P_TYPES:
            put("ssz_p2p_messages", "request-" + os.path.basename(case_dir),
                bytes([P2P_TYPES.index(chunk["ssz_type"])])
                + read(os.path.join(case_dir, chunk["ssz_file"])))
put("ssz_p2p_messages", "Root-zero", bytes([P2P_TYPES.index("Root")]) + bytes(32))

for target, count in sorted(written.items()):
    print(f"{target}: {count} seed(s) in {os.path.join(corpus, target)}")
PY
