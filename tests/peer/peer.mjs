#!/usr/bin/env node
// A js-libp2p peer that looks like an Ethereum consensus-layer beacon node to a light client:
// CL req/resp handshake (status, ping, metadata, goodbye), the four light-client req/resp protocols
// and light-client gossip, all served from the real devnet capture in ../data/devnet-capture.
//
// stdout: line 1 = {"peerId","multiaddr","wsMultiaddr","protocols","muxers","forkDigest", ...} once listening,
//         then one JSON object per event. stderr: human logs. See README.md.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash, randomBytes } from "node:crypto";
import { createServer as createHttpServer } from "node:http";

const HERE = dirname(fileURLToPath(import.meta.url));

// Signal handlers first, so that a SIGTERM/SIGINT right after the first stdout line still exits cleanly (code 0).
const shutdownHooks = [];
let stopping = false;
async function shutdown(sig) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`[test-peer ${new Date().toISOString()}] ${sig}: stopping\n`);
  setTimeout(() => process.exit(0), 2000).unref();
  for (const hook of shutdownHooks.reverse()) {
    try {
      await hook();
    } catch (e) {
      process.stderr.write(`[test-peer] shutdown: ${e?.message ?? e}\n`);
    }
  }
  process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

const FAULTS = ["drop-mid-response", "error-code", "garbage", "wrong-context", "oversize-length", "never-answer", "wrong-block", "bad-signature", "bad-branch", "stale-finality"];
// Faults in the data, not the framing: well-formed objects that a verifying client must refuse
// (bad-signature, bad-branch: in req/resp, REST and gossip alike) or find stale (stale-finality).
const DATA_FAULTS = new Set(["bad-signature", "bad-branch", "stale-finality"]);
const FAULT_SCOPES = ["light-client", "blocks", "all"];
const MUXER_IDS = { yamux: "/yamux/1.0.0", mplex: "/mplex/6.7.0" };

// ---------------------------------------------------------------------------------------------
// output

let stdoutOpen = true;
process.stdout.on("error", (e) => {
  // the harness closed our stdout (EPIPE): keep serving, stop emitting
  stdoutOpen = false;
  log(`stdout closed (${e.code ?? e.message}); events are no longer written`);
});
const emit = (obj) => stdoutOpen && process.stdout.write(JSON.stringify(obj, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) + "\n");
process.stderr.on("error", () => {});
const log = (...a) => process.stderr.write(`[test-peer ${new Date().toISOString()}] ${a.join(" ")}\n`);

// ---------------------------------------------------------------------------------------------
// options

