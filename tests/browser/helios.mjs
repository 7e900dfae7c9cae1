// Helios in a real browser, fed only by beacon-p2p. The js-libp2p test peer replays synthnet (a
// signed mainnet-shaped chain, tests/data/synthnet) live from the first entry of its arrival stream;
// the release bridge (--network mainnet) relays to it and serves www/; headless Chromium opens the
// demo page with ?replay&checkpoint=<synthnet checkpoint>. On the page:
//   - Helios 0.11.1 (unmodified, @a16z/helios from npm) runs with consensusRpc =
//     client.consensusRpcUrl(): it must sync (waitSynced), and eth_blockNumber /
//     eth_getBlockByNumber("latest") must be the execution payload of the newest header it
//     verified; every consensus request it made must have been answered by the wasm client
//     (counted in the page) and no request may leave the page except to the bridge (counted by
//     Chromium);
//   - Lodestar's light client (mainnet bundle) verifies the same chain from the same checkpoint
//     through client.lightClientTransport(ssz): 9 sync-committee periods, across Fulu and BPO1.
// Then a fresh page runs Helios against the test peer's own REST API (same data, same clock), and
// the two create → synced times are printed side by side; and another runs it through the
// service-worker recipe (www/consensus-sw.js: a client inside the worker answers Helios's URL).
// Screenshot: tests/browser/out/helios.png.
//
// Why the clock is moved: Helios has mainnet's genesis built in and reads Date.now(); it rejects
// updates from the future and refuses to answer with a head older than a minute. The peer and the
// bridge run with --clock-start (their clock starts at the stream's first arrival), the bridge's
// /network says so (clockOffsetMs), and the page in ?replay mode replaces Date.now() by the same
// offset before the wasm client, Lodestar or Helios load (web-time's SystemTime, which the wasm
// client reads, is Date.now() too). The REST page gets the same Date.now() before its first script.
//
//   node tests/browser/helios.mjs          (scripts/browser-test.sh builds everything first)
// env: BRIDGE_BIN (default target/release/beacon-p2p), TIMEOUT_SECONDS (per step, 180),
//      BROWSER_TEST_LOG=1 (peer, bridge and page logs on stderr).
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { capturePage, freePort, launchChromium, ROOT, startWithHello, stopAll, stopOnSignal, waitFor } from "./lib.mjs";

const BRIDGE = process.env.BRIDGE_BIN ?? join(ROOT, "target/release/beacon-p2p");
const STEP_TIMEOUT = 1000 * Number(process.env.TIMEOUT_SECONDS ?? 180);
const OUT = join(ROOT, "tests/browser/out");
const SYNTHNET = join(ROOT, "tests/data/synthnet");
// Helios asks the execution RPC only for state; nothing here may reach it (port 9: discard).
const EXECUTION_RPC = "http://127.0.0.1:9/";

const log = (...args) => console.log("[helios]", ...args);
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

function checkPrerequisites() {
  const missing = [];
  if (!existsSync(BRIDGE)) missing.push(`${BRIDGE} (cargo build --release --locked --bin beacon-p2p)`);
  for (const file of ["www/vendor/lodestar-mainnet.js", "www/vendor/helios.mjs"]) {
    if (!existsSync(join(ROOT, file))) missing.push(`${file} (scripts/www.sh)`);
  }
  if (!existsSync(join(ROOT, "www/pkg/beacon_p2p.js"))) missing.push("www/pkg/beacon_p2p.js (scripts/www.sh --pkg)");
  if (!existsSync(join(ROOT, "tests/peer/node_modules"))) missing.push("tests/peer/node_modules (scripts/setup.sh)");
  if (missing.length) throw new Error(`missing: ${missing.join("; ")}`);
}

/** Every synthnet block by its execution block hash: {slot, root, number}. */
function blocksByExecutionHash() {
  const byHash = new Map();
  for (const name of readdirSync(join(SYNTHNET, "blocks")).filter((n) => /^\d+_0x[0-9a-f]{64}\.json$/.test(n))) {
    const [slot, root] = name.replace(/\.json$/, "").split("_");
    const payload = readJson(join(SYNTHNET, "blocks", name)).data.message.body.execution_payload;
    byHash.set(payload.block_hash.toLowerCase(), { slot: Number(slot), root, number: Number(payload.block_number) });
  }
  return byHash;
}

