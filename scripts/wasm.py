#!/usr/bin/env python3
"""Runs wasm-pack with the settings in wasm-pack.toml.

    scripts/wasm.py test     # wasm-pack test in the configured headless browser, against a
                             # test peer and a bridge this script starts on 127.0.0.1
    scripts/wasm.py build    # release npm package into [build].out-dir

wasm-pack reads only Cargo.toml, so this is what gives wasm-pack.toml its meaning. It always
passes --mode no-install: the toolchain comes from scripts/setup.sh, never from a download.
"""
import contextlib
import glob
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOWN = {"build": {"targets", "out-dir", "opt-level", "wasm-opt"},
         "test": {"browser", "headless", "driver"}}
WASM_OPT = ROOT / "scripts/npm/node_modules/.bin/wasm-opt"
PACKAGE_README = ROOT / "src/js/README.md"


def load_config():
    with open(ROOT / "wasm-pack.toml", "rb") as f:
        config = tomllib.load(f)
    for section, keys in config.items():
        unknown = set(keys) - KNOWN.get(section, set())
        if section not in KNOWN or unknown:
            sys.exit(f"wasm-pack.toml: unknown {'section ' + section if section not in KNOWN else 'keys ' + ', '.join(sorted(unknown))}")
    return config


def run(args, env=None):
    print("+", " ".join(args), flush=True)
    return subprocess.call(args, cwd=ROOT, env=env)