function usage(code) {
  process.stderr.write(`usage: node peer.mjs [--port N] [--ws-port N] [--muxers yamux,mplex|yamux|mplex] [--no-updates-by-range]
                    [--fault ${FAULTS.join("|")}] [--data DIR] [--slot-ms N] [--no-gossip]
                    [--start-slot S] [--ping-interval-ms N] [--no-handshake]
                    [--shift-slots-on-loop] [--private-key-hex HEX] [--rest-port N]
                    [--drain-grace-ms N] [--fault-protocols ${FAULT_SCOPES.join("|")}]
                    [--clock-start UNIX_SECONDS]
`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = {
    port: 0,
    wsPort: null,
    muxers: ["yamux", "mplex"],
    updatesByRange: true,
    fault: null,
    data: resolve(HERE, "../data/devnet-capture"),
    slotMs: 2000,
    gossip: true,
    startSlot: null,
    pingIntervalMs: 0,
    handshake: true,
    privateKeyHex: null,
    restPort: null,
    drainGraceMs: 0,
    faultProtocols: null,
    clockStart: null,
  };
  const need = (i) => {
    if (i + 1 >= argv.length) {
      log(`missing value for ${argv[i]}`);
      usage(2);
    }
    return argv[i + 1];
  };
  const int = (s, name) => {
    if (!/^\d+$/.test(s)) {
      log(`${name} wants a non-negative integer, got ${s}`);
      usage(2);
    }
    return Number(s);
  };
  // accept both "--opt value" and "--opt=value"
  argv = argv.flatMap((a) => (a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--port": o.port = int(need(i), a); i++; break;
      case "--ws-port": o.wsPort = int(need(i), a); i++; break;
      case "--muxers": {
        const list = need(i).split(",").map((s) => s.trim()).filter(Boolean);
        i++;
        if (list.length === 0 || list.some((m) => !(m in MUXER_IDS)) || new Set(list).size !== list.length) {
          log(`--muxers wants yamux, mplex, yamux,mplex or mplex,yamux`);
          usage(2);
        }
        o.muxers = list;
        break;
      }
      case "--no-updates-by-range": o.updatesByRange = false; break;
      case "--shift-slots-on-loop": o.shiftSlotsOnLoop = true; break;
      case "--fault": {
        const f = need(i);
        i++;
        if (!FAULTS.includes(f)) {
          log(`unknown --fault ${f}; one of ${FAULTS.join(", ")}`);
          usage(2);
        }
        o.fault = f;
        break;
      }
      case "--fault-protocols": {
        const f = need(i);
        i++;
        if (!FAULT_SCOPES.includes(f)) {
          log(`--fault-protocols wants one of ${FAULT_SCOPES.join(", ")}, got ${f}`);
          usage(2);
        }
        o.faultProtocols = f;
        break;
      }
      case "--clock-start": {
        const v = need(i);
        i++;
        if (!/^\d+(\.\d+)?$/.test(v)) {
          log(`--clock-start wants unix seconds (a non-negative number), got ${v}`);
          usage(2);
        }
        o.clockStart = Number(v);
        break;
      }
      case "--data": o.data = resolve(need(i)); i++; break;
      case "--slot-ms": o.slotMs = int(need(i), a); i++; if (o.slotMs < 1) usage(2); break;
      case "--no-gossip": o.gossip = false; break;
      case "--start-slot": o.startSlot = int(need(i), a); i++; break;
      case "--ping-interval-ms": o.pingIntervalMs = int(need(i), a); i++; break;
      case "--no-handshake": o.handshake = false; break;
      case "--rest-port": o.restPort = int(need(i), a); i++; break;
      case "--drain-grace-ms": o.drainGraceMs = int(need(i), a); i++; break;
      case "--private-key-hex": {
        const hex = need(i).replace(/^0x/, "");
        i++;
        if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
          log(`--private-key-hex wants 32 bytes of hex (a secp256k1 secret key)`);
          usage(2);
        }
        o.privateKeyHex = hex.toLowerCase();
        break;
      }
      case "-h": case "--help": usage(0); break;
      default: log(`unknown argument ${a}`); usage(2);
    }
  }
  // --fault-protocols defaults to light-client (as before it existed); wrong-block only exists for the
  // block protocols, so there it defaults to blocks and cannot be scoped to light-client only
  if (o.faultProtocols === null) o.faultProtocols = o.fault === "wrong-block" ? "blocks" : "light-client";
  if (o.fault === "wrong-block" && o.faultProtocols === "light-client") {
    log(`--fault wrong-block applies to the block protocols only; use --fault-protocols blocks or all`);
    usage(2);
  }
  if (o.clockStart !== null && o.startSlot !== null) {
    log(`--start-slot and --clock-start exclude each other (the clock decides the replay position)`);
    usage(2);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// chain config (no packages needed)

const stripQuotes = (v) => (/^".*"$/.test(v) || /^'.*'$/.test(v) ? v.slice(1, -1) : v);

/** The flat KEY: value pairs of a consensus config.yaml (comments stripped), plus BLOB_SCHEDULE as a
 *  list of {EPOCH, MAX_BLOBS_PER_BLOCK}. */
function parseConfigYaml(text) {
  const cfg = {};
  let list = null;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^\s*#.*$/, "").replace(/\s+#.*$/, "").replace(/\s+$/, "");
    if (!line.trim()) continue;
    let m = /^([A-Z0-9_]+):\s*(.*)$/.exec(line);
    if (m) {
      const v = stripQuotes(m[2]);
      list = null;
      if (v === "" || v === "[]") list = cfg[m[1]] = [];
      else cfg[m[1]] = v;
      continue;
    }
    if (!list) continue;
    m = /^\s*-\s+([A-Z0-9_]+):\s*(.*)$/.exec(line);
    if (m) {
      list.push({ [m[1]]: stripQuotes(m[2]) });
      continue;
    }
    m = /^\s+([A-Z0-9_]+):\s*(.*)$/.exec(line);
    if (m && list.length) list.at(-1)[m[1]] = stripQuotes(m[2]);
  }
  return cfg;
}

function readDataConfig(dir) {
  if (!existsSync(join(dir, "meta.json"))) throw new Error(`no capture at ${dir} (meta.json missing)`);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
  const cfg = parseConfigYaml(readFileSync(join(dir, "config.yaml"), "utf8"));
  return { meta, cfg };
}

// meta.json "preset" first (synthnet), then config.yaml PRESET_BASE (both data sets have it)
function detectPreset(dir) {
  const { meta, cfg } = readDataConfig(dir);
  const preset = meta.preset ?? cfg.PRESET_BASE;
  if (preset !== "mainnet" && preset !== "minimal") throw new Error(`${dir}: preset ${preset ?? "(none: neither meta.json preset nor config.yaml PRESET_BASE)"} is not mainnet or minimal`);
  if (meta.preset && cfg.PRESET_BASE && meta.preset !== cfg.PRESET_BASE) throw new Error(`${dir}: meta.json preset ${meta.preset} but config.yaml PRESET_BASE ${cfg.PRESET_BASE}`);
  return preset;
}

// The preset (mainnet or minimal) comes from the data directory; @lodestar/params reads it at import
// time, so it is set before any @lodestar package is imported.
const PRESET = detectPreset(opts.data);
process.env.LODESTAR_PRESET = PRESET;

// Packages are imported dynamically so that a missing `npm ci` gives a clear message and exit code 3.
let mods;
try {
  mods = await Promise.all([
    import("libp2p"),
    import("@libp2p/tcp"),
    import("@chainsafe/libp2p-noise"),
    import("@chainsafe/libp2p-yamux"),
    import("@libp2p/mplex"),
    import("@libp2p/identify"),
    import("@chainsafe/libp2p-gossipsub"),
    import("@libp2p/peer-id-factory"),
    import("@lodestar/types"),
    import("@lodestar/params"),
    import("./wire.mjs"),
    import("@libp2p/logger"),
    import("@libp2p/websockets"),
  ]);
} catch (e) {
  if (e?.code === "ERR_MODULE_NOT_FOUND") {
    process.stderr.write(`test peer: dependencies missing (${e.message}).\nRun: (cd ${HERE} && npm ci)\n`);
    process.exit(3);
  }
  throw e;
}
const [{ createLibp2p }, { tcp }, { noise }, { yamux }, { mplex }, { identify }, { gossipsub }, { createSecp256k1PeerId }, { ssz }, lodestarParams, wire, { defaultLogger }, { webSockets }] = mods;
const {
  ByteReader,
  PROTOCOLS,
  LC_PROTOCOLS,
  BLOCK_PROTOCOLS,
  CONTEXT_PROTOCOLS,
  MAX_REQUEST_BLOCKS_DENEB,
  RESULT,
  WireError,
  computeForkDigest,
  computeMessageId,
  concat,
  encodeErrorChunk,
  encodeFramed,
  encodeSuccessChunk,
  encodeVarint,
  fromHex,
  gossipEncode,
  gossipTopic,
  readRequest,
  sendRequest,
  toHex,
  withTimeout,
  bytesEqual,
  u64le,
} = wire;


// ---------------------------------------------------------------------------------------------
// data directory: fork schedule, fork digests, objects, replay steps

const FAR_EPOCH = 2n ** 64n - 1n;
const FORK_KEYS = [["phase0", "GENESIS_FORK_VERSION", null], ["altair", "ALTAIR_FORK_VERSION", "ALTAIR_FORK_EPOCH"], ["bellatrix", "BELLATRIX_FORK_VERSION", "BELLATRIX_FORK_EPOCH"], ["capella", "CAPELLA_FORK_VERSION", "CAPELLA_FORK_EPOCH"], ["deneb", "DENEB_FORK_VERSION", "DENEB_FORK_EPOCH"], ["electra", "ELECTRA_FORK_VERSION", "ELECTRA_FORK_EPOCH"], ["fulu", "FULU_FORK_VERSION", "FULU_FORK_EPOCH"]];
const FORK_ORDER = FORK_KEYS.map(([name]) => name);
// digests we know independently of the data directory, keyed by genesis_validators_root
const KNOWN_DIGESTS = {
  "0x83431ec7fcf92cfc44947fc0418e831c25e1d0806590231c439830db7ad54fda": [{ name: "deneb", digest: "0x8cdad603" }], // devnet capture
};

/** The @lodestar/types fork namespace holding `typeName` for `fork`: the fork itself, else the newest
 *  earlier fork that has it (bellatrix -> altair for light-client types; fulu -> electra in 1.28.1). */
function sszFork(fork, typeName) {
  for (let i = FORK_ORDER.indexOf(fork); i >= 0; i--) if (ssz[FORK_ORDER[i]]?.[typeName]) return FORK_ORDER[i];
  throw new Error(`@lodestar/types has no ${typeName} for fork ${fork}`);
}
const sszType = (fork, typeName) => ssz[sszFork(fork, typeName)][typeName];

/** Fork schedule and compute_fork_digest(gvr, epoch) as in the Fulu spec: compute_fork_data_root(version, gvr)[:4],
 *  from FULU_FORK_EPOCH on XORed with sha256(uint64_le(bpo.epoch) ‖ uint64_le(bpo.max_blobs_per_block))[:4]
 *  for the BLOB_SCHEDULE entry in force (before the first one: ELECTRA_FORK_EPOCH, MAX_BLOBS_PER_BLOCK_ELECTRA). */
function forkSchedule(cfg, gvr) {
  const forks = FORK_KEYS.filter(([, v]) => cfg[v] !== undefined)
    .map(([name, v, e]) => ({ name, version: fromHex(cfg[v]), epoch: e ? BigInt(cfg[e] ?? FAR_EPOCH) : 0n }))
    .filter((f) => f.epoch !== FAR_EPOCH);
  if (forks.length === 0) throw new Error("config.yaml has no GENESIS_FORK_VERSION");
  const fulu = forks.find((f) => f.name === "fulu");
  const blobSchedule = (Array.isArray(cfg.BLOB_SCHEDULE) ? cfg.BLOB_SCHEDULE : [])
    .map((e) => ({ epoch: BigInt(e.EPOCH), maxBlobs: BigInt(e.MAX_BLOBS_PER_BLOCK) }))
    .sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0));
  const blobParameters = (epoch) => {
    for (const e of [...blobSchedule].reverse()) if (epoch >= e.epoch) return e;
    if (cfg.ELECTRA_FORK_EPOCH === undefined || cfg.MAX_BLOBS_PER_BLOCK_ELECTRA === undefined) throw new Error("Fulu digest needs ELECTRA_FORK_EPOCH and MAX_BLOBS_PER_BLOCK_ELECTRA in config.yaml");
    return { epoch: BigInt(cfg.ELECTRA_FORK_EPOCH), maxBlobs: BigInt(cfg.MAX_BLOBS_PER_BLOCK_ELECTRA) };
  };
  const forkAtEpoch = (epoch) => {
    let cur = forks[0];
    for (const f of forks) if (f.epoch <= epoch) cur = f;
    return cur;
  };
  const digestAtEpoch = (epoch) => {
    const base = computeForkDigest(forkAtEpoch(epoch).version, gvr);
    if (!fulu || epoch < fulu.epoch) return base;
    const bp = blobParameters(epoch);
    const mask = createHash("sha256").update(concat([u64le(bp.epoch), u64le(bp.maxBlobs)])).digest();
    return Uint8Array.from(base, (b, i) => b ^ mask[i]);
  };
  // every epoch at which the digest changes: each fork, and each BPO entry after Fulu
  const entries = forks.map((f) => ({ name: f.name, fork: f.name, epoch: f.epoch }));
  let bpo = 0;
  if (fulu) for (const e of blobSchedule) if (e.epoch > fulu.epoch) entries.push({ name: `${forkAtEpoch(e.epoch).name}_bpo${++bpo}`, fork: forkAtEpoch(e.epoch).name, epoch: e.epoch });
  entries.sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0));
  for (const e of entries) {
    e.digest = digestAtEpoch(e.epoch);
    e.digestHex = toHex(e.digest);
  }
  const entryAtEpoch = (epoch) => {
    let cur = entries[0];
    for (const e of entries) if (e.epoch <= epoch) cur = e;
    return cur;
  };
  return { forks, entries, entryAtEpoch, digestAtEpoch };
}

const slotOfName = (f) => {
  const m = /^(\d+)_/.exec(f);
  if (!m) throw new Error(`${f}: file name does not start with <slot>_`);
  return Number(m[1]);
};

