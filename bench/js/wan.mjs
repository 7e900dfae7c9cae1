// The WAN-like part (bench/parts/wan.sh): how long a page waits, from its start, for the first
// finality update and for the first verified head, over p2p (the browser → the bridge's relay →
// the peer) and over the same peer's Beacon REST API, with a round-trip time added by delay
// proxies (bench/js/delay-proxy.mjs):
//
//   Chromium ──A── bridge (page, /network, /peers, /relay) ──B── test peer (libp2p TCP)
//   Chromium ──C── the test peer's Beacon REST API
//
// A and C carry the RTT under test (the browser is as far from the bridge as from a Beacon API);
// B carries --peer-rtt-ms (default 2: the bridge runs near its peers). Each new connection pays
// one RTT for TCP's handshake (delay-proxy.mjs); there is no TLS (both paths would pay it alike)
// and no bandwidth limit (the .wasm download costs one round trip, not its slow start). The test peer replays
// synthnet (mainnet-shaped, signed) live, so the consumers are unmodified Helios 0.11.1 and
// Lodestar's light client, as in tests/browser/helios.mjs, whose clock trick this reuses: the
// peer and bridge start their clock at the stream's last new finalized header minus a minute and
// each page's Date.now() is moved by the bridge's clockOffsetMs. Every RTT gets fresh processes
// (the stream lasts six minutes from there).
//
// Consumers, each in a fresh browser context (empty HTTP cache), timed by performance.now()
// (ms since the page's navigation started), both paths:
//   ours      BeaconP2P.connect → finalityUpdate() → sync({checkpoint}) (our light-client store);
//             over REST: the same client with only `rpc` (no bridge);
//   fetch     REST only: fetch(finality_update).json() — the baseline for the first update;
//   lodestar  Lightclient.initializeFromCheckpointRoot + start() (resolves once it tracks the
//             head) on client.lightClientTransport(ssz), or on a REST transport (JSON + fromJson);
//   helios    createHeliosProvider + waitSynced() on client.consensusRpcUrl(), or on the REST API.
// Round trips per phase are counted from the proxies' traces (delay-proxy.mjs roundTrips()).
//
//   node bench/js/wan.mjs --out FILE [--rtt 0,20,50,100] [--runs 3] [--peer-rtt-ms 2]
//                         [--consumers fetch,ours,lodestar,helios] [--trace-dir DIR]
// Prints progress on stderr; writes the measurements as JSON to --out (bench/lib/wan_rows.py
// turns them into rows).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { capturePage, launchChromium, ROOT, startWithHello, stopAll, stopOnSignal, freePort } from "../../tests/browser/lib.mjs";
import { roundTrips, startDelayProxy } from "./delay-proxy.mjs";

const { values: args } = parseArgs({
  options: {
    out: { type: "string" },
    rtt: { type: "string", default: "0,20,50,100" },
    runs: { type: "string", default: "3" },
    "peer-rtt-ms": { type: "string", default: "2" },
    bridge: { type: "string", default: join(ROOT, "target/release/beacon-p2p") },
    consumers: { type: "string", default: "fetch,ours,lodestar,helios" },
    // Writes each cell's slice of the three proxies' traces (ms from page start) to DIR.
    "trace-dir": { type: "string" },
  },
});
if (!args.out) {
  console.error("wan.mjs: --out FILE is required");
  process.exit(2);
}
if (args["trace-dir"]) mkdirSync(args["trace-dir"], { recursive: true });
const RTTS = args.rtt.split(",").map(Number);
const RUNS = Number(args.runs);
const PEER_RTT = Number(args["peer-rtt-ms"]);
const CONSUMERS = args.consumers.split(",");
const SYNTHNET = join(ROOT, "tests/data/synthnet");
const EXECUTION_RPC = "http://127.0.0.1:9/"; // Helios never needs it to sync (port 9: discard)
const STEP_TIMEOUT_MS = 120_000;
const log = (...parts) => console.error("[wan]", ...parts);
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

/**
 * What runs in the page: `consumer` over `path` ("p2p" or "rest"). Returns the marks (ms since
 * navigation start) of each phase that ended, and the page's time origin (epoch ms).
 */
