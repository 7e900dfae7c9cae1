#!/usr/bin/env python3
"""Runs wasm-pack with the settings in wasm-pack.toml.

    scripts/wasm.py test     # wasm-pack test in the configured headless browser, against
                             # test peers, a bridge and a control server it starts on 127.0.0.1
    scripts/wasm.py build    # release npm package into [build].out-dir

wasm-pack reads only Cargo.toml, so this is what gives wasm-pack.toml its meaning. It always
passes --mode no-install: the toolchain comes from scripts/setup.sh, never from a download.

The browser suites get two URLs at compile time: BEACON_P2P_TEST_BRIDGE, a bridge that relays
to test peer A (TCP), and BEACON_P2P_TEST_CONTROL, a control server that tells them about peer B
(websocket, which a browser dials itself) and peer C (a Beacon API), stops and restarts both, and
proxies C as a "liar" that forges its finality updates.
"""
import contextlib
import glob
import gzip
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
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


def free_port(*taken):
    """A free port on 127.0.0.1 other than `taken` (ports chosen already but not listened on yet)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in taken:
            return port


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
    """The js-libp2p test peer "A" (TCP only, mplex) and a bridge on 127.0.0.1:`port` that
    relays to it, stopped by PID afterwards; the peer's event lines go to `events_file`. Yields
    the bridge's URL. The other peers are control_servers'."""
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


# 127.0.0.1 only: never through a proxy from the environment
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))
FINALITY_ROUTE = "/eth/v1/beacon/light_client/finality_update"
# A finalized header whose body_root the finality branch no longer proves
FORGED_BODY_ROOT = "0x" + "ab" * 32


class RestartablePeer:
    """A test peer that the control server stops and starts again with the same arguments, so on
    the same ports (and, with --private-key-hex, with the same peer id) and `--clock-start
    clock()`. Its event lines after the hello line are appended to `events` (a file open for
    writing, or DEVNULL) across restarts."""

    def __init__(self, args, events, clock):
        self.args = ["node", "tests/peer/peer.mjs", *args]
        self.events = events
        self.clock = clock
        self.process = None
        self.hello = None
        self.lock = threading.Lock()

    def start(self):
        """Its hello line, once it listens (started unless it runs). Right after a stop a port may
        not be free yet, and the peer exits at once: that is tried again a few times."""
        with self.lock:
            if self.process is not None and self.process.poll() is None:
                return self.hello
            for _ in range(5):
                # unbuffered, so readline takes the hello line and nothing that `cat` should get
                args = [*self.args, "--clock-start", f"{self.clock():.3f}"]
                self.process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, bufsize=0)
                timer = threading.Timer(30, self.process.kill)
                timer.start()
                line = self.process.stdout.readline()
                timer.cancel()
                if line:
                    self.hello = json.loads(line)
                    subprocess.Popen(["cat"], stdin=self.process.stdout, stdout=self.events)
                    self.process.stdout.close()
                    return self.hello
                if self.process.wait() == -signal.SIGKILL:
                    break  # no hello line in 30 s
                time.sleep(0.5)
            raise RuntimeError(f"the test peer did not start: {' '.join(self.args)} "
                               "(scripts/setup.sh installs its npm packages)")

    def stop(self):
        with self.lock:
            if self.process is not None:
                stop(self.process)


class ControlHandler(http.server.BaseHTTPRequestHandler):
    """The control server's GET routes (see control_servers). A page on another origin calls them
    with plain fetch, so every answer is JSON that any origin may read and no cache keeps."""

    def log_message(self, format, *args):
        pass

    def answer(self, status, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for header in headers:
            self.send_header(*header)
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self):
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET")
        self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def do_GET(self):
        path, _, query = self.path.partition("?")
        ws_peer, rpc = self.server.ws_peer, self.server.rpc
        rpc_url = f"http://{rpc.hello['rest']}"
        try:
            if path == "/info":
                hello = ws_peer.hello
                self.answer(200, {"wsPeer": {"peerId": hello["peerId"], "multiaddr": hello["wsMultiaddr"],
                                             "tcpMultiaddr": hello["multiaddr"]},
                                  "rpc": rpc_url,
                                  "liar": f"http://127.0.0.1:{self.server.server_port}/liar"})
            elif path in ("/ws-peer/stop", "/rpc/stop"):
                (ws_peer if path == "/ws-peer/stop" else rpc).stop()
                print(f"control: {path}: stopped", flush=True)
                self.answer(200, {"stopped": True})
            elif path == "/ws-peer/start":
                hello = ws_peer.start()
                print(f"control: {path}: {hello['wsMultiaddr']}", flush=True)
                self.answer(200, {"peerId": hello["peerId"], "multiaddr": hello["wsMultiaddr"]})
            elif path == "/rpc/start":
                hello = rpc.start()
                print(f"control: {path}: {rpc_url}", flush=True)
                self.answer(200, {"peerId": hello["peerId"], "rpc": rpc_url})
            elif path == "/liar" or path.startswith("/liar/"):
                self.liar(rpc_url + (path[len("/liar"):] or "/") + (f"?{query}" if query else ""))
            else:
                self.answer(404, {"code": 404, "message": f"no route {path}"})
        except RuntimeError as e:
            self.answer(500, {"code": 500, "message": str(e)})

    def liar(self, url):
        """C's answer, except that a finality update's finalized header gets a forged body_root."""
        accept = self.headers.get("Accept")
        request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
        try:
            with LOCAL.open(request, timeout=10) as response:
                status, body, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as e:
            status, body, headers = e.code, e.read(), e.headers
        except OSError as e:
            self.answer(502, {"code": 502, "message": f"the Beacon API peer does not answer: {e}"})
            return
        if status == 200 and url.partition("?")[0].endswith(FINALITY_ROUTE):
            update = json.loads(body)
            update["data"]["finalized_header"]["beacon"]["body_root"] = FORGED_BODY_ROOT
            body = json.dumps(update).encode()
        version = headers.get("Eth-Consensus-Version")
        self.answer(status, body, headers.get("Content-Type", "application/json"),
                    [("Eth-Consensus-Version", version)] if version else [])


@contextlib.contextmanager
def control_servers(ctl_port, events_file):
    """Peer "B", the websocket peer (mplex, TCP and ws, one key per run), peer "C", a Beacon API
    (REST only, no gossip), and the control server on 127.0.0.1:`ctl_port`:

        /info                  {"wsPeer": {"peerId", "multiaddr" (ws), "tcpMultiaddr"}, "rpc", "liar"}
        /ws-peer/stop, /rpc/stop     SIGTERM and wait: {"stopped": true}
        /ws-peer/start               {"peerId", "multiaddr"}: the same peer id and addresses again
        /rpc/start                   {"peerId", "rpc"}: on the same REST port again
        /liar/<path>?<query>   C's answer to GET <path>?<query>, but a finality update whose finality
                               branch no longer proves its finalized header; 502 while C is down

    so that the browser suites can test reconnects and a lying Beacon API. B's event lines go to
    `events_file`. Everything is stopped by PID afterwards. Yields the control server's URL."""
    port = free_port(ctl_port)
    ws_port = free_port(ctl_port, port)
    rest_port = free_port(ctl_port, port, ws_port)
    # One clock for both, from the capture's slot 200 on, kept across restarts: a restarted peer
    # is where the other one is, like two honest nodes of one network (the replay stops at the
    # capture's last arrival).
    genesis = int(json.loads((CAPTURE / "meta.json").read_text())["genesis"]["genesis_time"])
    seconds_per_slot = next(int(line.split(":")[1]) for line in
                            (CAPTURE / "config.yaml").read_text().splitlines()
                            if line.startswith("SECONDS_PER_SLOT:"))
    wall_start = time.time()

    def clock():
        return genesis + 200 * seconds_per_slot + (time.time() - wall_start)

    server = None
    with open(events_file, "w") as events:
        ws_peer = RestartablePeer(["--muxers", "mplex", "--port", str(port), "--ws-port", str(ws_port),
                                   "--private-key-hex", os.urandom(32).hex()], events, clock)
        rpc = RestartablePeer(["--no-gossip", "--rest-port", str(rest_port)], subprocess.DEVNULL,
                              clock)
        try:
            ws_peer.start()
            rpc.start()
            server = http.server.ThreadingHTTPServer(("127.0.0.1", ctl_port), ControlHandler)
            server.ws_peer, server.rpc = ws_peer, rpc
            threading.Thread(target=server.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{ctl_port}"
            print(f"websocket peer {ws_peer.hello['wsMultiaddr']}, Beacon API "
                  f"http://{rpc.hello['rest']}, control server at {url}", flush=True)
            yield url
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
            ws_peer.stop()
            rpc.stop()


def check_peer_events(events_file, name="test peer", require_requests=True):
    """What the browser clients did to the peer: a real Lodestar drops a connection that sends it
    more than five messages a second on streams it has closed (js-mplex, which the peer runs with
    Lodestar's options). None may have hit that limit, and none may have come late on a
    light-client request stream (that was a bodyless request's write-close, every time). Peer A
    must have served requests; the websocket peer only serves the suites that dial it."""
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
    print(f"{name}: {requests} requests served, {len(missing)} messages on closed streams "
          f"({', '.join(sorted({str(e.get('protocol')) for e in missing})) or 'none'}), "
          f"{len(aborts)} connections dropped for them", flush=True)
    if requests == 0 and require_requests:
        print(f"the browser suites sent the {name} no request", file=sys.stderr)
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
        # The bridge's and the control server's URLs are read at compile time by the wasm suites
        # (option_env!), so the ports are chosen first; the suites are compiled before the peers
        # start their replay clocks.
        port = free_port()
        env["BEACON_P2P_TEST_BRIDGE"] = f"http://127.0.0.1:{port}"
        ctl = free_port(port)
        env["BEACON_P2P_TEST_CONTROL"] = f"http://127.0.0.1:{ctl}"
        # The end-to-end test waits for gossip; the runner's default is 20 s per file.
        env.setdefault("WASM_BINDGEN_TEST_TIMEOUT", "240")
        for build in (["cargo", "build", "--locked", "--bin", "beacon-p2p"],
                      ["cargo", "test", "--locked", "--target", "wasm32-unknown-unknown", "--no-run"]):
            if run(build, env) != 0:
                return 1
        events_file = ROOT / "target" / "wasm-test-peer-events.jsonl"
        ws_events_file = ROOT / "target" / "wasm-test-ws-peer-events.jsonl"
        with test_servers(port, events_file), control_servers(ctl, ws_events_file):
            status = run(args + extra, env)
        return (status or check_peer_events(events_file)
                or check_peer_events(ws_events_file, "websocket peer", require_requests=False))
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