function loadCapture(dir, preset) {
  const { meta, cfg } = readDataConfig(dir);
  const genesis = meta.genesis ?? meta; // devnet capture: meta.genesis.{...}; synthnet: top level
  if (!genesis.genesis_validators_root || genesis.genesis_time === undefined) throw new Error(`${dir}/meta.json: no genesis_validators_root / genesis_time`);
  const gvr = fromHex(genesis.genesis_validators_root);
  const genesisTime = Number(genesis.genesis_time);
  const slotMsCfg = cfg.SLOT_DURATION_MS !== undefined ? Number(cfg.SLOT_DURATION_MS) : cfg.SECONDS_PER_SLOT !== undefined ? Number(cfg.SECONDS_PER_SLOT) * 1000 : NaN;
  if (!(slotMsCfg > 0)) throw new Error(`${dir}/config.yaml: neither SLOT_DURATION_MS nor SECONDS_PER_SLOT is set`);
  const slotsPerEpoch = lodestarParams.SLOTS_PER_EPOCH;
  const epochsPerPeriod = lodestarParams.EPOCHS_PER_SYNC_COMMITTEE_PERIOD;
  if (slotsPerEpoch !== { mainnet: 32, minimal: 8 }[preset]) throw new Error(`@lodestar/params is not the ${preset} preset (SLOTS_PER_EPOCH=${slotsPerEpoch})`);

  const sched = forkSchedule(cfg, gvr);
  const epochOf = (slot) => BigInt(Math.floor(slot / slotsPerEpoch));
  /** {name, fork, epoch, digest, digestHex} of the digest in force at `slot` (fork = the spec fork name, e.g. "fulu" for "fulu_bpo1") */
  const forkAtSlot = (slot) => sched.entryAtEpoch(epochOf(slot));
  const hdrRoot = (beacon) => ssz.phase0.BeaconBlockHeader.hashTreeRoot(beacon);

  // manifest.json (synthnet): the expected context bytes of every object, checked below
  const manifest = new Map();
  if (existsSync(join(dir, "manifest.json"))) for (const m of JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))) manifest.set(m.path, m);
  const mismatches = [];
  const checkManifest = (path, fork) => {
    const m = manifest.get(path);
    if (m?.fork_digest && m.fork_digest !== fork.digestHex) mismatches.push(`${path}: context ${fork.digestHex}, manifest.json says ${m.fork_digest}`);
    if (m?.fork && m.fork !== fork.fork) mismatches.push(`${path}: fork ${fork.fork}, manifest.json says ${m.fork}`);
  };
  const ls = (sub, re) => (existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).filter((f) => re.test(f)).sort() : []);

  // bootstraps: root -> {bytes, slot, fork, context}
  const bootstraps = new Map();
  for (const f of ls("bootstrap", /\.ssz$/)) {
    const bytes = new Uint8Array(readFileSync(join(dir, "bootstrap", f)));
    const fork = forkAtSlot(slotOfName(f));
    const type = sszType(fork.fork, "LightClientBootstrap");
    const v = type.deserialize(bytes);
    const root = toHex(hdrRoot(v.header.beacon));
    const nameRoot = /_(0x[0-9a-f]{64})\.ssz$/.exec(f)?.[1];
    if (nameRoot && nameRoot !== root) throw new Error(`bootstrap ${f}: header root ${root} does not match the file name`);
    if (v.header.beacon.slot !== slotOfName(f)) throw new Error(`bootstrap ${f}: header slot ${v.header.beacon.slot}`);
    checkManifest(`bootstrap/${f.replace(/\.ssz$/, "")}`, fork);
    bootstraps.set(root, { bytes, type, slot: v.header.beacon.slot, fork: fork.fork, context: fork.digest, file: f });
  }

  // updates per period: the JSON (as the Beacon API serves it) gives the fork; SSZ file used when present
  const updates = new Map();
  for (const f of ls("updates", /^period_\d+\.json$/)) {
    const items = JSON.parse(readFileSync(join(dir, "updates", f), "utf8"));
    const list = Array.isArray(items) ? items : [items];
    if (list.length !== 1) throw new Error(`updates ${f}: ${list.length} items, expected 1`);
    const item = list[0];
    const filePeriod = Number(/\d+/.exec(f)[0]);
    const versionFork = item.version ?? forkAtSlot(filePeriod * epochsPerPeriod * slotsPerEpoch).fork;
    const type = sszType(versionFork, "LightClientUpdate");
    const v = type.fromJson(item.data);
    let bytes = type.serialize(v);
    const sszFile = join(dir, "updates", f.replace(/\.json$/, ".ssz"));
    if (existsSync(sszFile)) {
      const fileBytes = new Uint8Array(readFileSync(sszFile));
      if (!bytesEqual(fileBytes, bytes)) throw new Error(`updates ${f}: the .ssz differs from the SSZ of the .json`);
      bytes = fileBytes;
    }
    const slot = v.attestedHeader.beacon.slot;
    const fork = forkAtSlot(slot);
    if (item.version && item.version !== fork.fork) throw new Error(`updates ${f}: version ${item.version}, but attested slot ${slot} is in ${fork.fork}`);
    const period = Math.floor(slot / slotsPerEpoch / epochsPerPeriod);
    checkManifest(`updates/${f.replace(/\.json$/, "")}`, fork);
    updates.set(period, { bytes, type, slot, signatureSlot: v.signatureSlot, fork: fork.fork, context: fork.digest, file: f });
  }

  // finality / optimistic updates by file stem
  const objects = { finality_update: new Map(), optimistic_update: new Map() };
  const typeNames = { finality_update: "LightClientFinalityUpdate", optimistic_update: "LightClientOptimisticUpdate" };
  for (const kind of Object.keys(objects)) {
    for (const f of ls(kind, /\.ssz$/)) {
      const bytes = new Uint8Array(readFileSync(join(dir, kind, f)));
      const fork = forkAtSlot(slotOfName(f));
      const type = sszType(fork.fork, typeNames[kind]);
      const value = type.deserialize(bytes);
      const slot = value.attestedHeader.beacon.slot;
      if (slot !== slotOfName(f)) throw new Error(`${kind} ${f}: attested slot ${slot}`);
      checkManifest(`${kind}/${f.replace(/\.ssz$/, "")}`, fork);
      objects[kind].set(f.replace(/\.ssz$/, ""), { kind, bytes, type, value, slot, signatureSlot: value.signatureSlot, fork: fork.fork, context: fork.digest, file: f });
    }
  }

  // blocks (optional): SignedBeaconBlock SSZ + the Beacon API JSON of GET /eth/v2/beacon/blocks/{id}
  const blocks = { byRoot: new Map(), bySlot: new Map(), sorted: [] };
  for (const f of ls("blocks", /\.ssz$/)) {
    const bytes = new Uint8Array(readFileSync(join(dir, "blocks", f)));
    const fork = forkAtSlot(slotOfName(f));
    const type = sszType(fork.fork, "SignedBeaconBlock");
    const value = type.deserialize(bytes);
    const slot = value.message.slot;
    if (slot !== slotOfName(f)) throw new Error(`block ${f}: slot ${slot}`);
    const root = toHex(sszType(fork.fork, "BeaconBlock").hashTreeRoot(value.message));
    const nameRoot = /_(0x[0-9a-f]{64})\.ssz$/.exec(f)?.[1];
    if (nameRoot && nameRoot !== root) throw new Error(`block ${f}: block root ${root} does not match the file name`);
    if (blocks.bySlot.has(slot)) throw new Error(`block ${f}: a second block at slot ${slot}`);
    const jsonFile = join(dir, "blocks", f.replace(/\.ssz$/, ".json"));
    const json = existsSync(jsonFile) ? JSON.stringify(JSON.parse(readFileSync(jsonFile, "utf8"))) : JSON.stringify({ version: fork.fork, execution_optimistic: false, finalized: false, data: type.toJson(value) });
    checkManifest(`blocks/${f.replace(/\.ssz$/, "")}`, fork);
    const b = { bytes, json, root, slot, fork: fork.fork, context: fork.digest, file: f };
    blocks.byRoot.set(root, b);
    blocks.bySlot.set(slot, b);
    blocks.sorted.push(b);
  }
  blocks.sorted.sort((a, b) => a.slot - b.slot);
  const hasBlocks = existsSync(join(dir, "blocks"));

  // expected digests: meta.json fork_digests (synthnet), else the built-in table (devnet capture)
  const expected = Array.isArray(meta.fork_digests) ? meta.fork_digests : KNOWN_DIGESTS[toHex(gvr)] ?? [];
  for (const e of expected) {
    const entry = sched.entries.find((x) => x.name === e.name);
    const got = e.epoch !== undefined ? toHex(sched.digestAtEpoch(BigInt(e.epoch))) : entry?.digestHex;
    if (got !== e.digest) mismatches.push(`digest of ${e.name}${e.epoch !== undefined ? ` (epoch ${e.epoch})` : ""}: computed ${got ?? "(no such fork)"}, expected ${e.digest}`);
    if (e.epoch !== undefined && entry && entry.epoch !== BigInt(e.epoch)) mismatches.push(`${e.name} starts at epoch ${entry.epoch} in config.yaml, meta.json says ${e.epoch}`);
  }

  // replay steps: arrivals that came together (within 0.5 s of the step's first arrival) form one step.
  // `at` (unix seconds, for --clock-start): genesis_time + t when t counts from genesis (meta.json has
  // `clock`, synthnet); else (devnet capture) t counts from the start of recording, and the arrivals are
  // placed as early as possible with none before its signature slot starts:
  // at = genesis_time + max(signature_slot × slot duration − t) + t.
  const arrivals = JSON.parse(readFileSync(join(dir, "arrivals.json"), "utf8"));
  const tFromGenesis = meta.clock !== undefined;
  const steps = [];
  let offset = tFromGenesis ? 0 : -Infinity;
  for (const a of arrivals) {
    const obj = objects[a.kind]?.get(a.file);
    if (!obj) throw new Error(`arrivals.json: ${a.kind}/${a.file} not found`);
    if (!tFromGenesis) offset = Math.max(offset, (obj.signatureSlot * slotMsCfg) / 1000 - a.t);
    const last = steps[steps.length - 1];
    if (last && a.t - last.t < 0.5) last.entries.push(obj);
    else steps.push({ t: a.t, entries: [obj] });
  }
  for (const st of steps) st.at = genesisTime + offset + st.t;
  if (steps.length === 0) throw new Error("arrivals.json is empty");

  // every digest the data spans (objects by their slot, gossip by signature slot)
  const spanned = new Map();
  const span = (slot) => { const e = forkAtSlot(slot); spanned.set(e.digestHex, e); };
  for (const b of bootstraps.values()) span(b.slot);
  for (const u of updates.values()) span(u.slot);
  for (const m of Object.values(objects)) for (const o of m.values()) { span(o.slot); span(o.signatureSlot); }
  for (const b of blocks.sorted) span(b.slot);
  const digests = [...spanned.values()].sort((a, b) => (a.epoch < b.epoch ? -1 : 1));

  return { meta, cfg, preset, gvr, genesisTime, slotMsCfg, sched, forkAtSlot, hdrRoot, bootstraps, updates, objects, blocks, hasBlocks, steps, slotsPerEpoch, epochsPerPeriod, digests, mismatches };
}