function inPage(consumer, path, restBase, checkpoint, executionRpc) {
  const marks = {};
  const mark = (name) => (marks[name] = performance.now());
  const lodestarRest = (lodestar, base) => {
    const get = async (route) => {
      const response = await fetch(base + route);
      if (!response.ok) throw new Error(`GET ${route}: HTTP ${response.status}`);
      return response.json();
    };
    const typed = (kind, json) => ({ version: json.version, data: lodestar.ssz[json.version][kind].fromJson(json.data) });
    return {
      getBootstrap: async (root) => typed("LightClientBootstrap", await get(`/eth/v1/beacon/light_client/bootstrap/${root}`)),
      getUpdates: async (start, count) =>
        (await get(`/eth/v1/beacon/light_client/updates?start_period=${start}&count=${count}`)).map((u) => typed("LightClientUpdate", u)),
      getFinalityUpdate: async () => typed("LightClientFinalityUpdate", await get("/eth/v1/beacon/light_client/finality_update")),
      getOptimisticUpdate: async () => typed("LightClientOptimisticUpdate", await get("/eth/v1/beacon/light_client/optimistic_update")),
      onFinalityUpdate() {},
      onOptimisticUpdate() {},
    };
  };
  const ourClient = async () => {
    const wasm = await import("/pkg/beacon_p2p.js");
    await wasm.default();
    mark("wasm");
    const options = path === "p2p" ? { network: "mainnet", bridges: [location.origin] } : { network: "mainnet", rpc: [restBase] };
    const client = await wasm.BeaconP2P.connect(options);
    mark("connected");
    return client;
  };
  const run = async () => {
    if (consumer === "fetch") {
      const response = await fetch(`${restBase}/eth/v1/beacon/light_client/finality_update`);
      await response.json();
      mark("finality");
    } else if (consumer === "ours") {
      const client = await ourClient();
      await client.finalityUpdate();
      mark("finality");
      await client.sync({ checkpoint });
      mark("verified");
      await client.close();
    } else if (consumer === "lodestar") {
      const [client, lodestar, network] = await Promise.all([
        path === "p2p" ? ourClient() : null,
        import("/vendor/lodestar-mainnet.js"),
        fetch("/network").then((r) => r.json()),
      ]);
      mark("loaded");
      const { Lightclient, chainConfigFromYaml } = lodestar;
      const transport = path === "p2p" ? client.lightClientTransport(lodestar.ssz) : lodestarRest(lodestar, restBase);
      const quiet = { error() {}, warn() {}, info() {}, debug() {} };
      const lightclient = await Lightclient.initializeFromCheckpointRoot({
        config: chainConfigFromYaml(network.configYaml),
        logger: quiet,
        transport,
        genesisData: { genesisTime: Number(network.genesisTime), genesisValidatorsRoot: network.genesisValidatorsRoot },
        checkpointRoot: Uint8Array.from(checkpoint.slice(2).match(/../g), (b) => parseInt(b, 16)),
      });
      mark("bootstrapped");
      await lightclient.start();
      mark("verified");
      lightclient.stop();
      await client?.close();
    } else if (consumer === "helios") {
      const [client, helios] = await Promise.all([path === "p2p" ? ourClient() : null, import("/vendor/helios.mjs")]);
      mark("loaded");
      const consensusRpc = path === "p2p" ? client.consensusRpcUrl() : restBase;
      const provider = await helios.createHeliosProvider(
        { network: "mainnet", consensusRpc, executionRpc, checkpoint, dbType: "config" },
        "ethereum",
      );
      mark("created");
      await provider.waitSynced();
      mark("verified");
      await provider.shutdown?.();
      await client?.close();
    } else {
      throw new Error(`unknown consumer ${consumer}`);
    }
  };
  return run().then(
    () => ({ marks, timeOrigin: performance.timeOrigin }),
    (error) => ({ marks, timeOrigin: performance.timeOrigin, error: String(error?.message ?? error) }),
  );
}

/** Runs one consumer once in a fresh browser context; returns marks and round trips per phase. */
async function measure(browser, setup, consumer, path) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  capturePage(page, `[${consumer}/${path}]`);
  try {
    await page.evaluateOnNewDocument((offset) => {
      const wallClock = Date.now.bind(Date);
      Date.now = () => wallClock() + offset;
    }, setup.clockOffsetMs);
    const started = Date.now();
    await page.goto(`${setup.origin}/healthz`, { waitUntil: "load" });
    const result = await Promise.race([
      page.evaluate(inPage, consumer, path, setup.rest, setup.checkpoint, EXECUTION_RPC),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no result in ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS)),
    ]);
    if (result.error) throw new Error(`${consumer} over ${path}: ${result.error}`);
    // Phases in mark order; round trips the browser waited for in each, on A (bridge) and C (REST).
    const origin = result.timeOrigin;
    const phases = [];
    let from = Math.min(origin, started);
    for (const [name, at] of Object.entries(result.marks).sort((a, b) => a[1] - b[1])) {
      const to = origin + at;
      phases.push({
        name,
        ms: at,
        bridge: roundTrips(setup.proxies.bridge.trace, from, to),
        rest: roundTrips(setup.proxies.rest.trace, from, to),
        peer: roundTrips(setup.proxies.peer.trace, from, to),
      });
      from = to;
    }
    if (args["trace-dir"]) {
      const start = Math.min(origin, started);
      const slice = (trace) => trace.filter((e) => e.at >= start).map((e) => ({ ...e, at: e.at - start }));
      const name = `${setup.rtt}ms-${consumer}-${path}-${setup.cellCount++}.json`;
      const traces = { marks: result.marks, bridge: slice(setup.proxies.bridge.trace), rest: slice(setup.proxies.rest.trace), peer: slice(setup.proxies.peer.trace) };
      writeFileSync(join(args["trace-dir"], name), JSON.stringify(traces));
    }
    return { marks: result.marks, phases };
  } finally {
    await context.close().catch(() => {});
  }
}

