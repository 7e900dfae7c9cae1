// End-to-end test of the demo page with the release artifacts: the js-libp2p test peer replays the
// signed devnet capture, the release bridge relays to it and serves www/ (with the release wasm
// package in www/pkg and the Lodestar bundles in www/vendor), and headless Chromium opens
// /?replay. It asserts that the wasm client got a finalized header and a gossip finality update,
// and that Lodestar's light client bootstrapped from the checkpoint, verified the head advancing
// at least twice and a finality update past the checkpoint; saves tests/browser/out/demo.png and prints connect → first finality (ms).
//
//   node tests/browser/demo.mjs          (scripts/browser-test.sh builds everything first)
// env: BRIDGE_BIN (default target/release/beacon-p2p), BROWSER_SOAK_SECONDS (keep the page open
// that long, print JS heap and wasm memory at start and end), TIMEOUT_SECONDS (per step, 120),
// BROWSER_TEST_LOG=1 (peer, bridge and page logs on stderr), DEMO_CLIENT=http (check the page
// with tests/browser/pages/http-client, a stand-in over the bridge's HTTP routes, instead of the
// wasm package: for the page's own logic only; it does not test the wasm client).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { capturePage, freePort, launchChromium, ROOT, sleep, startWithHello, stopAll, stopOnSignal, waitFor } from "./lib.mjs";

const BRIDGE = process.env.BRIDGE_BIN ?? join(ROOT, "target/release/beacon-p2p");
const STEP_TIMEOUT = 1000 * Number(process.env.TIMEOUT_SECONDS ?? 120);
const SOAK_SECONDS = Number(process.env.BROWSER_SOAK_SECONDS ?? 0);
const OUT = join(ROOT, "tests/browser/out");
const HTTP_STAND_IN = process.env.DEMO_CLIENT === "http";

const log = (...args) => console.log("[demo]", ...args);

/** www/ as the bridge serves it: the real directory, or (DEMO_CLIENT=http) a temporary copy of
 * links to its files with pkg/ pointing at the HTTP stand-in. */