const cap = loadCapture(opts.data, PRESET);
if (cap.mismatches.length) {
  for (const m of cap.mismatches) log(`FATAL: ${m}`);
  log(`FATAL: fork digests computed from ${opts.data}/config.yaml do not match the expected ones`);
  process.exit(1);
}
// --fault bad-signature / bad-branch: tamper with the loaded light-client objects themselves, so
// every way out (req/resp, REST, gossip) carries the same lie. One bit of the sync aggregate's
// signature, or of the first node of the object's Merkle branch (the finality branch, or for an
// optimistic update the attested header's execution branch; a bootstrap's committee branch).
if (opts.fault === "bad-signature" || opts.fault === "bad-branch") {
  const flip = (bytes, index) => { bytes[index] ^= 0x01; };
  const tamper = (type, value) => {
    if (opts.fault === "bad-signature") {
      if (value.syncAggregate) flip(value.syncAggregate.syncCommitteeSignature, 95);
    } else if (value.currentSyncCommitteeBranch) flip(value.currentSyncCommitteeBranch[0], 0);
    else if (value.finalityBranch) flip(value.finalityBranch[0], 0);
    else if (value.attestedHeader?.executionBranch) flip(value.attestedHeader.executionBranch[0], 0);
    return type.serialize(value);
  };
  for (const u of cap.updates.values()) u.bytes = tamper(u.type, u.type.deserialize(u.bytes));
  for (const map of Object.values(cap.objects)) {
    for (const o of map.values()) {
      o.value = o.type.deserialize(o.bytes);
      o.bytes = tamper(o.type, o.value);
    }
  }
  if (opts.fault === "bad-branch") for (const b of cap.bootstraps.values()) b.bytes = tamper(b.type, b.type.deserialize(b.bytes));
  log(`fault ${opts.fault}: every light-client object is tampered with`);
}

const TOPIC_NAMES = { finality_update: "light_client_finality_update", optimistic_update: "light_client_optimistic_update" };
const topicFor = (kind, digestHex) => gossipTopic(digestHex, TOPIC_NAMES[kind]);
const ALL_TOPICS = cap.digests.flatMap((d) => Object.keys(TOPIC_NAMES).map((k) => topicFor(k, d.digestHex)));
log(`capture ${opts.data} (${cap.preset} preset, ${cap.slotMsCfg} ms slots): ${cap.bootstraps.size} bootstraps, periods [${[...cap.updates.keys()].join(",")}], ${cap.objects.finality_update.size} finality + ${cap.objects.optimistic_update.size} optimistic updates in ${cap.steps.length} replay steps, ${cap.blocks.sorted.length} blocks; fork digests ${cap.digests.map((d) => `${d.name} ${d.digestHex}`).join(", ")}`);

// ---------------------------------------------------------------------------------------------
// replay state

const replay = { step: -1, loop: 0, latest: { finality_update: null, optimistic_update: null }, maxSignatureSlot: 0 };

// --clock-start: the peer's clock starts at that unix time (re-anchored right before the first stdout
// line) and runs in real time; without it, the replay steps every --slot-ms and there is no clock.
const clock = { t0: performance.now() };
const nowUnix = () => opts.clockStart + (performance.now() - clock.t0) / 1000;
const clockSlot = () => Math.max(0, Math.floor(((nowUnix() - cap.genesisTime) * 1000) / cap.slotMsCfg));
const slotTime = (slot) => cap.genesisTime + (slot * cap.slotMsCfg) / 1000; // unix seconds

function applyStep(publish) {
  replay.step++;
  if (replay.step >= cap.steps.length) {
    replay.step = 0;
    replay.loop++;
    log(`replay: capture exhausted, looping back to the start (loop ${replay.loop})`);
    emit({ event: "replay-loop", loop: replay.loop });
  }
  const step = cap.steps[replay.step];
  for (const obj of step.entries) {
    replay.latest[obj.kind] = obj;
    replay.maxSignatureSlot = Math.max(replay.maxSignatureSlot, obj.signatureSlot);
    if (publish) publishObject(obj);
  }
}

const latestSlot = () => Math.max(replay.latest.finality_update?.slot ?? 0, replay.latest.optimistic_update?.slot ?? 0);
/** The slot "now": the clock's slot with --clock-start, else the highest signature slot replayed so far. */
const currentSlot = () => (opts.clockStart !== null ? clockSlot() : replay.maxSignatureSlot);
/** Step replay: the period of the replay head. --clock-start: the period of the clock's slot. */
const currentPeriod = () => Math.floor((opts.clockStart !== null ? clockSlot() : latestSlot()) / cap.slotsPerEpoch / cap.epochsPerPeriod);
/** The per-period update of period p, if it may be served now: p ≤ current period, and with
 *  --clock-start only once its signature slot + 1/3 slot (4 s on mainnet) has passed. */
function servableUpdate(p) {
  if (p > currentPeriod()) return undefined;
  const u = cap.updates.get(p);
  if (u && opts.clockStart !== null && nowUnix() < slotTime(u.signatureSlot) + cap.slotMsCfg / 3000) return undefined;
  return u;
}

function currentStatus() {
  const fin = replay.latest.finality_update;
  const opt = replay.latest.optimistic_update;
  let finalizedRoot = new Uint8Array(32);
  let finalizedEpoch = 0;
  if (fin) {
    const h = fin.value.finalizedHeader.beacon;
    finalizedRoot = cap.hdrRoot(h);
    finalizedEpoch = Math.ceil(h.slot / cap.slotsPerEpoch);
  }
  let head = opt?.value.attestedHeader.beacon;
  if (fin && (!head || fin.value.attestedHeader.beacon.slot > head.slot)) head = fin.value.attestedHeader.beacon;
  return {
    forkDigest: cap.forkAtSlot(head ? head.slot : currentSlot()).digest,
    finalizedRoot,
    finalizedEpoch,
    headRoot: head ? cap.hdrRoot(head) : new Uint8Array(32),
    headSlot: head ? head.slot : 0,
  };
}
const statusDigestHex = () => toHex(currentStatus().forkDigest);

/** Newest block at or before the current slot (REST `head`). */
function headBlock() {
  const now = currentSlot();
  let best = null;
  for (const b of cap.blocks.sorted) if (b.slot <= now) best = b;
  return best;
}
/** The block of the latest finality update's finalized header (REST `finalized`). */
function finalizedBlock() {
  const fin = replay.latest.finality_update;
  return fin ? cap.blocks.byRoot.get(toHex(cap.hdrRoot(fin.value.finalizedHeader.beacon))) ?? null : null;
}