/** Starts the peer, the bridge and the three proxies for one RTT. */
async function startNetwork(rtt, meta, clockStart) {
  const started = [];
  const peer = await startWithHello("peer", "node", [
    "tests/peer/peer.mjs",
    "--data", "tests/data/synthnet",
    "--clock-start", String(clockStart),
    "--port", "0",
    "--rest-port", "0",
  ]);
  started.push(peer);
  const [peerHost, peerPort] = [peer.hello.multiaddr.split("/")[2], Number(peer.hello.multiaddr.split("/")[4])];
  const [restHost, restPort] = peer.hello.rest.split(":");
  const proxies = {
    peer: await startDelayProxy({ upstream: { host: peerHost, port: peerPort }, oneWayMs: PEER_RTT / 2, label: "peer" }),
    rest: await startDelayProxy({ upstream: { host: restHost, port: Number(restPort) }, oneWayMs: rtt / 2, label: "rest" }),
  };
  const port = await freePort();
  const bridge = await startWithHello(
    "bridge",
    args.bridge,
    [
      "bridge",
      "--network", "mainnet",
      "--clock-start", String(clockStart),
      "--listen", `127.0.0.1:${port}`,
      "--no-discovery",
      "--peer", `/ip4/127.0.0.1/tcp/${proxies.peer.port}/p2p/${peer.hello.peerId}`,
      "--allow-private",
      "--www", join(ROOT, "www"),
    ],
    { env: { RUST_LOG: process.env.RUST_LOG ?? "beacon_p2p=warn" } },
  );
  started.push(bridge);
  proxies.bridge = await startDelayProxy({ upstream: { host: "127.0.0.1", port }, oneWayMs: rtt / 2, label: "bridge" });
  const origin = `http://127.0.0.1:${proxies.bridge.port}`;
  // The bridge's own client must have the peer before a page asks for it.
  const network = await (await fetch(`http://127.0.0.1:${port}/network`)).json();
  for (let i = 0; i < 300; i++) {
    const peers = await (await fetch(`http://127.0.0.1:${port}/peers`)).json().catch(() => []);
    if (Array.isArray(peers) ? peers.length : peers.peers?.length) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    rtt,
    cellCount: 0,
    started,
    proxies,
    origin,
    rest: `http://127.0.0.1:${proxies.rest.port}`,
    clockOffsetMs: network.clockOffsetMs,
    checkpoint: meta.checkpoint_root,
    async stop() {
      for (const proxy of Object.values(proxies)) await proxy.close();
    },
  };
}

let browser;
let running = [];
stopOnSignal("wan", () => [browser, ...running]);
const results = { rtts: RTTS, runs: RUNS, peerRttMs: PEER_RTT, cells: [] };
let failed = false;
try {
  const meta = readJson(join(SYNTHNET, "meta.json"));
  const arrivals = readJson(join(SYNTHNET, "arrivals.json"));
  const lastFinalized = arrivals.filter((a) => a.new_finalized).at(-1);
  browser = await launchChromium();
  for (const rtt of RTTS) {
    const clockStart = meta.genesis_time + lastFinalized.t - 60;
    const setup = await startNetwork(rtt, meta, clockStart);
    running = setup.started;
    log(`RTT ${rtt} ms: bridge behind ${setup.origin}, REST behind ${setup.rest}, peer leg ${PEER_RTT} ms`);
    try {
      for (let run = 0; run < RUNS; run++) {
        for (const consumer of CONSUMERS) {
          const paths = consumer === "fetch" ? ["rest"] : run % 2 === 0 ? ["p2p", "rest"] : ["rest", "p2p"];
          for (const path of paths) {
            const cell = await measure(browser, setup, consumer, path);
            results.cells.push({ rtt, run, consumer, path, ...cell });
            log(`RTT ${rtt} run ${run} ${consumer}/${path}: ${cell.phases.map((p) => `${p.name} ${p.ms.toFixed(0)} ms (rt A ${p.bridge.critical}, C ${p.rest.critical}, B ${p.peer.critical})`).join(", ")}`);
          }
        }
      }
    } finally {
      await setup.stop();
      await stopAll(null, setup.started);
      running = [];
    }
  }
} catch (error) {
  failed = true;
  console.error(`wan: FAIL: ${error.message}`);
} finally {
  await stopAll(browser, running);
}
writeFileSync(args.out, JSON.stringify(results, null, 1));
process.exit(failed ? 1 : 0);
