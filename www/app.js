// The demo page: the beacon-p2p wasm client in this tab, reaching consensus peers through the
// bridge that serves the page, and Lodestar's light client and Helios verifying what it fetches.
import { headerRoot, loadLodestar, startLightclient, toHex } from "./lc.js";
import { ReplayClock } from "./replay.js";

const BUILT_IN = ["mainnet", "sepolia", "holesky", "hoodi"];
const SLOTS_PER_PERIOD = { minimal: 8 * 8, mainnet: 32 * 256 };
const TIMELINE_ROWS = 60;
// The networks Helios has built in (fork versions, genesis): it takes no other.
const HELIOS_NETWORKS = ["mainnet", "sepolia", "holesky"];
const HELIOS_POLL_MS = 4000;

const params = new URLSearchParams(location.search);
const replay = params.has("replay");
// ?checkpoint=0x… starts Lodestar and Helios there (default: the newest finalized root fetched).
const checkpointParam = params.get("checkpoint");
// Helios asks an execution RPC only for state (balances, calls); block number and hash come from
// the consensus blocks. The default goes nowhere (port 9, discard).
const executionRpc = params.get("executionRpc") ?? "http://127.0.0.1:9/";

const el = (id) => document.querySelector(`[data-testid="${id}"]`);
const set = (id, text) => {
  const node = el(id);
  if (node) node.textContent = text;
};

// Everything the page knows, also for tests and the console (`window.demo`).
const state = {
  replay,
  network: null,
  clock: null, // ReplayClock in replay mode on a bridge with the wall clock
  clockOffsetMs: 0, // replay mode on a bridge whose clock is shifted: Date.now() runs by this much
  connectStartedAt: null, // performance.now() just before BeaconP2P.connect()
  firstFinalityMs: null,
  finalized: null, // {slot, root, attestedSlot, signatureSlot, source}
  optimistic: null,
  gossip: { total: 0, finality: 0, optimistic: 0 },
  lc: { status: "not started", checkpointRoot: null, finalizedSlot: null, headSlot: null, headAdvances: 0, rejected: 0 },
  helios: {
    status: "not started",
    checkpoint: null,
    consensusRpc: null,
    createMs: null, // createHeliosProvider() (loads Helios's wasm the first time)
    syncMs: null, // createHeliosProvider() → waitSynced()
    blockNumber: null,
    blockHash: null,
    blockTimestamp: null,
    finalizedNumber: null,
    requests: [], // every fetch the page made once Helios started: {url, to, status, at, ms}
  },
  errors: [],
  client: null,
  lodestar: null,
};
window.demo = state;

function showError(where, error) {
  const code = error && error.code ? `${error.code}: ` : "";
  const message = `${where}: ${code}${error && error.message ? error.message : String(error)}`;
  state.errors.push({ at: new Date().toISOString(), where, code: error?.code ?? null, message });
  console.error(message, error);
  const list = el("errors");
  const time = new Date().toLocaleTimeString(undefined, { hour12: false });
  const last = list.firstElementChild;
  if (last && last.dataset.message === message) {
    // The same error again (Lodestar retries a failing sync every second): count it.
    last.dataset.repeats = String(Number(last.dataset.repeats) + 1);
    last.textContent = `${time} ${message} (×${last.dataset.repeats})`;
  } else {
    const item = document.createElement("li");
    item.dataset.message = message;
    item.dataset.repeats = "1";
    item.textContent = `${time} ${message}`;
    list.prepend(item);
  }
  while (list.children.length > 30) list.lastChild.remove();
  set("error-count", String(state.errors.length));
  document.getElementById("errors-panel").hidden = false;
}

window.addEventListener("error", (event) => showError("page", event.error ?? event.message));
window.addEventListener("unhandledrejection", (event) => showError("page (promise)", event.reason));

// ---------- clock ----------

// In replay mode on a bridge whose clock is shifted, the page's clock follows it: Date.now() is
// what Lodestar, Helios and the wasm client (web-time's SystemTime reads Date.now()) all use, so
// it is replaced before any of them loads, and nothing else needs an offset.
function adoptBridgeClock(offsetMs) {
  const wallClock = Date.now.bind(Date);
  Date.now = () => wallClock() + offsetMs;
  state.clockOffsetMs = offsetMs;
}