const statusJson = (s) => ({
  fork_digest: toHex(s.forkDigest),
  finalized_root: toHex(s.finalizedRoot),
  finalized_epoch: String(s.finalizedEpoch),
  head_root: toHex(s.headRoot),
  head_slot: String(s.headSlot),
});

const METADATA = { seqNumber: 1n, attnets: ssz.altair.Metadata.fields.attnets.defaultValue(), syncnets: ssz.altair.Metadata.fields.syncnets.defaultValue() };
const metadataJson = (m) => ({ seq_number: m.seqNumber.toString(), attnets: toHex(m.attnets.uint8Array), syncnets: toHex(m.syncnets.uint8Array) });

// start position (step replay; with --clock-start the steps are applied right before the first line)
if (opts.clockStart !== null) {
  // nothing yet
} else if (opts.startSlot !== null) {
  const idx = cap.steps.findIndex((s) => s.entries.some((e) => e.slot >= opts.startSlot));
  if (idx < 0) {
    log(`--start-slot ${opts.startSlot} is past the end of the capture (last attested slot ${cap.steps.at(-1).entries.at(-1).slot})`);
    process.exit(2);
  }
  while (replay.step < idx) applyStep(false);
} else {
  applyStep(false);
}

// ---------------------------------------------------------------------------------------------
// libp2p node

// A fixed identity when asked (the bridge tests publish this key's ENR over discv5); else fresh.
// @libp2p/crypto: pinned in package.json to the version js-libp2p itself depends on.
const peerId = opts.privateKeyHex
  ? await (async () => {
      const { supportedKeys } = await import("@libp2p/crypto/keys");
      const { createFromPrivKey } = await import("@libp2p/peer-id-factory");
      const key = supportedKeys.secp256k1.unmarshalSecp256k1PrivateKey(Buffer.from(opts.privateKeyHex, "hex"));
      return createFromPrivKey(key);
    })()
  : await createSecp256k1PeerId();
// Lodestar v1.22's muxer options: mplex with 256 inbound streams and the default disconnect threshold
// (5 messages per second for missing streams, or for new streams over the limit).
const muxerFactories = { yamux: () => yamux(), mplex: () => mplex({ maxInboundStreams: 256 }) };
const loopMs = opts.clockStart !== null ? Infinity : cap.steps.length * opts.slotMs; // the clock replay does not loop

// js-mplex reports what makes it drop a connection only through its debug log. This logger passes
// every component's log on unchanged (DEBUG=libp2p:mplex* still prints them) and turns mplex's
// "missing stream" and rate-limit lines into events, so tests can see which messages on which streams
// a client sent after we had closed them.
function mplexWatchingLogger() {
  const base = defaultLogger();
  const isAbort = (format) => typeof format === "string" && format.startsWith("rate limit hit");
  return {
    forComponent(name) {
      const log = base.forComponent(name);
      if (name !== "libp2p:mplex") return log;
      // One logger per connection's muxer: the protocols of the streams it ended, by registry and id,
      // so that a message for a missing stream can say which stream it was.
      const ended = new Map();
      const wrapped = (format, ...args) => {
        if (format === "%s stream with id %s and protocol %s ended") {
          ended.set(`${args[0]}/${args[1]}`, String(args[2]));
          if (ended.size > 4096) ended.delete(ended.keys().next().value);
        } else if (format === "missing stream %s for message type %s") {
          const [id, type] = [String(args[0]), String(args[1])];
          // *_INITIATOR messages come from the side that opened the stream: the remote, so it is
          // one of our receiver streams; *_RECEIVER messages are for streams we initiated.
          const registry = type.endsWith("_INITIATOR") ? "receiver" : "initiator";
          emit({ event: "mplex-missing-stream", stream: id, type, protocol: ended.get(`${registry}/${id}`) ?? null, t: Date.now() });
        } else if (format === "too many inbound streams open") {
          emit({ event: "mplex-inbound-limit" });
        } else if (isAbort(format)) {
          emit({ event: "mplex-abort", reason: format });
        }
        log(format, ...args);
      };
      return Object.assign(wrapped, { error: log.error, trace: log.trace, enabled: log.enabled });
    },
  };
}

// it-ws listens on the port alone, on every interface, where a connection from 127.0.0.1 arrives as
// ::ffff:127.0.0.1 and misses the connection manager's allow list: give it a server bound to 127.0.0.1
function loopbackHttpServer() {
  const server = createHttpServer();
  const listen = server.listen.bind(server);
  server.listen = (port) => listen(port, "127.0.0.1");
  return server;
}

const node = await createLibp2p({
  peerId,
  logger: mplexWatchingLogger(),
  // --ws-port: also plain ws:// for browsers, which cannot open TCP connections
  addresses: { listen: [`/ip4/127.0.0.1/tcp/${opts.port}`, ...(opts.wsPort === null ? [] : [`/ip4/127.0.0.1/tcp/${opts.wsPort}/ws`])] },
  transports: [tcp(), ...(opts.wsPort === null ? [] : [webSockets({ server: loopbackHttpServer() })])],
  connectionEncryption: [noise()],
  streamMuxers: opts.muxers.map((m) => muxerFactories[m]()),
  connectionManager: {
    minConnections: 0,
    maxConnections: 256,
    inboundConnectionThreshold: 10000,
    allow: ["/ip4/127.0.0.1"],
  },
  services: {
    identify: identify({ agentVersion: "beacon-p2p-test-peer/js-libp2p-1.4.3" }),
    pubsub: gossipsub({
      globalSignaturePolicy: "StrictNoSign",
      msgIdFn: (msg) => computeMessageId(msg.topic, msg.data),
      fallbackToFloodsub: false,
      floodPublish: true,
      allowPublishToZeroTopicPeers: true,
      ignoreDuplicatePublishError: false,
      emitSelf: false,
      doPX: false,
      D: 4,
      Dlo: 1,
      Dhi: 8,
      Dscore: 1,
      Dout: 0,
      Dlazy: 4,
      heartbeatInterval: 700,
      // our own duplicate cache must not outlive one replay loop, or looped messages are never re-sent
      seenTTL: Math.max(1000, Math.min(120_000, Math.floor(loopMs * 0.8))),
      // Lodestar's thresholds; colocation off since every peer is 127.0.0.1
      scoreParams: { IPColocationFactorWeight: 0, behaviourPenaltyWeight: 0, topics: {} },
      scoreThresholds: { gossipThreshold: -4000, publishThreshold: -8000, graylistThreshold: -16000, acceptPXThreshold: 100, opportunisticGraftThreshold: 5 },
    }),
  },
});

// ---------------------------------------------------------------------------------------------
// req/resp server

const REQUEST_TIMEOUT_MS = 5000; // TTFB-ish bound for receiving the request body
const heldStreams = new Set(); // never-answer streams, kept open on purpose
const peerStr = (connection) => connection.remotePeer.toString();

// Write the response (sink closes our write side), then close the stream at once, as Lodestar does:
// js-mplex forgets a stream once both sides are closed, and counts every later message for it (a
// requester's late CLOSE or RESET) as a "missing stream" message; more than five in a second and it
// closes the connection. A requester that follows the spec (write-close right after the request) never
// trips it. `--drain-grace-ms N` instead waits up to N ms for the requester's write-close first: the
// lenient behaviour this peer used to have, kept only to compare against (no test needs it).
async function writeAndClose(stream, bytes, reader) {
  await stream.sink([bytes]);
  if (opts.drainGraceMs === 0) {
    await stream.close().catch(() => {});
    return;
  }
  // in the background, so that events are not delayed by a requester that keeps its side open
  withTimeout((reader ?? new ByteReader(stream.source)).drain(), opts.drainGraceMs)
    .catch(() => {})
    .finally(() => stream.close().catch(() => {}));
}

/** Register a req/resp protocol. `spec.requestType` (a fixed-size ssz type, or null for "no request
 *  body") or `spec.request` ({bounds: {min, max}, decode(bytes)} for variable-size requests) is read and
 *  decoded, then `spec.respond(req, ctx)` returns {chunks: [{result, ssz, context, message}], info, extra}. */
function serve(protocol, spec) {
  node.handle(
    protocol,
    ({ stream, connection }) => {
      handleInbound(protocol, spec, stream, connection).catch((err) => {
        log(`handler ${protocol} from ${peerStr(connection)} failed: ${err.message}`);
        stream.abort(err);
      });
    },
    { maxInboundStreams: 64, maxOutboundStreams: 64 }
  );
}