/** The page's state, as the demo page keeps it in window.demo. */
function readPage(page) {
  return page.evaluate(() => {
    const demo = window.demo ?? {};
    const helios = demo.helios ?? {};
    return {
      status: demo.client ? "connected" : "starting",
      finalizedSlot: demo.finalized?.slot ?? null,
      optimisticSlot: demo.optimistic?.slot ?? null,
      clockOffsetMs: demo.clockOffsetMs,
      lc: demo.lc,
      helios: {
        status: helios.status,
        checkpoint: helios.checkpoint,
        consensusRpc: helios.consensusRpc,
        createMs: helios.createMs,
        syncMs: helios.syncMs,
        blockNumber: helios.blockNumber,
        blockHash: helios.blockHash,
        finalizedNumber: helios.finalizedNumber,
        requests: (helios.requests ?? []).map((r) => ({ ...r })),
      },
      errors: (demo.errors ?? []).map((e) => e.message),
    };
  });
}

/** Asks the page's Helios for the latest block twice in a row until both answers agree. */
function heliosHead(page) {
  return page.evaluate(async () => {
    const provider = window.demo.heliosProvider;
    const ask = (method, ...params) => provider.request({ method, params });
    const number = Number(await ask("eth_blockNumber"));
    const latest = await ask("eth_getBlockByNumber", "latest", false);
    const finalized = await ask("eth_getBlockByNumber", "finalized", false);
    return {
      number,
      latestNumber: Number(latest.number),
      latestHash: latest.hash.toLowerCase(),
      finalizedNumber: Number(finalized.number),
      finalizedHash: finalized.hash.toLowerCase(),
      optimisticSlot: window.demo.optimistic?.slot ?? null,
      finalizedSlot: window.demo.finalized?.slot ?? null,
    };
  });
}

/**
 * Runs Helios in a fresh page of `origin` (its wasm loads again), nothing else on the page:
 *   mode "rest": against `consensusRpc` (the test peer's Beacon API);
 *   mode "client": against a wasm client of the page's own (`consensusRpcUrl()`), connected
 *     first (its connect time is reported apart);
 *   mode "service-worker": the page registers www/consensus-sw.js, which answers `consensusRpc`
 *     with a client of its own, and checks one request through it first.
 * Resolves the timings (ms) and Helios's head.
 */
async function heliosInFreshPage(browser, origin, clockOffsetMs, { mode, consensusRpc }, checkpoint) {
  const page = await browser.newPage();
  capturePage(page, `[${mode} page]`);
  // Date.now() moved before any script runs; the wasm client reads it too (web-time).
  await page.evaluateOnNewDocument((offset) => {
    const wallClock = Date.now.bind(Date);
    Date.now = () => wallClock() + offset;
  }, clockOffsetMs);
  await page.goto(`${origin}/healthz`, { waitUntil: "load" });
  try {
    return await page.evaluate(async (heliosUrl, how, given, root, executionRpc) => {
      let rpc = given;
      let probe = null;
      let connectMs = null;
      if (how === "service-worker") {
        await navigator.serviceWorker.register("/consensus-sw.js", { type: "module" });
        await navigator.serviceWorker.ready;
        // The worker claims its pages when it activates.
        for (let i = 0; i < 100 && !navigator.serviceWorker.controller; i++) await new Promise((done) => setTimeout(done, 100));
        if (!navigator.serviceWorker.controller) throw new Error("consensus-sw.js does not control the page");
        const response = await fetch(`${rpc}/eth/v1/beacon/light_client/finality_update`);
        const body = await response.json();
        if (!response.ok) throw new Error(`finality_update through the service worker: ${response.status} ${JSON.stringify(body)}`);
        probe = Number(body.data.finalized_header.beacon.slot);
      } else if (how === "client") {
        const wasm = await import("/pkg/beacon_p2p.js");
        await wasm.default();
        const connecting = performance.now();
        const client = await wasm.BeaconP2P.connect({ network: "mainnet", bridges: [location.origin] });
        await client.finalityUpdate(); // connected and answering, as the demo page is before Helios starts
        connectMs = Math.round(performance.now() - connecting);
        rpc = client.consensusRpcUrl();
      }
      const { createHeliosProvider } = await import(heliosUrl);
      const started = performance.now();
      const provider = await createHeliosProvider(
        { network: "mainnet", consensusRpc: rpc, executionRpc, checkpoint: root, dbType: "config" },
        "ethereum",
      );
      const createMs = performance.now() - started;
      await provider.waitSynced();
      const syncMs = performance.now() - started;
      const number = Number(await provider.request({ method: "eth_blockNumber", params: [] }));
      await provider.shutdown?.();
      return { createMs: Math.round(createMs), syncMs: Math.round(syncMs), number, probe, connectMs };
    }, `${origin}/vendor/helios.mjs`, mode, consensusRpc ?? null, checkpoint, EXECUTION_RPC);
  } finally {
    await page.close();
  }
}