CAPTURE = ROOT / "tests/data/devnet-capture"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def expected_objects(peer_id):
    """What the test peer serves (the devnet capture), for the browser test to compare with."""
    def load(path):
        with open(path) as f:
            return json.load(f)
    bootstraps = {}
    for path in sorted(glob.glob(str(CAPTURE / "bootstrap/*.json"))):
        root = Path(path).stem.split("_", 1)[1]
        bootstraps[root] = load(path)
    updates = {}
    for path in sorted(glob.glob(str(CAPTURE / "updates/period_*.json"))):
        period = int(Path(path).stem.split("_")[1])
        updates[str(period)] = load(path)[0]
    return {
        "peerId": peer_id,
        "bootstraps": bootstraps,
        "updates": updates,
        "finality": [load(p) for p in sorted(glob.glob(str(CAPTURE / "finality_update/*.json")))],
        "optimistic": [load(p) for p in sorted(glob.glob(str(CAPTURE / "optimistic_update/*.json")))],
    }


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def test_servers(port, events_file):
    """The js-libp2p test peer (TCP only) and a bridge on 127.0.0.1:`port` that relays to it,
    stopped by PID afterwards; the peer's event lines go to `events_file`. Yields the bridge's
    URL."""
    processes = []
    www = tempfile.mkdtemp(prefix="beacon-p2p-wasm-test-")
    try:
        # Start in period 3 so that updates 1..3 are all "past" for the peer. With 2 s slots the
        # replay stays in periods 3-4 for about four minutes before it loops to the beginning.
        # mplex only, like Lodestar: its strict stream handling is what the browser must survive.
        peer = subprocess.Popen(
            ["node", "tests/peer/peer.mjs", "--slot-ms", "2000", "--start-slot", "200",
             "--muxers", "mplex"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        processes.append(peer)
        hello = json.loads(peer.stdout.readline() or "{}")
        if "multiaddr" not in hello:
            raise SystemExit("the test peer did not start (run scripts/setup.sh for its npm packages)")
        # Keep draining its event lines so it never blocks on a full pipe; they are checked after
        # the suites (check_peer_events).
        subprocess.Popen(["cat"], stdin=peer.stdout, stdout=open(events_file, "w"))
        with open(os.path.join(www, "expected.json"), "w") as f:
            json.dump(expected_objects(hello["peerId"]), f)
        bridge = subprocess.Popen(
            [str(ROOT / "target/debug/beacon-p2p"), "bridge", "--testnet-dir", str(CAPTURE),
             "--listen", f"127.0.0.1:{port}", "--no-discovery", "--allow-private",
             "--peer", hello["multiaddr"], "--www", www],
            cwd=ROOT)
        processes.append(bridge)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/peers", timeout=2) as response:
                    if any(p["peerId"] == hello["peerId"] for p in json.load(response)):
                        break
            except OSError:
                pass
            if bridge.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the bridge did not offer the test peer within 60 s")
            time.sleep(0.3)
        print(f"test peer {hello['multiaddr']} offered by the bridge at {url}", flush=True)
        yield url
    finally:
        for process in reversed(processes):
            stop(process)
        shutil.rmtree(www, ignore_errors=True)


def check_peer_events(events_file):
    """What the browser clients did to the peer: a real Lodestar drops a connection that sends it
    more than five messages a second on streams it has closed (js-mplex, which the peer runs with
    Lodestar's options). None may have hit that limit, and none may have come late on a
    light-client request stream (that was a bodyless request's write-close, every time)."""
    events = []
    for line in events_file.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    aborts = [e for e in events if e.get("event") == "mplex-abort"]
    missing = [e for e in events if e.get("event") == "mplex-missing-stream"]
    late = [e for e in missing if "/light_client_" in (e.get("protocol") or "")]
    requests = sum(1 for e in events if e.get("event") == "request")
    print(f"test peer: {requests} requests served, {len(missing)} messages on closed streams "
          f"({', '.join(sorted({str(e.get('protocol')) for e in missing})) or 'none'}), "
          f"{len(aborts)} connections dropped for them", flush=True)
    if requests == 0:
        print("the browser suites sent the test peer no request", file=sys.stderr)
        return 1
    if aborts or late:
        print(f"the peer dropped {len(aborts)} connection(s); late messages on light-client "
              f"streams: {late}", file=sys.stderr)
        return 1
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("test", "build"):
        sys.exit(__doc__)
    config = load_config()
    env = dict(os.environ)
    extra = sys.argv[2:]
    if sys.argv[1] == "test":
        test = config.get("test", {})
        browser = test.get("browser", "chrome")
        args = ["wasm-pack", "test", "--mode", "no-install", f"--{browser}"]
        if test.get("headless", True):
            args.append("--headless")
        if "driver" in test:
            env["CHROMEDRIVER" if browser == "chrome" else "GECKODRIVER"] = test["driver"]
        # The bridge's URL is read at compile time by tests/wasm_client.rs (option_env!), so the
        # port is chosen first; the suites are compiled before the peer starts its replay clock.
        port = free_port()
        env["BEACON_P2P_TEST_BRIDGE"] = f"http://127.0.0.1:{port}"
        # The end-to-end test waits for gossip; the runner's default is 20 s per file.
        env.setdefault("WASM_BINDGEN_TEST_TIMEOUT", "240")
        for build in (["cargo", "build", "--locked", "--bin", "beacon-p2p"],
                      ["cargo", "test", "--locked", "--target", "wasm32-unknown-unknown", "--no-run"]):
            if run(build, env) != 0:
                return 1
        events_file = ROOT / "target" / "wasm-test-peer-events.jsonl"
        with test_servers(port, events_file):
            status = run(args + extra, env)
        return status or check_peer_events(events_file)
    build = config.get("build", {})
    if "opt-level" in build:
        env["CARGO_PROFILE_RELEASE_OPT_LEVEL"] = str(build["opt-level"])
    out_dir = ROOT / build.get("out-dir", "pkg")
    for index, target in enumerate(build.get("targets", ["web"])):
        # The first target is the package in out-dir; the others sit next to it.
        out = out_dir if index == 0 else out_dir.with_name(f"{out_dir.name}-{target}")
        args = ["wasm-pack", "build", "--release", "--mode", "no-install",
                "--target", target, "--out-dir", str(out)]
        status = run(args + extra, env)
        if status != 0:
            return status
        wasm = out / "beacon_p2p_bg.wasm"
        raw = wasm.stat().st_size
        if build.get("wasm-opt"):
            if not WASM_OPT.exists():
                sys.exit(f"{WASM_OPT} is missing: run scripts/setup.sh (npm binaryen)")
            status = run([str(WASM_OPT), *build["wasm-opt"], str(wasm), "-o", str(wasm)])
            if status != 0:
                return status
        shutil.copyfile(PACKAGE_README, out / "README.md")
        data = wasm.read_bytes()
        print(f"{out.relative_to(ROOT)}: beacon_p2p_bg.wasm {len(data):,} bytes "
              f"({raw:,} before wasm-opt), {len(gzip.compress(data, 9)):,} gzipped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