async function handleInbound(protocol, spec, stream, connection) {
  const from = peerStr(connection);
  const isLc = LC_PROTOCOLS.has(protocol);
  const isBlocks = BLOCK_PROTOCOLS.has(protocol);
  const hasContext = CONTEXT_PROTOCOLS.has(protocol);
  // --fault applies to the protocols of --fault-protocols; wrong-block is answered by the block handlers
  const inScope = (isLc && opts.faultProtocols !== "blocks") || (isBlocks && opts.faultProtocols !== "light-client");
  let fault = inScope ? opts.fault : null;
  const wrongBlock = fault === "wrong-block" && isBlocks;
  if (fault === "wrong-block" || DATA_FAULTS.has(fault)) fault = null;
  let req = null;
  let reqBytes = null;
  const reader = new ByteReader(stream.source);
  if (spec.requestType || spec.request) {
    const bounds = spec.request ? spec.request.bounds : { min: spec.requestType.fixedSize, max: spec.requestType.fixedSize };
    try {
      reqBytes = await withTimeout(readRequest(reader, bounds), REQUEST_TIMEOUT_MS);
      req = spec.request ? spec.request.decode(reqBytes) : spec.requestType.deserialize(reqBytes);
    } catch (err) {
      const message = err instanceof WireError ? err.message : `invalid request: ${err.message}`;
      await writeAndClose(stream, encodeErrorChunk(RESULT.INVALID_REQUEST, message), reader).catch(() => {});
      emit({ event: "request", protocol, from, result: RESULT.INVALID_REQUEST, chunks: 1, error: message });
      return;
    }
  }
  const { chunks, info, after, extra } = await spec.respond(req, { from, connection, wrongBlock });
  const requestInfo = info ?? null;

  if (fault) {
    await applyFault(fault, stream, chunks, reader);
    emit({ event: "request", protocol, from, request: requestInfo, result: null, fault, ...(extra ?? {}) });
    return;
  }
  const bytes = concat(chunks.map((c) => (c.result === RESULT.SUCCESS ? encodeSuccessChunk(c.ssz, hasContext ? c.context : null) : encodeErrorChunk(c.result, c.message))));
  await writeAndClose(stream, bytes, reader);
  const last = chunks.at(-1);
  const ev = { event: "request", protocol, from, request: requestInfo, result: last ? last.result : RESULT.SUCCESS, chunks: chunks.length, ...(extra ?? {}) };
  if (last && last.result !== RESULT.SUCCESS) ev.error = last.message;
  if (wrongBlock) ev.fault = "wrong-block";
  emit(ev);
  if (after) after();
}

async function applyFault(fault, stream, chunks, reader) {
  const isSuccess = (c) => c.result === RESULT.SUCCESS;
  switch (fault) {
    case "drop-mid-response": {
      // a valid response, cut in half; then close our side (the reader sees EOF mid-chunk)
      let full = concat(chunks.map((c) => (isSuccess(c) ? encodeSuccessChunk(c.ssz, c.context) : encodeErrorChunk(c.result, c.message))));
      if (full.length < 2) full = encodeSuccessChunk(new Uint8Array(64), currentStatus().forkDigest);
      await writeAndClose(stream, full.subarray(0, Math.floor(full.length / 2)), reader);
      return;
    }
    case "error-code":
      await writeAndClose(stream, encodeErrorChunk(RESULT.SERVER_ERROR, "fault injection: server error"), reader);
      return;
    case "garbage":
      await writeAndClose(stream, new Uint8Array(randomBytes(512)), reader);
      return;
    case "wrong-context": {
      const bad = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);
      // success chunks get 0xdeadbeef; error chunks carry no context bytes and stay as they are
      await writeAndClose(stream, concat(chunks.map((c) => (isSuccess(c) ? encodeSuccessChunk(c.ssz, bad) : encodeErrorChunk(c.result, c.message)))), reader);
      return;
    }
    case "oversize-length": {
      const firstChunk = chunks.find(isSuccess);
      const framed = encodeFramed(firstChunk?.ssz ?? new Uint8Array(1024));
      const head = concat([Uint8Array.of(RESULT.SUCCESS), firstChunk?.context ?? currentStatus().forkDigest, encodeVarint(11 * 1024 * 1024), framed.subarray(0, Math.min(framed.length, 1024))]);
      await writeAndClose(stream, head, reader);
      return;
    }
    case "never-answer":
      // request already read; keep the stream open and write nothing until the peer gives up
      heldStreams.add(stream);
      return;
    default:
      throw new Error(`unknown fault ${fault}`);
  }
}

const ok = (sszBytes, context = null) => ({ result: RESULT.SUCCESS, ssz: sszBytes, context });
const err = (result, message) => ({ result, message });

serve(PROTOCOLS.status, {
  requestType: ssz.phase0.Status,
  respond: (req, { from }) => {
    const theirs = statusJson(req);
    emit({ event: "status", from, status: theirs, forkDigestMatches: theirs.fork_digest === statusDigestHex() });
    const mine = currentStatus();
    return { chunks: [ok(ssz.phase0.Status.serialize(mine))], info: { status: theirs } };
  },
});

serve(PROTOCOLS.ping, {
  requestType: ssz.phase0.Ping,
  respond: (req, { from }) => {
    emit({ event: "ping", from, seq: req.toString() });
    return { chunks: [ok(ssz.phase0.Ping.serialize(METADATA.seqNumber))], info: { seq: req.toString() } };
  },
});

serve(PROTOCOLS.metadata, {
  requestType: null,
  respond: (_req, { from }) => {
    emit({ event: "metadata-request", from });
    return { chunks: [ok(ssz.altair.Metadata.serialize(METADATA))] };
  },
});

serve(PROTOCOLS.goodbye, {
  requestType: ssz.phase0.Goodbye,
  respond: (req, { from, connection }) => {
    log(`goodbye from ${from}, reason ${req}`);
    emit({ event: "goodbye", from, reason: req.toString() });
    // like Lodestar: answer Goodbye(0), then disconnect
    return {
      chunks: [ok(ssz.phase0.Goodbye.serialize(0n))],
      info: { reason: req.toString() },
      after: () => setTimeout(() => connection.close().catch(() => {}), 100),
    };
  },
});

serve(PROTOCOLS.bootstrap, {
  requestType: ssz.Root,
  respond: (req) => {
    const root = toHex(req);
    const b = cap.bootstraps.get(root);
    if (!b) return { chunks: [err(RESULT.RESOURCE_UNAVAILABLE, "bootstrap not available")], info: { root } };
    return { chunks: [ok(b.bytes, b.context)], info: { root, slot: b.slot } };
  },
});

if (opts.updatesByRange) {
  serve(PROTOCOLS.updatesByRange, {
    requestType: ssz.altair.LightClientUpdatesByRange,
    respond: (req) => {
      const start = Number(req.startPeriod);
      const count = Math.min(128, Number(req.count)); // MAX_REQUEST_LIGHT_CLIENT_UPDATES, like Lodestar
      const cur = currentPeriod();
      const chunks = [];
      for (let p = start; p < start + count; p++) {
        const u = servableUpdate(p);
        if (!u) {
          // Lodestar: a period it has no update for (e.g. past the current one) ends the response with SERVER_ERROR
          chunks.push(err(RESULT.SERVER_ERROR, `No partialUpdate available for period ${p}`));
          break;
        }
        chunks.push(ok(u.bytes, u.context));
      }
      return { chunks, info: { start_period: String(req.startPeriod), count: String(req.count), current_period: cur } };
    },
  });
}

serve(PROTOCOLS.finalityUpdate, {
  requestType: null,
  respond: () => {
    const latest = replay.latest.finality_update;
    // --fault stale-finality: the oldest finality update there is, valid but long superseded
    const u = opts.fault === "stale-finality" && latest ? [...cap.objects.finality_update.values()].sort((a, b) => a.slot - b.slot)[0] : latest;
    if (!u) return { chunks: [err(RESULT.RESOURCE_UNAVAILABLE, "No latest finality update available")] };
    return { chunks: [ok(u.bytes, u.context)], info: { attested_slot: u.slot, signature_slot: u.signatureSlot } };
  },
});

serve(PROTOCOLS.optimisticUpdate, {
  requestType: null,
  respond: () => {
    const u = replay.latest.optimistic_update;
    if (!u) return { chunks: [err(RESULT.RESOURCE_UNAVAILABLE, "No latest optimistic update available")] };
    return { chunks: [ok(u.bytes, u.context)], info: { attested_slot: u.slot, signature_slot: u.signatureSlot } };
  },
});

// beacon_blocks_by_range/2 and beacon_blocks_by_root/2: only when the data directory has blocks/.
// Every success chunk has the context bytes of the block's slot. With --fault wrong-block (scoped to
// the block protocols), by_root answers each known root with another block (the next one in slot
// order, wrapping around), and by_range puts a block from outside the range first (the nearest after
// it, else before it).
const blockChunk = (b) => ok(b.bytes, b.context);
const blockSlots = (list) => list.map((b) => String(b.slot));
function outsideRange(start, end) {
  return cap.blocks.sorted.find((b) => b.slot >= end) ?? [...cap.blocks.sorted].reverse().find((b) => b.slot < start) ?? null;
}
function otherBlock(b, asked) {
  const i = cap.blocks.sorted.indexOf(b);
  for (let k = 1; k <= cap.blocks.sorted.length; k++) {
    const c = cap.blocks.sorted[((i < 0 ? 0 : i) + k) % cap.blocks.sorted.length];
    if (!asked.has(c.root)) return c;
  }
  return null;
}