function wwwDir() {
  if (!HTTP_STAND_IN) return { dir: join(ROOT, "www"), cleanup() {} };
  const dir = mkdtempSync(join(tmpdir(), "beacon-p2p-www-"));
  for (const name of readdirSync(join(ROOT, "www"))) {
    if (name !== "pkg" && name !== "lodestar") symlinkSync(join(ROOT, "www", name), join(dir, name));
  }
  symlinkSync(join(ROOT, "tests/browser/pages/http-client"), join(dir, "pkg"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function checkPrerequisites() {
  const missing = [];
  if (!existsSync(BRIDGE)) missing.push(`${BRIDGE} (cargo build --release --locked --bin beacon-p2p)`);
  for (const preset of ["minimal", "mainnet"]) {
    const file = join(ROOT, `www/vendor/lodestar-${preset}.js`);
    if (!existsSync(file)) missing.push(`${file} (scripts/www.sh)`);
  }
  if (!HTTP_STAND_IN && !existsSync(join(ROOT, "www/pkg/beacon_p2p.js"))) missing.push("www/pkg/beacon_p2p.js (scripts/www.sh --pkg)");
  if (!existsSync(join(ROOT, "tests/peer/node_modules"))) missing.push("tests/peer/node_modules (scripts/setup.sh)");
  if (missing.length) throw new Error(`missing: ${missing.join("; ")}`);
}

/** The page's numbers and state, read in the page. */
function readPage(page) {
  return page.evaluate(() => {
    const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent.trim() ?? null;
    const num = (id) => (/^\d+$/.test(text(id) ?? "") ? Number(text(id)) : null);
    const demo = window.demo ?? {};
    return {
      status: text("status"),
      finalizedSlot: num("finalized-slot"),
      optimisticSlot: num("optimistic-slot"),
      period: num("period"),
      peerCount: num("peer-count"),
      firstFinalityMs: num("first-finality-ms"),
      gossipCount: num("gossip-count"),
      gossipFinality: num("gossip-finality-count"),
      gossipOptimistic: num("gossip-optimistic-count"),
      timelineFinalityRows: document.querySelectorAll('[data-testid="timeline"] tr[data-kind="finality"]').length,
      lcStatus: text("lc-status"),
      lcCheckpoint: text("lc-checkpoint"),
      lcFinalizedSlot: num("lc-finalized-slot"),
      lcHeadSlot: num("lc-head-slot"),
      lcHeadAdvances: num("lc-head-advances"),
      lcRejected: num("lc-rejected"),
      bpStatus: text("bp-status"),
      bpFinalizedSlot: num("bp-finalized-slot"),
      bpOptimisticSlot: num("bp-optimistic-slot"),
      bpSyncMs: num("bp-sync-ms"),
      bpInvalid: num("bp-invalid"),
      sources: Array.from(document.querySelectorAll('[data-testid="sources"] tr'), (row) =>
        Array.from(row.cells, (cell) => cell.textContent.trim())),
      sourceEvents: document.querySelectorAll('[data-testid="source-events"] li').length,
      replayShown: !document.getElementById("replay-panel").hidden,
      replayGenesis: text("replay-genesis"),
      replayShifts: num("replay-shifts"),
      errors: (demo.errors ?? []).map((e) => e.message),
      wasmMemoryBytes: typeof demo.wasmMemoryBytes === "function" ? demo.wasmMemoryBytes() : null,
      jsHeapUsed: performance.memory ? performance.memory.usedJSHeapSize : null,
    };
  });
}

async function memory(page, cdp) {
  const heap = await cdp.send("Runtime.getHeapUsage");
  const state = await readPage(page);
  return {
    cdpHeapUsed: heap.usedSize,
    cdpHeapTotal: heap.totalSize,
    performanceMemoryUsed: state.jsHeapUsed,
    wasmMemoryBytes: state.wasmMemoryBytes,
  };
}

const mib = (bytes) => (bytes == null ? "n/a" : `${(bytes / 1048576).toFixed(1)} MiB`);

let peer;
let www;
let bridge;
let browser;
let failed = false;
stopOnSignal("demo", () => [browser, bridge, peer]);
try {
  checkPrerequisites();
  mkdirSync(OUT, { recursive: true });
  www = wwwDir();
  if (HTTP_STAND_IN) log(`DEMO_CLIENT=http: the page gets the HTTP stand-in as its client (${www.dir}), NOT the wasm package`);

  // mplex only and strict about streams, like Lodestar: the page must keep its connection.
  peer = await startWithHello("peer", "node", ["tests/peer/peer.mjs", "--slot-ms", "2000", "--port", "0", "--muxers", "mplex", "--rest-port", "0"]);
  log(`test peer ${peer.hello.peerId} at ${peer.hello.multiaddr} (pid ${peer.child.pid}), replay head slot ${peer.hello.replay?.headSlot}`);

  const port = await freePort();
  bridge = await startWithHello(
    "bridge",
    BRIDGE,
    [
      "bridge",
      "--testnet-dir", "tests/data/devnet-capture",
      "--listen", `127.0.0.1:${port}`,
      "--no-discovery",
      "--peer", peer.hello.multiaddr,
      "--allow-private",
      "--www", www.dir,
    ],
    { env: { RUST_LOG: process.env.RUST_LOG ?? "beacon_p2p=info" } },
  );
  const origin = `http://${bridge.hello.listen}`;
  log(`bridge at ${origin} (pid ${bridge.child.pid})`);

  const offered = await waitFor("the bridge to offer the test peer in /peers", STEP_TIMEOUT, async () => {
    const peers = await (await fetch(`${origin}/peers`)).json();
    return peers.find((p) => p.peerId === peer.hello.peerId);
  });
  log(`/peers lists the peer: client ${offered.client}, servesLightClient ${offered.servesLightClient}`);

  browser = await launchChromium();
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  const pageLog = capturePage(page);
  const cdp = await page.createCDPSession();
  const opened = Date.now();
  // The peer's own REST API as the page's Beacon-API source: asked only when peers cannot answer.
  const rpc = `http://${peer.hello.rest}`;
  await page.goto(`${origin}/?replay&rpc=${encodeURIComponent(rpc)}`, { waitUntil: "load" });

  const first = await waitFor("finalized-slot to show a number", STEP_TIMEOUT, async () => {
    const state = await readPage(page);
    return state.finalizedSlot !== null ? state : null;
  });
  log(`finalized slot ${first.finalizedSlot} after ${Date.now() - opened} ms; connect → first finality update ${first.firstFinalityMs} ms`);
  if (!first.replayShown || !/^\d+/.test(first.replayGenesis ?? "")) throw new Error("the page does not show the ?replay genesis it uses");
  log(`replay mode shown: genesis ${first.replayGenesis}`);

  const gossip = await waitFor("a gossip finality update in the timeline", STEP_TIMEOUT, async () => {
    const state = await readPage(page);
    return state.gossipFinality > 0 && state.timelineFinalityRows > 0 ? state : null;
  });
  log(`gossip: ${gossip.gossipCount} updates (${gossip.gossipFinality} finality, ${gossip.gossipOptimistic} optimistic) after ${Date.now() - opened} ms`);

  const started = await waitFor("Lodestar to initialize from the checkpoint", STEP_TIMEOUT, async () => {
    const state = await readPage(page);
    return state.lcHeadSlot !== null && /^0x[0-9a-f]{64}/.test(state.lcCheckpoint ?? "") ? state : null;
  });
  log(`Lodestar bootstrapped from ${started.lcCheckpoint}: status ${started.lcStatus}, verified head ${started.lcHeadSlot}`);

  const heads = [started.lcHeadSlot];
  const followed = await waitFor("Lodestar's verified head to advance twice", STEP_TIMEOUT, async () => {
    const state = await readPage(page);
    if (state.lcHeadSlot !== null && state.lcHeadSlot > heads[heads.length - 1]) heads.push(state.lcHeadSlot);
    return heads.length >= 3 && state.lcHeadAdvances >= 2 ? state : null;
  }, 200);
  log(`Lodestar follows the head: ${heads.join(" → ")} (status ${followed.lcStatus}, verified finalized ${followed.lcFinalizedSlot}, ${followed.lcRejected ?? 0} rejected, ${followed.replayShifts} replay clock shifts)`);

  const checkpointSlot = Number(/\(slot (\d+)\)/.exec(followed.lcCheckpoint ?? "")?.[1]);
  const finalized = await waitFor("Lodestar to verify a finality update past the checkpoint", STEP_TIMEOUT, async () => {
    const state = await readPage(page);
    return state.lcFinalizedSlot !== null && state.lcFinalizedSlot > checkpointSlot ? state : null;
  });
  log(`Lodestar verified finalized slot ${finalized.lcFinalizedSlot} (checkpoint ${checkpointSlot}) after ${Date.now() - opened} ms`);

  if (!HTTP_STAND_IN) {
    // beacon-p2p's own store, from the same checkpoint, on the same page.
    const verified = await waitFor("beacon-p2p to verify a head from the checkpoint", STEP_TIMEOUT, async () => {
      const state = await readPage(page);
      return state.bpOptimisticSlot !== null && state.bpFinalizedSlot >= checkpointSlot ? state : null;
    });
    if (verified.bpInvalid !== 0) throw new Error(`the honest test peer's data failed verification ${verified.bpInvalid} times`);
    // The sources table: p2p answered, and the Beacon API is listed beside it.
    const sources = await waitFor("the sources table to show p2p answers and the Beacon API", STEP_TIMEOUT, async () => {
      const state = await readPage(page);
      const p2p = state.sources.find((row) => row[0] === "p2p");
      return p2p && Number(p2p[1]) > 0 && state.sources.some((row) => row[0] === rpc) ? state : null;
    });
    log(`sources: ${sources.sources.map((row) => `${row[0]} ${row[1]} answers, ${row[2]} failures, ${row[3]} misbehaved (${row[5]})`).join("; ")}; ${sources.sourceEvents} switch events`);
    log(`beacon-p2p verified finalized ${verified.bpFinalizedSlot}, optimistic ${verified.bpOptimisticSlot} (sync() ${verified.bpSyncMs} ms; status ${verified.bpStatus}); Lodestar: finalized ${verified.lcFinalizedSlot}, head ${verified.lcHeadSlot}`);
  }

  const shot = join(OUT, HTTP_STAND_IN ? "demo-http-stand-in.png" : "demo.png");
  await page.screenshot({ path: shot, fullPage: true });
  log(`screenshot: ${shot}`);

  if (SOAK_SECONDS > 0) {
    const start = await memory(page, cdp);
    const before = await readPage(page);
    log(`soak ${SOAK_SECONDS} s: start JS heap ${mib(start.cdpHeapUsed)} (performance.memory ${mib(start.performanceMemoryUsed)}), wasm memory ${mib(start.wasmMemoryBytes)}`);
    const soakStart = Date.now();
    while (Date.now() - soakStart < SOAK_SECONDS * 1000) {
      await sleep(Math.min(60_000, SOAK_SECONDS * 1000 - (Date.now() - soakStart)));
      const now = await memory(page, cdp);
      const state = await readPage(page);
      log(`  t=${Math.round((Date.now() - soakStart) / 1000)} s: JS heap ${mib(now.cdpHeapUsed)}, wasm ${mib(now.wasmMemoryBytes)}, gossip ${state.gossipCount}, verified head ${state.lcHeadSlot}, peers ${state.peerCount}, errors ${state.errors.length}`);
    }
    await cdp.send("HeapProfiler.collectGarbage").catch(() => {});
    const end = await memory(page, cdp);
    const after = await readPage(page);
    log(`soak end: JS heap ${mib(end.cdpHeapUsed)} (start ${mib(start.cdpHeapUsed)}), performance.memory ${mib(end.performanceMemoryUsed)} (start ${mib(start.performanceMemoryUsed)}), wasm memory ${mib(end.wasmMemoryBytes)} (start ${mib(start.wasmMemoryBytes)}); gossip ${before.gossipCount} → ${after.gossipCount}, verified head ${before.lcHeadSlot} → ${after.lcHeadSlot}`);
    await page.screenshot({ path: join(OUT, "demo-soak.png"), fullPage: true });
  }

  const final = await readPage(page);
  if (final.errors.length) {
    // A real Lodestar used to drop the page's connection (NO_PEERS … broken pipe in the Lodestar
    // panel); against the strict peer the page must show no error at all.
    for (const message of final.errors.slice(-10)) log(`  ${message}`);
    throw new Error(`the page showed ${final.errors.length} error(s); the last: ${final.errors.at(-1)}`);
  }
  log(`page console lines: ${pageLog.length}`);
  console.log(`demo${HTTP_STAND_IN ? " (HTTP stand-in, not wasm)" : ""}: ok — connect → first finality update ${first.firstFinalityMs} ms; finalized ${final.finalizedSlot}, optimistic ${final.optimisticSlot}, period ${final.period}, peers ${final.peerCount}, gossip ${final.gossipCount}; Lodestar ${final.lcStatus}, verified head ${final.lcHeadSlot}, finalized ${final.lcFinalizedSlot}`);
} catch (error) {
  failed = true;
  console.error(`demo: FAIL: ${error.message}`);
  if (browser) {
    try {
      const [page] = (await browser.pages()).slice(-1);
      if (page) {
        mkdirSync(OUT, { recursive: true });
        await page.screenshot({ path: join(OUT, "demo-failure.png"), fullPage: true });
        console.error(`demo: page at failure: ${JSON.stringify(await readPage(page))}`);
        console.error(`demo: screenshot ${join(OUT, "demo-failure.png")}`);
      }
    } catch {}
  }
  if (bridge) console.error(`demo: bridge stderr tail:\n${bridge.stderrTail().slice(-1500)}`);
} finally {
  await stopAll(browser, [bridge, peer]);
  www?.cleanup();
}
process.exit(failed ? 1 : 0);