const routeOf = (url) => {
  const path = new URL(url).pathname;
  if (path.startsWith("/eth/v2/beacon/blocks/")) return "blocks";
  const match = /^\/eth\/v1\/beacon\/light_client\/([a-z_]+)/.exec(path);
  return match ? match[1] : path;
};

let peer;
let bridge;
let browser;
let failed = false;
stopOnSignal("helios", () => [browser, bridge, peer]);
try {
  checkPrerequisites();
  mkdirSync(OUT, { recursive: true });
  const meta = readJson(join(SYNTHNET, "meta.json"));
  const arrivals = readJson(join(SYNTHNET, "arrivals.json"));
  // The stream has a finality and an optimistic update per slot for 12 minutes, but a new
  // finalized header only twice, and Lodestar learns finality from gossip once it runs: start the
  // clock a minute before the last new one (6 minutes of stream left, for Helios's freshness rule).
  const lastFinalized = arrivals.filter((a) => a.new_finalized).at(-1);
  const clockStart = meta.genesis_time + lastFinalized.t - 60;
  const blocks = blocksByExecutionHash();
  const knownNumbers = () => new Set([...blocks.values()].map((b) => b.number));

  peer = await startWithHello("peer", "node", [
    "tests/peer/peer.mjs",
    "--data", "tests/data/synthnet",
    "--clock-start", String(clockStart),
    "--port", "0",
    "--muxers", "mplex",
    "--rest-port", "0",
  ]);
  log(`test peer ${peer.hello.peerId} at ${peer.hello.multiaddr}, REST ${peer.hello.rest} (pid ${peer.child.pid}), clock from ${clockStart}`);

  const port = await freePort();
  bridge = await startWithHello(
    "bridge",
    BRIDGE,
    [
      "bridge",
      "--network", "mainnet",
      "--clock-start", String(clockStart),
      "--listen", `127.0.0.1:${port}`,
      "--no-discovery",
      "--peer", peer.hello.multiaddr,
      "--allow-private",
      "--www", join(ROOT, "www"),
    ],
    { env: { RUST_LOG: process.env.RUST_LOG ?? "beacon_p2p=info" } },
  );
  const origin = `http://${bridge.hello.listen}`;
  const network = await (await fetch(`${origin}/network`)).json();
  if (network.name !== "mainnet" || !(network.clockOffsetMs < 0)) {
    throw new Error(`the bridge's /network says ${network.name}, clockOffsetMs ${network.clockOffsetMs}: want mainnet, a clock in the past`);
  }
  log(`bridge at ${origin} (pid ${bridge.child.pid}), clock ${(network.clockOffsetMs / 86_400_000).toFixed(1)} days behind the wall clock`);

  browser = await launchChromium();
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1100 });
  const pageLog = capturePage(page);
  // Every request Chromium itself sends for this page (WebSockets are not requests here).
  const leftThePage = [];
  page.on("request", (request) => leftThePage.push(request.url()));
  const opened = Date.now();
  await page.goto(`${origin}/?replay&checkpoint=${meta.checkpoint_root}`, { waitUntil: "load" });

  const synced = await waitFor("Helios to sync (waitSynced) through the wasm client", STEP_TIMEOUT, async () => {
    const state = await readPage(page);
    if (state.helios.status === "error") throw new Error(`Helios failed: ${state.errors.filter((e) => e.startsWith("Helios")).at(-1)}`);
    return state.helios.blockNumber !== null ? state : null;
  }, 500);
  log(`Helios synced from ${synced.helios.checkpoint} in ${synced.helios.syncMs} ms (createHeliosProvider ${synced.helios.createMs} ms of it, with its wasm) after ${Date.now() - opened} ms`);

  // eth_blockNumber and the latest block: the execution payload of the newest header Helios
  // verified, which is the newest optimistic header the client got (or one a slot or two behind:
  // Helios polls every 12 s while the stream moves on).
  const head = await waitFor("Helios's head to be the newest verified header's payload", STEP_TIMEOUT, async () => {
    const h = await heliosHead(page);
    const block = blocks.get(h.latestHash);
    if (!block) throw new Error(`Helios's latest block hash ${h.latestHash} is no synthnet block`);
    const fresh = h.optimisticSlot !== null && block.slot <= h.optimisticSlot && block.slot >= h.optimisticSlot - 2;
    return h.number === h.latestNumber && h.number === block.number && fresh ? { ...h, block } : null;
  }, 1000);
  const finalizedBlock = blocks.get(head.finalizedHash);
  if (!finalizedBlock || finalizedBlock.number !== head.finalizedNumber) {
    throw new Error(`Helios's finalized block ${head.finalizedHash} #${head.finalizedNumber} is not a synthnet payload`);
  }
  log(`Helios: eth_blockNumber ${head.number} = payload of slot ${head.block.slot} (block ${head.block.root}), the client's newest optimistic header is slot ${head.optimisticSlot}; finalized #${head.finalizedNumber} (slot ${finalizedBlock.slot})`);

  const lodestar = await waitFor("Lodestar to verify the newest finalized header (from gossip)", STEP_TIMEOUT, async () => {
    const state = await readPage(page);
    const lc = state.lc;
    if (lc.status === "error") throw new Error(`Lodestar failed: ${state.errors.at(-1)}`);
    if (lc.rejected) throw new Error(`Lodestar rejected ${lc.rejected} update(s): ${state.errors.at(-1)}`);
    return lc.finalizedSlot === lastFinalized.finalized_slot && lc.headSlot >= lastFinalized.attested_slot ? state : null;
  }, 500);
  log(`Lodestar from ${lodestar.lc.checkpointRoot}: status ${lodestar.lc.status}, verified finalized ${lodestar.lc.finalizedSlot}, head ${lodestar.lc.headSlot} (${lodestar.lc.rejected} rejected)`);

  // The page's Helios panel shows the numbers; the screenshot has all three panels.
  await waitFor("the Helios panel to show the block number", 10_000, async () => (await readPage(page)).helios.blockNumber !== null);
  const shot = join(OUT, "helios.png");
  await page.screenshot({ path: shot, fullPage: true });
  log(`screenshot: ${shot}`);

  // Every consensus request Helios made went to the client's URL and was answered there.
  const final = await readPage(page);
  const requests = final.helios.requests;
  const ours = requests.filter((r) => r.to === "client");
  const elsewhere = requests.filter((r) => r.to === "other");
  const byRoute = {};
  for (const r of ours) {
    const key = `${routeOf(r.url)} ${r.status}`;
    byRoute[key] = (byRoute[key] ?? 0) + 1;
  }
  log(`Helios's requests answered by the wasm client: ${ours.length} (${Object.entries(byRoute).map(([k, n]) => `${k} ×${n}`).join(", ")}); the client's own to the bridge: ${requests.filter((r) => r.to === "bridge").length}; to other hosts: ${elsewhere.length}`);
  const heliosStart = ours[0].at;
  log(`Helios's first requests (ms after the first, duration): ${ours.slice(0, 8).map((r) => `${routeOf(r.url)} +${r.at - heliosStart} ${r.ms} ms`).join("; ")}`);
  if (elsewhere.length) throw new Error(`Helios fetched outside the client: ${elsewhere.map((r) => r.url).join(", ")}`);
  for (const route of ["bootstrap", "updates", "finality_update", "blocks"]) {
    if (!ours.some((r) => routeOf(r.url) === route && r.status === 200)) throw new Error(`no ${route} request of Helios was answered (200): ${JSON.stringify(byRoute)}`);
  }
  // Finished (ms set) without a response, or with a server error; one still in flight is neither.
  const failedAnswers = ours.filter((r) => r.ms !== null && (r.status === null || r.status >= 500));
  if (failedAnswers.length) throw new Error(`the client failed ${failedAnswers.length} of Helios's requests: ${failedAnswers.map((r) => `${r.url} ${r.status}`).join(", ")}`);
  const outside = leftThePage.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith("data:"));
  if (outside.length) throw new Error(`requests left the page to other hosts than the bridge: ${outside.join(", ")}`);
  log(`Chromium sent ${leftThePage.length} requests for the page, all to the bridge`);
  if (final.errors.length) {
    for (const message of final.errors.slice(-10)) log(`  ${message}`);
    throw new Error(`the page showed ${final.errors.length} error(s); the last: ${final.errors.at(-1)}`);
  }

  // The same Helios against the peer's own Beacon REST API, in a fresh page (its wasm loads again).
  const restRequestsBefore = peer.lines.filter((line) => line.includes('"event":"rest-request"')).length;
  const rest = await heliosInFreshPage(browser, origin, network.clockOffsetMs, { mode: "rest", consensusRpc: `http://${peer.hello.rest}` }, meta.checkpoint_root);
  const restLines = peer.lines.filter((line) => line.includes('"event":"rest-request"')).slice(restRequestsBefore);
  const restRequests = restLines.length;
  log(`REST requests: ${restLines.map((line) => { const e = JSON.parse(line); return `${routeOf("http://x" + e.path)} ${e.status}`; }).join(", ")}`);
  if (restRequests < 4) throw new Error(`Helios on the REST API made only ${restRequests} requests to it`);
  // And through a wasm client of its own on an otherwise empty page: the demo page shares its
  // main thread with Lodestar verifying nine periods at the same moment.
  const alone = await heliosInFreshPage(browser, origin, network.clockOffsetMs, { mode: "client" }, meta.checkpoint_root);
  if (!knownNumbers().has(alone.number)) throw new Error(`Helios on a page's own client: head #${alone.number} is not synthnet's`);
  const p2p = final.helios;
  log(`Helios createHeliosProvider → waitSynced, one run: REST (the peer's Beacon API) ${rest.syncMs} ms; wasm client alone on its page ${alone.syncMs} ms (ratio ${(alone.syncMs / rest.syncMs).toFixed(2)}; the client's connect + first finality update before it ${alone.connectMs} ms); on the demo page next to Lodestar ${p2p.syncMs} ms (${(p2p.syncMs / rest.syncMs).toFixed(2)}); createHeliosProvider alone ${rest.createMs} / ${alone.createMs} / ${p2p.createMs} ms; REST requests ${restRequests}`);

  // The service-worker recipe: Helios in another fresh page, answered by www/consensus-sw.js.
  const worker = await heliosInFreshPage(browser, origin, network.clockOffsetMs, { mode: "service-worker", consensusRpc: "https://consensus.beacon-p2p.invalid" }, meta.checkpoint_root);
  if (!arrivals.some((a) => a.finalized_slot === worker.probe) || !knownNumbers().has(worker.number)) {
    throw new Error(`through the service worker: finalized slot ${worker.probe}, Helios head #${worker.number}: not synthnet's`);
  }
  log(`Helios through www/consensus-sw.js: finality update (finalized slot ${worker.probe}), synced in ${worker.syncMs} ms, head #${worker.number}`);
  log(`page console lines: ${pageLog.length}`);
  console.log(`helios: ok — Helios synced through the wasm client in ${alone.syncMs} ms alone, ${p2p.syncMs} ms next to Lodestar (REST ${rest.syncMs} ms, service worker ${worker.syncMs} ms), head #${head.number} slot ${head.block.slot}, finalized #${head.finalizedNumber}; ${ours.length} consensus requests, all answered in the page; Lodestar verified finalized ${lodestar.lc.finalizedSlot}, head ${lodestar.lc.headSlot}`);
} catch (error) {
  failed = true;
  console.error(`helios: FAIL: ${error.message}`);
  if (process.env.BROWSER_TEST_LOG) console.error(error.stack);
  if (browser) {
    try {
      const [page] = (await browser.pages()).slice(-1);
      if (page) {
        mkdirSync(OUT, { recursive: true });
        await page.screenshot({ path: join(OUT, "helios-failure.png"), fullPage: true });
        const state = await readPage(page);
        state.helios.requests = state.helios.requests.slice(-20);
        console.error(`helios: page at failure: ${JSON.stringify(state)}`);
      }
    } catch {}
  }
  if (bridge) console.error(`helios: bridge stderr tail:\n${bridge.stderrTail().slice(-1500)}`);
  if (peer) console.error(`helios: peer stderr tail:\n${peer.stderrTail().slice(-1500)}`);
} finally {
  await stopAll(browser, [bridge, peer]);
}
process.exit(failed ? 1 : 0);