if (cap.hasBlocks) {
  serve(PROTOCOLS.blocksByRange, {
    requestType: ssz.phase0.BeaconBlocksByRangeRequest,
    respond: (req, { wrongBlock }) => {
      const info = { start_slot: String(req.startSlot), count: String(req.count), step: String(req.step) };
      if (req.step !== 1) return { chunks: [err(RESULT.INVALID_REQUEST, `step ${req.step}: only step 1 is supported`)], info };
      const start = Number(req.startSlot);
      const count = Math.min(MAX_REQUEST_BLOCKS_DENEB, Number(req.count)); // capped, like Lodestar
      const end = start + count;
      let list = cap.blocks.sorted.filter((b) => b.slot >= start && b.slot < end);
      if (wrongBlock) {
        const out = outsideRange(start, end);
        if (out) list = [out, ...list.slice(1)];
      }
      return { chunks: list.map(blockChunk), info, extra: { slots: blockSlots(list) } };
    },
  });
  serve(PROTOCOLS.blocksByRoot, {
    // List[Root, MAX_REQUEST_BLOCKS_DENEB]: 0..128 roots of 32 bytes
    request: {
      bounds: { min: 0, max: MAX_REQUEST_BLOCKS_DENEB * 32 },
      decode: (bytes) => {
        if (bytes.length % 32 !== 0) throw new Error(`BeaconBlocksByRootRequest of ${bytes.length} bytes is not a multiple of 32`);
        const roots = [];
        for (let o = 0; o < bytes.length; o += 32) roots.push(toHex(bytes.subarray(o, o + 32)));
        return roots;
      },
    },
    respond: (roots, { wrongBlock }) => {
      const asked = new Set(roots);
      let list = roots.map((r) => cap.blocks.byRoot.get(r)).filter(Boolean);
      if (wrongBlock) {
        list = list.map((b) => otherBlock(b, asked)).filter(Boolean);
        if (list.length === 0 && cap.blocks.sorted.length) list = [otherBlock(null, asked)].filter(Boolean);
      }
      return { chunks: list.map(blockChunk), info: { roots }, extra: { slots: blockSlots(list) } };
    },
  });
}

// ---------------------------------------------------------------------------------------------
// outbound handshake: Status, Ping, MetaData to every new connection (like CL clients do)

async function askPeer(connection, protocol, body, decode, name) {
  const peer = peerStr(connection);
  try {
    const { chunks } = await sendRequest(connection, protocol, body, { timeoutMs: 10000, maxChunks: 1 });
    if (chunks.length !== 1) throw new Error(`expected 1 response chunk, got ${chunks.length}`);
    const c = chunks[0];
    if (c.result !== RESULT.SUCCESS) throw new Error(`result ${c.result}: ${c.errorMessage}`);
    const detail = decode(c.payload);
    emit({ event: "peer-answered", peer, protocol: name, ok: true, detail });
  } catch (e) {
    emit({ event: "peer-answered", peer, protocol: name, ok: false, detail: e.message });
  }
}

const askStatus = (c) =>
  askPeer(c, PROTOCOLS.status, ssz.phase0.Status.serialize(currentStatus()), (b) => {
    if (b.length !== ssz.phase0.Status.fixedSize) throw new Error(`Status is ${b.length} bytes, expected 84`);
    const s = statusJson(ssz.phase0.Status.deserialize(b));
    return { ...s, forkDigestMatches: s.fork_digest === statusDigestHex() };
  }, "status");
const askPing = (c) =>
  askPeer(c, PROTOCOLS.ping, ssz.phase0.Ping.serialize(METADATA.seqNumber), (b) => {
    if (b.length !== 8) throw new Error(`Ping is ${b.length} bytes, expected 8`);
    return { seq: ssz.phase0.Ping.deserialize(b).toString() };
  }, "ping");
const askMetadata = (c) =>
  askPeer(c, PROTOCOLS.metadata, null, (b) => {
    if (b.length !== ssz.altair.Metadata.fixedSize) throw new Error(`MetaData is ${b.length} bytes, expected 17`);
    return metadataJson(ssz.altair.Metadata.deserialize(b));
  }, "metadata");

const pingTimers = new Map();

node.addEventListener("connection:open", (evt) => {
  const c = evt.detail;
  emit({ event: "connection", peer: peerStr(c), direction: c.direction, remoteAddr: c.remoteAddr.toString(), muxer: c.multiplexer ?? null, encryption: c.encryption ?? null });
  log(`connection ${c.direction} ${peerStr(c)} ${c.remoteAddr} muxer ${c.multiplexer}`);
  if (opts.handshake) {
    (async () => {
      await askStatus(c);
      await askPing(c);
      await askMetadata(c);
    })().catch((e) => log(`handshake with ${peerStr(c)} failed: ${e.message}`));
  }
  if (opts.pingIntervalMs > 0) {
    pingTimers.set(c.id, setInterval(() => { if (c.status === "open") askPing(c); }, opts.pingIntervalMs));
  }
});

node.addEventListener("connection:close", (evt) => {
  const c = evt.detail;
  clearInterval(pingTimers.get(c.id));
  pingTimers.delete(c.id);
  for (const s of heldStreams) if (s.status !== "open") heldStreams.delete(s);
  emit({ event: "disconnection", peer: peerStr(c) });
  log(`connection closed ${peerStr(c)}`);
});

node.addEventListener("peer:identify", (evt) => {
  const d = evt.detail;
  emit({ event: "identify", peer: d.peerId.toString(), agentVersion: d.agentVersion ?? null, protocolVersion: d.protocolVersion ?? null, protocols: d.protocols ?? [] });
});

// ---------------------------------------------------------------------------------------------
// gossip

const pubsub = node.services.pubsub;

pubsub.addEventListener("subscription-change", (evt) => {
  for (const s of evt.detail.subscriptions) emit({ event: "subscription", peer: evt.detail.peerId.toString(), topic: s.topic, subscribe: s.subscribe });
});
pubsub.addEventListener("gossipsub:graft", (evt) => emit({ event: "graft", peer: evt.detail.peerId, topic: evt.detail.topic }));
pubsub.addEventListener("gossipsub:prune", (evt) => emit({ event: "prune", peer: evt.detail.peerId, topic: evt.detail.topic }));
pubsub.addEventListener("gossipsub:message", (evt) => {
  const { propagationSource, msg } = evt.detail;
  emit({ event: "gossip-received", from: propagationSource.toString(), topic: msg.topic, msgId: toHex(computeMessageId(msg.topic, msg.data)), bytes: msg.data.length });
});

// For soak runs: each replay loop moves every gossiped object forward by a whole number of
// sync-committee periods past the capture, so a client that ignores updates older than the ones
// it already forwarded keeps receiving new ones. The signatures no longer verify (soak only).
const LOOP_SHIFT = (() => {
  const slots = cap.steps.flatMap((s) => s.entries.map((e) => e.slot));
  const period = cap.slotsPerEpoch * cap.epochsPerPeriod;
  return Math.ceil((Math.max(...slots) + 1) / period) * period;
})();

function shifted(obj) {
  if (!opts.shiftSlotsOnLoop || replay.loop === 0) return obj;
  const type = obj.type;
  const value = type.clone(obj.value);
  const by = replay.loop * LOOP_SHIFT;
  value.attestedHeader.beacon.slot += by;
  if (value.finalizedHeader) value.finalizedHeader.beacon.slot += by;
  value.signatureSlot += by;
  return { ...obj, value, bytes: type.serialize(value), slot: value.attestedHeader.beacon.slot, signatureSlot: value.signatureSlot };
}

function publishObject(original) {
  const obj = shifted(original);
  // the digest in force at the signature slot (the fork of "now" when the update is published)
  const topic = topicFor(obj.kind, cap.forkAtSlot(obj.signatureSlot).digestHex);
  const data = gossipEncode(obj.bytes);
  const msgId = toHex(computeMessageId(topic, data));
  const base = { topic, kind: obj.kind, slot: obj.slot, signatureSlot: obj.signatureSlot, msgId, step: replay.step, loop: replay.loop };
  pubsub
    .publish(topic, data)
    .then((r) => emit({ event: "published", ...base, recipients: r.recipients.map((p) => p.toString()) }))
    .catch((e) => {
      emit({ event: "publish-skipped", ...base, reason: e.message });
      log(`publish ${obj.kind} slot ${obj.slot} skipped: ${e.message}`);
    });
}