function genesisTime() {
  return state.clock ? state.clock.genesisTime : Number(state.network.genesisTime);
}

function slotStart(slot) {
  return genesisTime() + slot * Number(state.network.secondsPerSlot);
}

function age(slot) {
  const seconds = Date.now() / 1000 - slotStart(slot);
  if (!Number.isFinite(seconds)) return "—";
  if (Math.abs(seconds) < 120) return `${seconds.toFixed(1)} s`;
  if (Math.abs(seconds) < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

// ---------- headers ----------

function showHeader(kind, update, source) {
  const data = update.data;
  const beacon = kind === "finalized" ? data.finalized_header.beacon : data.attested_header.beacon;
  const slot = Number(beacon.slot);
  const current = state[kind];
  if (current && current.slot > slot) return; // keep the newest
  state[kind] = {
    slot,
    beacon,
    root: null,
    attestedSlot: Number(data.attested_header.beacon.slot),
    signatureSlot: Number(data.signature_slot),
    participation: participation(data.sync_aggregate),
    source,
    version: update.version,
  };
  if (state.lodestar) state[kind].root = headerRoot(state.lodestar, beacon);
  renderHeader(kind);
  if (kind === "optimistic" || !state.optimistic) {
    const perPeriod = SLOTS_PER_PERIOD[state.network.preset];
    const headSlot = Math.max(state.optimistic?.slot ?? 0, state.finalized?.slot ?? 0);
    set("period", perPeriod ? String(Math.floor(headSlot / perPeriod)) : "?");
  }
}

function participation(aggregate) {
  if (!aggregate || typeof aggregate.sync_committee_bits !== "string") return null;
  const hex = aggregate.sync_committee_bits.replace(/^0x/, "");
  let ones = 0;
  for (let i = 0; i < hex.length; i += 2) {
    let byte = parseInt(hex.slice(i, i + 2), 16);
    while (byte) {
      ones += byte & 1;
      byte >>= 1;
    }
  }
  return { ones, size: (hex.length / 2) * 8 };
}

function renderHeader(kind) {
  const header = state[kind];
  const prefix = kind === "finalized" ? "finalized" : "optimistic";
  if (!header) return;
  set(`${prefix}-slot`, String(header.slot));
  set(`${prefix}-root`, header.root ?? "(computing…)");
  set(`${prefix}-age`, age(header.slot));
  set(`${prefix}-source`, `${header.source}, ${header.version}, signature slot ${header.signatureSlot}` +
    (header.participation ? `, ${header.participation.ones}/${header.participation.size} signed` : ""));
}

function noteFinality() {
  if (state.firstFinalityMs === null && state.connectStartedAt !== null) {
    state.firstFinalityMs = Math.round(performance.now() - state.connectStartedAt);
    set("first-finality-ms", String(state.firstFinalityMs));
  }
}

// ---------- gossip timeline ----------

function onGossip(kind, update) {
  state.gossip.total += 1;
  state.gossip[kind] += 1;
  set("gossip-count", String(state.gossip.total));
  set("gossip-finality-count", String(state.gossip.finality));
  set("gossip-optimistic-count", String(state.gossip.optimistic));
  const data = update.data;
  const row = document.createElement("tr");
  row.dataset.kind = kind;
  const cells = [
    new Date().toLocaleTimeString(undefined, { hour12: false }) + "." + String(Date.now() % 1000).padStart(3, "0"),
    kind,
    data.attested_header.beacon.slot,
    kind === "finality" ? data.finalized_header.beacon.slot : "",
    data.signature_slot,
  ];
  for (const text of cells) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.append(cell);
  }
  const body = el("timeline");
  body.prepend(row);
  while (body.children.length > TIMELINE_ROWS) body.lastChild.remove();
  if (state.clock) state.clock.observe(Number(data.signature_slot));
  if (kind === "finality") {
    noteFinality();
    showHeader("finalized", update, "gossip");
  }
  showHeader("optimistic", update, "gossip");
}

// ---------- peers ----------

function showPeers(peers) {
  const body = el("peers");
  body.replaceChildren();
  for (const peer of peers) {
    const row = document.createElement("tr");
    row.className = peer.connected ? "connected" : "idle";
    for (const text of [
      shortId(peer.peerId),
      peer.client ?? "?",
      peer.via ?? "?",
      peer.servesLightClient ? "yes" : "no",
      peer.connected ? "connected" : "not connected",
      String(peer.invalid ?? 0),
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.title = peer.peerId;
    body.append(row);
  }
  set("peer-count", String(peers.filter((p) => p.connected).length));
  set("bp-invalid", String(peers.reduce((sum, p) => sum + (p.invalid ?? 0), 0)));
}

// Where answers came from: p2p, then each Beacon API (`?rpc=`).
function showSources(reports) {
  const body = el("sources");
  body.replaceChildren();
  for (const report of reports) {
    const row = document.createElement("tr");
    for (const text of [
      report.source,
      String(report.answers),
      String(report.failures),
      String(report.misbehaved),
      report.answers ? report.meanLatencyMs.toFixed(1) : "—",
      report.demoted ? "demoted" : report.lastError ? `last error: ${report.lastError}` : "ok",
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.dataset.source = report.kind;
    body.append(row);
  }
}

function sourceEvent(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toISOString().slice(11, 19)} ${text}`;
  el("source-events").append(item);
}

/** "request" plus where a requested answer came from (a peer, or a Beacon API). */
function requested(update) {
  const source = update.source;
  if (!source) return "request";
  if (source.source === "rpc") return `request (Beacon API ${source.url})`;
  return `request (peer ${shortId(source.peer)})`;
}

// ---------- beacon-p2p's own light client ----------

function showVerified(heads) {
  state.verified = heads;
  set("bp-finalized-slot", String(heads.finalized.slot));
  set("bp-optimistic-slot", String(heads.optimistic.slot));
  const signed = heads.optimistic.participation;
  set("bp-participation", signed === null ? "— (the checkpoint)" : `${signed} / ${heads.optimistic.syncCommitteeSize}`);
}

async function runVerifier(client) {
  if (typeof client.sync !== "function") {
    set("bp-status", "not available in this client");
    return;
  }
  set("bp-status", "waiting for a checkpoint");
  const checkpoint = await checkpointReady;
  set("bp-status", "syncing");
  const started = performance.now();
  const heads = await client.sync({ checkpoint: checkpoint.root });
  set("bp-sync-ms", String(Math.round(performance.now() - started)));
  showVerified(heads);
  set("bp-status", "verified; following the chain");
  client.onVerifiedHead(showVerified);
}

function shortId(id) {
  return typeof id === "string" && id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : String(id);
}

// ---------- Lodestar ----------

function lcSet(field, value) {
  state.lc[field] = value;
}

async function runLodestar(client) {
  set("lc-status", "waiting for a finalized header");
  const lodestar = await lodestarReady;
  const checkpoint = await checkpointReady;
  const checkpointRoot = checkpoint.root;
  lcSet("checkpointRoot", checkpointRoot);
  set("lc-checkpoint", checkpoint.label);
  set("lc-status", "bootstrapping");
  const transport = client.lightClientTransport(lodestar.ssz);
  const { lightclient, started } = await startLightclient({
    lodestar,
    network: state.network,
    transport,
    checkpointRoot,
    clock: state.clock,
    on: {
      status(name) {
        lcSet("status", name);
        set("lc-status", name);
      },
      finalized(header) {
        lcSet("finalizedSlot", Number(header.beacon.slot));
        set("lc-finalized-slot", String(header.beacon.slot));
        set("lc-finalized-root", headerRootTyped(lodestar, header));
      },
      head(header) {
        const slot = Number(header.beacon.slot);
        if (state.lc.headSlot !== null && slot > state.lc.headSlot) lcSet("headAdvances", state.lc.headAdvances + 1);
        lcSet("headSlot", slot);
        set("lc-head-slot", String(slot));
        set("lc-head-root", headerRootTyped(lodestar, header));
        set("lc-head-advances", String(state.lc.headAdvances));
      },
      rejected(kind, error) {
        lcSet("rejected", state.lc.rejected + 1);
        set("lc-rejected", String(state.lc.rejected));
        showError(`Lodestar rejected a ${kind} update`, error);
      },
      log(level, message, context, error) {
        if (level === "error" || level === "warn") {
          const detail = context && Object.keys(context).length ? ` ${JSON.stringify(context)}` : "";
          showError(`Lodestar ${level}`, new Error(`${message}${detail}${error ? `: ${error.message}` : ""}`));
        } else if (params.has("debug")) {
          console.debug("lodestar", message, context ?? "", error ?? "");
        }
      },
    },
  });
  state.lightclient = lightclient;
  await started;
}

// The root both light clients start from: ?checkpoint, or the newest finalized header's root.
async function chooseCheckpoint() {
  if (checkpointParam !== null) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(checkpointParam)) throw new Error(`?checkpoint=${checkpointParam} is not a 0x block root`);
    return { root: checkpointParam.toLowerCase(), label: `${checkpointParam.toLowerCase()} (?checkpoint)` };
  }
  const lodestar = await lodestarReady;
  let finality = state.finalized;
  while (!finality) {
    await sleep(250);
    finality = state.finalized;
  }
  const root = headerRoot(lodestar, finality.beacon);
  return { root, label: `${root} (slot ${finality.slot})` };
}

// ---------- Helios ----------

function heliosSet(field, value, text = value) {
  state.helios[field] = value;
  const id = { status: "helios-status", syncMs: "helios-sync-ms", blockNumber: "helios-block-number", blockHash: "helios-block-hash", finalizedNumber: "helios-finalized-number", checkpoint: "helios-checkpoint", consensusRpc: "helios-rpc" }[field];
  if (id) set(id, String(text));
}

// Records every fetch the page makes from here on (Helios's included) by where it goes: "client"
// (the consensus RPC URL, answered in the tab), "bridge" (the wasm client asking this bridge for
// peers), "data" (Helios's own wasm) or "other": a request that left for somewhere else.
function watchFetches(consensusRpc) {
  const inner = globalThis.fetch;
  const requests = state.helios.requests;
  const counts = () => {
    set("helios-requests", String(requests.filter((r) => r.to === "client").length));
    set("helios-other-requests", String(requests.filter((r) => r.to === "other").length));
  };
  const destination = (href) => {
    if (href.startsWith(consensusRpc + "/")) return "client";
    if (href.startsWith("data:")) return "data";
    return href.startsWith(location.origin + "/") ? "bridge" : "other";
  };
  globalThis.fetch = async (input, init) => {
    const href = String(typeof input === "string" ? input : input instanceof URL ? input.href : input?.url);
    const record = { url: href, to: destination(href), status: null, at: Math.round(performance.now()), ms: null };
    requests.push(record);
    if (requests.length > 1000) requests.splice(0, requests.length - 1000);
    const started = performance.now();
    try {
      const response = await inner.call(globalThis, input, init);
      record.status = response.status;
      return response;
    } finally {
      record.ms = Math.round(performance.now() - started);
      counts();
    }
  };
}

async function runHelios(client) {
  const name = state.network.name;
  if (!HELIOS_NETWORKS.includes(name)) {
    heliosSet("status", "not available", `not available: Helios has only ${HELIOS_NETWORKS.join(", ")} built in, this is ${name}`);
    return;
  }
  heliosSet("status", "waiting for a checkpoint");
  const checkpoint = await checkpointReady;
  heliosSet("checkpoint", checkpoint.root, checkpoint.label);
  heliosSet("status", "loading Helios");
  let helios;
  try {
    helios = await import("./vendor/helios.mjs");
  } catch (error) {
    throw new Error(`cannot load ./vendor/helios.mjs (scripts/www.sh copies it there): ${error.message}`);
  }
  const consensusRpc = client.consensusRpcUrl();
  heliosSet("consensusRpc", consensusRpc);
  watchFetches(consensusRpc);
  heliosSet("status", "syncing");
  const started = performance.now();
  const provider = await helios.createHeliosProvider(
    { network: name, consensusRpc, executionRpc, checkpoint: checkpoint.root, dbType: "config" },
    "ethereum",
  );
  state.helios.createMs = Math.round(performance.now() - started);
  state.heliosProvider = provider;
  await provider.waitSynced();
  heliosSet("syncMs", Math.round(performance.now() - started));
  heliosSet("status", "synced");
  const ask = (method, ...params) => provider.request({ method, params });
  for (;;) {
    try {
      const latest = await ask("eth_getBlockByNumber", "latest", false);
      const finalized = await ask("eth_getBlockByNumber", "finalized", false);
      heliosSet("blockNumber", Number(latest.number));
      heliosSet("blockHash", latest.hash);
      state.helios.blockTimestamp = Number(latest.timestamp);
      heliosSet("finalizedNumber", Number(finalized.number));
      heliosSet("status", "following the chain");
    } catch (error) {
      // Helios refuses to answer once its head is more than a minute old (no newer data).
      heliosSet("status", "behind");
      showError("Helios", error);
    }
    await sleep(HELIOS_POLL_MS);
  }
}

function headerRootTyped(lodestar, header) {
  return toHex(lodestar.ssz.phase0.BeaconBlockHeader.hashTreeRoot(header.beacon));
}

// ---------- main ----------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let lodestarReady;
let checkpointReady;

async function fetchUntil(what, call) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      showError(`${what} (attempt ${attempt})`, error);
      if (error && error.code === "CLOSED") throw error;
      await sleep(Math.min(1000 * attempt, 5000));
    }
  }
}

async function main() {
  set("status", "loading the network");
  const response = await fetch("/network");
  if (!response.ok) throw new Error(`GET /network: HTTP ${response.status}`);
  const network = await response.json();
  state.network = network;
  set("network-name", network.name);
  set("network-preset", network.preset);
  set("network-gvr", network.genesisValidatorsRoot);
  set("network-genesis", `${network.genesisTime} (${new Date(network.genesisTime * 1000).toISOString()})`);
  if (replay && Number(network.clockOffsetMs)) adoptBridgeClock(Number(network.clockOffsetMs));

  lodestarReady = loadLodestar(network.preset).then((lodestar) => {
    state.lodestar = lodestar;
    for (const kind of ["finalized", "optimistic"]) {
      if (state[kind]) {
        state[kind].root = headerRoot(lodestar, state[kind].beacon);
        renderHeader(kind);
      }
    }
    return lodestar;
  });
  lodestarReady.catch((error) => {
    set("lc-status", "error");
    showError("Lodestar bundle", error);
  });

  set("status", "loading the wasm client");
  let wasm;
  try {
    wasm = await import("./pkg/beacon_p2p.js");
    const exports = await wasm.default();
    // For the soak test: the wasm linear memory (it only grows).
    state.wasmMemoryBytes = () => (exports && exports.memory ? exports.memory.buffer.byteLength : null);
  } catch (error) {
    throw new Error(`cannot load ./pkg/beacon_p2p.js (scripts/browser-test.sh copies the wasm package there): ${error.message}`);
  }

  const networkOption = BUILT_IN.includes(network.name)
    ? network.name
    : { configYaml: network.configYaml, genesisValidatorsRoot: network.genesisValidatorsRoot, genesisTime: network.genesisTime };
  set("status", "connecting");
  state.connectStartedAt = performance.now();
  const rpc = params.getAll("rpc");
  const client = await wasm.BeaconP2P.connect({ network: networkOption, bridges: [location.origin], ...(rpc.length ? { rpc } : {}) });
  state.client = client;
  set("status", "connected; waiting for peers and data");

  client.onPeers((peers) => showPeers(peers));
  showPeers(client.peers());
  setInterval(() => showPeers(client.peers()), 2000);
  if (client.sources) {
    showSources(client.sources());
    setInterval(() => showSources(client.sources()), 2000);
    client.onSourceSwitched((change) => sourceEvent(`answers now from ${change.to} (was ${change.from}): ${change.reason}`));
    client.onSourceMisbehaved((what) => sourceEvent(`${what.source} misbehaved and is demoted: ${what.reason}`));
    client.onSourcesDisagree((what) => sourceEvent(`slot ${what.slot}: ${what.earlier.source} and ${what.later.source} ` +
      `served different ${what.header} headers (${what.earlier.root.slice(0, 10)}…, ${what.later.root.slice(0, 10)}…); nothing verified yet`));
  }
  client.onFinalityUpdate((update) => onGossip("finality", update));
  client.onOptimisticUpdate((update) => onGossip("optimistic", update));

  const [finality, optimistic] = await Promise.all([
    fetchUntil("finality update", () => client.finalityUpdate()).then((update) => {
      noteFinality();
      return update;
    }),
    fetchUntil("optimistic update", () => client.optimisticUpdate()),
  ]);

  if (replay && state.clockOffsetMs) {
    showReplay();
  } else if (replay) {
    const newest = Math.max(Number(finality.data.signature_slot), Number(optimistic.data.signature_slot));
    state.clock = new ReplayClock(Number(network.genesisTime), Number(network.secondsPerSlot), newest);
    showReplay();
    state.clock.onShift(showReplay);
  } else {
    checkStale(optimistic);
  }
  showHeader("finalized", finality, requested(finality));
  showHeader("optimistic", finality, requested(finality));
  showHeader("optimistic", optimistic, requested(optimistic));
  set("status", "following the chain");

  checkpointReady = chooseCheckpoint();
  // Each reports its own failure; one failing does not stop the other.
  await Promise.all([
    runLodestar(client).catch((error) => {
      set("lc-status", "error");
      showError("Lodestar", error);
    }),
    runHelios(client).catch((error) => {
      heliosSet("status", "error");
      showError("Helios", error);
    }),
    runVerifier(client).catch((error) => {
      set("bp-status", "error");
      showError("beacon-p2p verification", error);
    }),
  ]);
}

function showReplay() {
  const clock = state.clock;
  document.getElementById("replay-panel").hidden = false;
  if (!clock) {
    // The bridge's clock, adopted by the page: genesis stays the network's.
    el("replay-clock-note").hidden = false;
    el("replay-genesis-note").hidden = true;
    const behind = -state.clockOffsetMs / 1000;
    set("replay-genesis", `${state.network.genesisTime} (the network's own)`);
    set("replay-offset", `page clock ${Math.abs(behind).toFixed(1)} s ${behind >= 0 ? "behind" : "ahead of"} the wall clock, as the bridge's`);
    set("replay-signature-slot", String(Math.max(state.finalized?.signatureSlot ?? 0, state.optimistic?.signatureSlot ?? 0)));
    return;
  }
  set("replay-genesis", `${clock.genesisTime} (${new Date(clock.genesisTime * 1000).toISOString()})`);
  const later = -clock.offsetSeconds();
  set("replay-offset", `${Math.abs(later)} s ${later >= 0 ? "later" : "earlier"} than the network's genesis ${state.network.genesisTime}`);
  set("replay-shifts", String(clock.shifts));
  set("replay-signature-slot", String(clock.newestSignatureSlot));
}

function checkStale(optimistic) {
  const signatureSlot = Number(optimistic.data.signature_slot);
  const wallSlot = Math.floor((Date.now() / 1000 - Number(state.network.genesisTime)) / Number(state.network.secondsPerSlot));
  if (wallSlot - signatureSlot > 32) {
    document.getElementById("stale-panel").hidden = false;
    set("stale-detail", `The newest update was signed in slot ${signatureSlot}, but by the network's genesis time the ` +
      `current slot is ${wallSlot}. Lodestar will not follow data this old. If this is a replayed capture, open ` +
      `this page with ?replay.`);
  }
}

setInterval(() => {
  if (state.network) {
    renderHeader("finalized");
    renderHeader("optimistic");
    if (state.clock) {
      set("replay-current-slot", String(state.clock.currentSlot()));
      set("replay-signature-slot", String(state.clock.newestSignatureSlot));
    } else if (state.clockOffsetMs) {
      set("replay-current-slot", String(Math.floor((Date.now() / 1000 - Number(state.network.genesisTime)) / Number(state.network.secondsPerSlot))));
      set("replay-signature-slot", String(Math.max(state.finalized?.signatureSlot ?? 0, state.optimistic?.signatureSlot ?? 0)));
    }
  }
}, 1000);

if (replay) {
  document.getElementById("replay-panel").hidden = false;
  set("replay-genesis", "(set once the newest update is known)");
}

main().catch((error) => {
  set("status", "failed");
  showError("demo", error);
});
