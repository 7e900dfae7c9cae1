#!/usr/bin/env python3
"""Generates `ssz_static`-style cases for the beacon-block types from the executable consensus
spec, into tests/data/block-vectors/ (read by tests/block_conformance.rs and tests/wasm.rs).

Not part of the crate; run it by hand when the spec or the type list changes:

    python3.11 -m venv /tmp/specvenv
    /tmp/specvenv/bin/pip install "eth-consensus-specs==1.7.0a13" "ckzg==2.1.8" "pycryptodome==3.23.0"
    /tmp/specvenv/bin/python scripts/gen_block_vectors.py

(ckzg: the spec's deneb and later modules import it; pycryptodome: keccak for eth_utils'
EIP-55 checksums.) The output is
deterministic: every case has its own seeded RNG.

Per case directory `<preset>/<fork>/<Type>/ssz_<mode>/case_<n>/` (the spec-tests layout):
- `serialized.ssz`: the spec's `serialize(value)`;
- `case.json`: `{"root": hash_tree_root(value), "value": <Beacon-API JSON>}`. The JSON is the
  spec's `debug.encode` output put into Lodestar's `toJson` conventions: integers as decimal
  strings, and ExecutionAddress fields EIP-55 checksummed (eth_utils, shipped with the spec).

Sizes are kept small: list lengths are capped (`max_list_length`), byte lists too, so a mainnet
block is a few KiB rather than its 10 MiB maximum.
"""

import json
import os
import random
import shutil
import sys

from eth_consensus_specs.debug.encode import encode
from eth_consensus_specs.debug.random_value import RandomizationMode, get_random_ssz_object
from eth_consensus_specs.utils.ssz.ssz_impl import hash_tree_root, serialize
from eth_consensus_specs.utils.ssz.ssz_typing import ByteVector, Container, List, Uint, Vector
from eth_utils import to_checksum_address

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "block-vectors")

FORKS = ["capella", "deneb", "electra", "fulu"]
PRESETS = ["mainnet", "minimal"]

# Types and the fork they first exist at (for these forks).
TYPES = [
    ("SignedBeaconBlock", "capella"),
    ("BeaconBlock", "capella"),
    ("BeaconBlockBody", "capella"),
    ("BeaconBlockHeader", "capella"),
    ("SignedBeaconBlockHeader", "capella"),
    ("ExecutionPayload", "capella"),
    ("ExecutionRequests", "electra"),
    ("DepositRequest", "electra"),
    ("WithdrawalRequest", "electra"),
    ("ConsolidationRequest", "electra"),
    ("Attestation", "capella"),
    ("IndexedAttestation", "capella"),
    ("AttesterSlashing", "capella"),
    ("AttestationData", "capella"),
    ("Checkpoint", "capella"),
    ("Eth1Data", "capella"),
    ("ProposerSlashing", "capella"),
    ("Deposit", "capella"),
    ("DepositData", "capella"),
    ("VoluntaryExit", "capella"),
    ("SignedVoluntaryExit", "capella"),
    ("SyncAggregate", "capella"),
    ("Withdrawal", "capella"),
    ("BLSToExecutionChange", "capella"),
    ("SignedBLSToExecutionChange", "capella"),
]

# The containers of a block: few random cases each, short lists; the small types get more.
BIG = {"SignedBeaconBlock", "BeaconBlock", "BeaconBlockBody", "ExecutionPayload"}
# Types whose container changes between these forks (per preset); the others are generated at
# the fork they first exist at only.
FORKED = BIG | {"Attestation", "IndexedAttestation", "AttesterSlashing"}
# Types whose bitlist / index list is worth a long case (electra's 2048 * committees limit).
LENGTHY = {"Attestation", "IndexedAttestation"}


def to_lodestar_json(value, encoded):
    """Puts `encode(value)` into Lodestar's toJson conventions, walking value and JSON together."""
    if isinstance(value, ByteVector) and type(value).__name__ == "ExecutionAddress":
        return to_checksum_address("0x" + bytes(value).hex())
    if isinstance(value, Uint):
        return str(int(value))
    if isinstance(value, Container):
        return {name: to_lodestar_json(getattr(value, name), encoded[name]) for name in value.fields()}
    if isinstance(value, (List, Vector)) and isinstance(encoded, list):
        return [to_lodestar_json(item, item_json) for item, item_json in zip(value, encoded)]
    return encoded


def cases_for(type_name):
    """(mode name, mode, max_bytes_length, max_list_length, count) for one type."""
    if type_name in BIG:
        random_count = 2 if type_name == "SignedBeaconBlock" else 1
        lists = 4
    else:
        random_count = 3
        lists = 8
    cases = [
        ("random", RandomizationMode.mode_random, 40, lists, random_count),
        ("zero", RandomizationMode.mode_zero, 40, 2, 1),
        ("max", RandomizationMode.mode_max, 40, 2, 1),
        ("nil", RandomizationMode.mode_nil_count, 40, 2, 1),
    ]
    if type_name in LENGTHY:
        cases.append(("lengthy", RandomizationMode.mode_max_count, 40, 300, 1))
    return cases


def spec_module(fork, preset):
    module = __import__(f"eth_consensus_specs.{fork}.{preset}", fromlist=["spec"])
    return module


def main():
    for preset in PRESETS:
        # The README next to them stays.
        shutil.rmtree(os.path.join(OUT, preset), ignore_errors=True)
    total = 0
    written = 0
    for preset in PRESETS:
        for fork in FORKS:
            spec = spec_module(fork, preset)
            for type_name, since in TYPES:
                if FORKS.index(fork) < FORKS.index(since):
                    continue
                if type_name not in FORKED and fork != since:
                    continue
                typ = getattr(spec, type_name)
                for mode_name, mode, max_bytes, max_list, count in cases_for(type_name):
                    for index in range(count):
                        seed = f"{preset}/{fork}/{type_name}/{mode_name}/{index}"
                        rng = random.Random(seed)
                        value = get_random_ssz_object(rng, typ, max_bytes, max_list, mode, False)
                        ssz = serialize(value)
                        case = {
                            "root": "0x" + hash_tree_root(value).hex(),
                            "value": to_lodestar_json(value, encode(value)),
                        }
                        directory = os.path.join(OUT, preset, fork, type_name, f"ssz_{mode_name}", f"case_{index}")
                        os.makedirs(directory)
                        with open(os.path.join(directory, "serialized.ssz"), "wb") as file:
                            file.write(ssz)
                        with open(os.path.join(directory, "case.json"), "w") as file:
                            json.dump(case, file, separators=(",", ":"))
                            file.write("\n")
                        total += 1
                        written += len(ssz)
    print(f"{total} cases, {written} SSZ bytes, in {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