// ---------------------------------------------------------------------------------------------
// Beacon REST API (--rest-port): the four light-client routes as JSON {version, data}, from the
// same state req/resp serves (replay position, bootstraps, per-period updates). 127.0.0.1 only.

async function startRest(port) {
  const { createServer } = await import("node:http");
  const PREFIX = "/eth/v1/beacon/light_client/";
  const BLOCKS = "/eth/v2/beacon/blocks/";
  const json = (fork, type, bytes) => ({ version: fork, data: type.toJson(type.deserialize(bytes)) });
  const fail = (res, code, message) => send(res, code, { code, message });
  // body: an object (JSON.stringify'd), a string (JSON text as is) or a Uint8Array (SSZ)
  const send = (res, code, body, headers = {}) => {
    const isSsz = body instanceof Uint8Array;
    const payload = isSsz ? Buffer.from(body) : typeof body === "string" ? body : JSON.stringify(body);
    // Any origin may read it, like public Beacon-API providers: the browser tests run Helios
    // against it from the bridge's page to compare with the p2p path.
    res.writeHead(code, { "content-type": isSsz ? "application/octet-stream" : "application/json", "content-length": Buffer.byteLength(payload), "access-control-allow-origin": "*", ...headers });
    res.end(payload);
  };
  const e404 = (message) => [404, { code: 404, message }];
  const e400 = (message) => [400, { code: 400, message }];
  // GET /eth/v2/beacon/blocks/{block_id}: head | finalized | <slot> | 0x<root>
  const blockRoute = (id, wantsSsz) => {
    let b;
    if (id === "head") b = headBlock();
    else if (id === "finalized") b = finalizedBlock();
    else if (/^\d+$/.test(id)) b = cap.blocks.bySlot.get(Number(id));
    else if (/^0x[0-9a-fA-F]{64}$/.test(id)) b = cap.blocks.byRoot.get(id.toLowerCase());
    else return e400(`Invalid block id '${id}'`);
    if (!b) return e404(`No block found for id '${id}'`);
    const headers = { "eth-consensus-version": b.fork };
    return wantsSsz ? [200, b.bytes, headers] : [200, b.json, headers];
  };
  const route = (url, wantsSsz) => {
    const path = url.pathname;
    if (cap.hasBlocks && path.startsWith(BLOCKS) && path.length > BLOCKS.length && !path.slice(BLOCKS.length).includes("/")) {
      let id;
      try {
        id = decodeURIComponent(path.slice(BLOCKS.length));
      } catch {
        return e400(`Invalid block id '${path.slice(BLOCKS.length)}'`);
      }
      return blockRoute(id, wantsSsz);
    }
    if (!path.startsWith(PREFIX)) return e404(`no route ${path}`);
    const rest = path.slice(PREFIX.length);
    if (rest.startsWith("bootstrap/")) {
      const root = rest.slice("bootstrap/".length).toLowerCase();
      if (!/^0x[0-9a-f]{64}$/.test(root)) return e400(`invalid block root ${root}`);
      const b = cap.bootstraps.get(root);
      if (!b) return e404("bootstrap not available");
      return [200, json(b.fork, b.type, b.bytes)];
    }
    if (rest === "updates") {
      const start = url.searchParams.get("start_period");
      const count = url.searchParams.get("count");
      if (!/^\d+$/.test(start ?? "") || !/^\d+$/.test(count ?? "") || Number(count) < 1) {
        return e400("start_period and count (>= 1) are required integers");
      }
      const items = [];
      // like updates_by_range: consecutive periods up to the current one, capped at 128
      for (let p = Number(start); p < Number(start) + Math.min(128, Number(count)); p++) {
        const u = servableUpdate(p);
        if (!u) break;
        items.push(json(u.fork, u.type, u.bytes));
      }
      if (items.length === 0) return e404(`No partialUpdate available for period ${start}`);
      return [200, items];
    }
    const kind = { finality_update: "finality_update", optimistic_update: "optimistic_update" }[rest];
    if (!kind) return e404(`no route ${path}`);
    const u = replay.latest[kind];
    if (!u) return e404(`No latest ${kind.replace("_", " ")} available`);
    return [200, { version: u.fork, data: u.type.toJson(u.value) }];
  };
  const server = createServer((req, res) => {
    if (req.method !== "GET") return fail(res, 405, `method ${req.method} not allowed`);
    let answer;
    try {
      answer = route(new URL(req.url, "http://127.0.0.1"), /application\/octet-stream/i.test(req.headers.accept ?? ""));
    } catch (e) {
      answer = [500, { code: 500, message: e.message }];
    }
    emit({ event: "rest-request", path: req.url, status: answer[0] });
    send(res, answer[0], answer[1], answer[2]);
  });
  await new Promise((ok, no) => {
    server.once("error", no);
    server.listen(port, "127.0.0.1", ok);
  });
  shutdownHooks.push(() => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }));
  return `127.0.0.1:${server.address().port}`;
}

// ---------------------------------------------------------------------------------------------
// start

shutdownHooks.push(() => node.stop());
await node.start();
if (stopping) await new Promise(() => {}); // a signal arrived while starting: shutdown() exits
for (const t of ALL_TOPICS) pubsub.subscribe(t); // every digest the data spans

// the TCP and the ws listen address (a ws address starts like a TCP one: /ip4/…/tcp/N/ws)
const listening = (re) => {
  const a = node.getMultiaddrs().map((m) => m.toString()).find((m) => re.test(m));
  return a && (a.includes("/p2p/") ? a : `${a}/p2p/${peerId.toString()}`);
};
const multiaddr = listening(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+(\/p2p\/|$)/);
const wsMultiaddr = opts.wsPort === null ? null : listening(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws(\/p2p\/|$)/);
if (!multiaddr || wsMultiaddr === undefined) {
  log("FATAL: not listening on 127.0.0.1");
  process.exit(1);
}
const restAddress = opts.restPort === null ? null : await startRest(opts.restPort);
if (opts.clockStart !== null) {
  // the clock starts now, at --clock-start: every arrival whose time has passed is applied silently
  clock.t0 = performance.now();
  while (replay.step + 1 < cap.steps.length && cap.steps[replay.step + 1].at <= nowUnix()) applyStep(false);
}
emit({
  peerId: peerId.toString(),
  multiaddr,
  wsMultiaddr,
  protocols: node.getProtocols(),
  muxers: opts.muxers.map((m) => MUXER_IDS[m]),
  forkDigest: statusDigestHex(),
  topics: ALL_TOPICS,
  fault: opts.fault,
  slotMs: opts.slotMs,
  gossip: opts.gossip,
  replay: { step: replay.step, steps: cap.steps.length, headSlot: latestSlot(), period: currentPeriod() },
  ...(restAddress ? { rest: restAddress } : {}),
  preset: cap.preset,
  slotDurationMs: cap.slotMsCfg,
  forkDigests: cap.digests.map((d) => ({ name: d.name, fork: d.fork, epoch: d.epoch.toString(), digest: d.digestHex })),
  blocks: cap.hasBlocks ? cap.blocks.sorted.length : null,
  faultProtocols: opts.faultProtocols,
  clockStart: opts.clockStart,
});
log(`listening on ${multiaddr}${wsMultiaddr ? ` and ${wsMultiaddr}` : ""} (muxers ${opts.muxers.join(",")}${opts.fault ? `, fault ${opts.fault}` : ""}${opts.updatesByRange ? "" : ", no updates_by_range"})`);

// step replay: one step every --slot-ms, looping. --clock-start: each step when its arrival time
// passes (published then, unless --no-gossip); after the last one the replay stays there.
let ticker = null;
let clockTimer = null;
if (opts.clockStart === null) {
  ticker = setInterval(() => applyStep(opts.gossip), opts.slotMs);
} else {
  const scheduleNext = () => {
    if (replay.step + 1 >= cap.steps.length) {
      log("clock replay: the last arrival is applied");
      return;
    }
    const delay = Math.max(0, (cap.steps[replay.step + 1].at - nowUnix()) * 1000);
    clockTimer = setTimeout(() => {
      applyStep(opts.gossip);
      scheduleNext();
    }, Math.min(delay, 2 ** 31 - 1));
  };
  scheduleNext();
}
shutdownHooks.push(() => {
  clearInterval(ticker);
  clearTimeout(clockTimer);
  for (const t of pingTimers.values()) clearInterval(t);
});

// registered only now: during startup an error must still end the process (non-zero)
process.on("unhandledRejection", (e) => log(`unhandled rejection: ${e?.stack ?? e}`));
process.on("uncaughtException", (e) => log(`uncaught exception: ${e?.stack ?? e}`));
