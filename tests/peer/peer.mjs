#!/usr/bin/env node
// A js-libp2p peer that looks like an Ethereum consensus-layer beacon node to a light client:
// CL req/resp handshake (status, ping, metadata, goodbye), the four light-client req/resp protocols
// and light-client gossip, all served from the real devnet capture in ../data/devnet-capture.
//
// stdout: line 1 = {"peerId","multiaddr","protocols","muxers","forkDigest", ...} once listening,
//         then one JSON object per event. stderr: human logs. See README.md.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

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

// The capture is minimal preset: @lodestar/params reads this at import time, so set it first.
process.env.LODESTAR_PRESET = "minimal";

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
  ]);
} catch (e) {
  if (e?.code === "ERR_MODULE_NOT_FOUND") {
    process.stderr.write(`test peer: dependencies missing (${e.message}).\nRun: (cd ${HERE} && npm ci)\n`);
    process.exit(3);
  }
  throw e;
}
const [{ createLibp2p }, { tcp }, { noise }, { yamux }, { mplex }, { identify }, { gossipsub }, { createSecp256k1PeerId }, { ssz }, lodestarParams, wire, { defaultLogger }] = mods;
const {
  ByteReader,
  PROTOCOLS,
  LC_PROTOCOLS,
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
} = wire;

const FAULTS = ["drop-mid-response", "error-code", "garbage", "wrong-context", "oversize-length", "never-answer"];
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
  process.stderr.write(`usage: node peer.mjs [--port N] [--muxers yamux,mplex|yamux|mplex] [--no-updates-by-range]
                    [--fault ${FAULTS.join("|")}] [--data DIR] [--slot-ms N] [--no-gossip]
                    [--start-slot S] [--ping-interval-ms N] [--no-handshake]
                    [--shift-slots-on-loop] [--private-key-hex HEX] [--rest-port N]
                    [--drain-grace-ms N]
`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = {
    port: 0,
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
  return o;
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// chain config + capture

function parseConfigYaml(text) {
  const cfg = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+):\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2];
    if (/^".*"$/.test(v) || /^'.*'$/.test(v)) v = v.slice(1, -1);
    cfg[m[1]] = v;
  }
  return cfg;
}

function loadCapture(dir) {
  if (!existsSync(join(dir, "meta.json"))) throw new Error(`no capture at ${dir} (meta.json missing)`);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
  const cfg = parseConfigYaml(readFileSync(join(dir, "config.yaml"), "utf8"));
  const gvr = fromHex(meta.genesis.genesis_validators_root);
  const slotsPerEpoch = 8; // minimal preset (checked against @lodestar/params below)
  const epochsPerPeriod = Number(cfg.EPOCHS_PER_SYNC_COMMITTEE_PERIOD ?? 8);

  // fork schedule (phase0 .. electra); the capture is deneb throughout
  const FAR = 2n ** 64n - 1n;
  const forks = [["phase0", "GENESIS_FORK_VERSION", null], ["altair", "ALTAIR_FORK_VERSION", "ALTAIR_FORK_EPOCH"], ["bellatrix", "BELLATRIX_FORK_VERSION", "BELLATRIX_FORK_EPOCH"], ["capella", "CAPELLA_FORK_VERSION", "CAPELLA_FORK_EPOCH"], ["deneb", "DENEB_FORK_VERSION", "DENEB_FORK_EPOCH"], ["electra", "ELECTRA_FORK_VERSION", "ELECTRA_FORK_EPOCH"], ["fulu", "FULU_FORK_VERSION", "FULU_FORK_EPOCH"]]
    .filter(([, v]) => cfg[v] !== undefined)
    .map(([name, v, e]) => ({ name, version: fromHex(cfg[v]), epoch: e ? BigInt(cfg[e] ?? FAR) : 0n }))
    .filter((f) => f.epoch !== FAR);
  for (const f of forks) f.digest = computeForkDigest(f.version, gvr);
  const forkAtSlot = (slot) => {
    const epoch = BigInt(Math.floor(slot / slotsPerEpoch));
    let cur = forks[0];
    for (const f of forks) if (f.epoch <= epoch) cur = f;
    if (cur.name === "fulu") throw new Error("fulu digests (BPO) not implemented in the test peer");
    return cur;
  };
  const deneb = forks.find((f) => f.name === "deneb");
  if (!deneb) throw new Error("config has no DENEB fork");

  const hdrRoot = (beacon) => ssz.phase0.BeaconBlockHeader.hashTreeRoot(beacon);
  const checkDeneb = (what, slot) => {
    const f = forkAtSlot(slot);
    if (f.name !== "deneb") throw new Error(`${what}: slot ${slot} is in fork ${f.name}; the test peer only serves deneb objects`);
    return f.digest;
  };

  // bootstraps: root -> {bytes, slot, context}
  const bootstraps = new Map();
  for (const f of readdirSync(join(dir, "bootstrap")).filter((f) => f.endsWith(".ssz")).sort()) {
    const bytes = new Uint8Array(readFileSync(join(dir, "bootstrap", f)));
    const v = ssz.deneb.LightClientBootstrap.deserialize(bytes);
    const root = toHex(hdrRoot(v.header.beacon));
    const nameRoot = /_(0x[0-9a-f]{64})\.ssz$/.exec(f)?.[1];
    if (nameRoot && nameRoot !== root) throw new Error(`bootstrap ${f}: header root ${root} does not match the file name`);
    bootstraps.set(root, { bytes, slot: v.header.beacon.slot, context: checkDeneb(`bootstrap ${f}`, v.header.beacon.slot), file: f });
  }

  // updates per period (JSON only in the capture)
  const updates = new Map();
  for (const f of readdirSync(join(dir, "updates")).filter((f) => /^period_\d+\.json$/.test(f)).sort()) {
    const items = JSON.parse(readFileSync(join(dir, "updates", f), "utf8"));
    for (const item of Array.isArray(items) ? items : [items]) {
      if (item.version && item.version !== "deneb") throw new Error(`updates ${f}: version ${item.version} (only deneb)`);
      const v = ssz.deneb.LightClientUpdate.fromJson(item.data);
      const bytes = ssz.deneb.LightClientUpdate.serialize(v);
      const slot = v.attestedHeader.beacon.slot;
      const period = Math.floor(slot / slotsPerEpoch / epochsPerPeriod);
      updates.set(period, { bytes, slot, signatureSlot: v.signatureSlot, context: checkDeneb(`update ${f}`, slot), file: f });
    }
  }

  // finality / optimistic updates by file stem
  const objects = { finality_update: new Map(), optimistic_update: new Map() };
  const types = { finality_update: ssz.deneb.LightClientFinalityUpdate, optimistic_update: ssz.deneb.LightClientOptimisticUpdate };
  for (const kind of Object.keys(objects)) {
    for (const f of readdirSync(join(dir, kind)).filter((f) => f.endsWith(".ssz")).sort()) {
      const bytes = new Uint8Array(readFileSync(join(dir, kind, f)));
      const value = types[kind].deserialize(bytes);
      const slot = value.attestedHeader.beacon.slot;
      objects[kind].set(f.replace(/\.ssz$/, ""), { kind, bytes, value, slot, signatureSlot: value.signatureSlot, context: checkDeneb(`${kind} ${f}`, slot), file: f });
    }
  }

  // replay steps: arrivals that came together (within 0.5 s of the step's first arrival) form one step
  const arrivals = JSON.parse(readFileSync(join(dir, "arrivals.json"), "utf8"));
  const steps = [];
  for (const a of arrivals) {
    const obj = objects[a.kind]?.get(a.file);
    if (!obj) throw new Error(`arrivals.json: ${a.kind}/${a.file} not found`);
    const last = steps[steps.length - 1];
    if (last && a.t - last.t < 0.5) last.entries.push(obj);
    else steps.push({ t: a.t, entries: [obj] });
  }
  if (steps.length === 0) throw new Error("arrivals.json is empty");

  return { meta, cfg, gvr, forks, deneb, forkAtSlot, hdrRoot, bootstraps, updates, objects, steps, slotsPerEpoch, epochsPerPeriod };
}

const cap = loadCapture(opts.data);
{
  const { SLOTS_PER_EPOCH } = lodestarParams;
  if (SLOTS_PER_EPOCH !== cap.slotsPerEpoch) throw new Error(`@lodestar/params is not minimal preset (SLOTS_PER_EPOCH=${SLOTS_PER_EPOCH})`);
}
const FORK_DIGEST = cap.deneb.digest;
const FORK_DIGEST_HEX = toHex(FORK_DIGEST);
if (FORK_DIGEST_HEX !== "0x8cdad603") {
  log(`FATAL: computed deneb fork digest ${FORK_DIGEST_HEX}, expected 0x8cdad603`);
  process.exit(1);
}
const TOPICS = {
  finality_update: gossipTopic(FORK_DIGEST_HEX, "light_client_finality_update"),
  optimistic_update: gossipTopic(FORK_DIGEST_HEX, "light_client_optimistic_update"),
};
log(`capture ${opts.data}: ${cap.bootstraps.size} bootstraps, periods [${[...cap.updates.keys()].join(",")}], ${cap.objects.finality_update.size} finality + ${cap.objects.optimistic_update.size} optimistic updates in ${cap.steps.length} replay steps; fork digest ${FORK_DIGEST_HEX}`);

// ---------------------------------------------------------------------------------------------
// replay state

const replay = { step: -1, loop: 0, latest: { finality_update: null, optimistic_update: null } };

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
    if (publish) publishObject(obj);
  }
}

const latestSlot = () => Math.max(replay.latest.finality_update?.slot ?? 0, replay.latest.optimistic_update?.slot ?? 0);
const currentPeriod = () => Math.floor(latestSlot() / cap.slotsPerEpoch / cap.epochsPerPeriod);

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
    forkDigest: head ? cap.forkAtSlot(head.slot).digest : FORK_DIGEST,
    finalizedRoot,
    finalizedEpoch,
    headRoot: head ? cap.hdrRoot(head) : new Uint8Array(32),
    headSlot: head ? head.slot : 0,
  };
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

// start position
if (opts.startSlot !== null) {
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
const loopMs = cap.steps.length * opts.slotMs;

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

const node = await createLibp2p({
  peerId,
  logger: mplexWatchingLogger(),
  addresses: { listen: [`/ip4/127.0.0.1/tcp/${opts.port}`] },
  transports: [tcp()],
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

/** Register a req/resp protocol. `spec.requestType` (an ssz type or null for "no request body") is
 *  read and decoded, then `spec.respond(req, ctx)` returns {chunks: [{result, ssz, context, message}], info}. */
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
  const fault = isLc ? opts.fault : null;
  let req = null;
  let reqBytes = null;
  const reader = new ByteReader(stream.source);
  if (spec.requestType) {
    const size = spec.requestType.fixedSize;
    try {
      reqBytes = await withTimeout(readRequest(reader, { min: size, max: size }), REQUEST_TIMEOUT_MS);
      req = spec.requestType.deserialize(reqBytes);
    } catch (err) {
      const message = err instanceof WireError ? err.message : `invalid request: ${err.message}`;
      await writeAndClose(stream, encodeErrorChunk(RESULT.INVALID_REQUEST, message), reader).catch(() => {});
      emit({ event: "request", protocol, from, result: RESULT.INVALID_REQUEST, chunks: 1, error: message });
      return;
    }
  }
  const { chunks, info, after } = await spec.respond(req, { from, connection });
  const requestInfo = info ?? null;

  if (fault) {
    await applyFault(fault, stream, chunks, reader);
    emit({ event: "request", protocol, from, request: requestInfo, result: null, fault });
    return;
  }
  const bytes = concat(chunks.map((c) => (c.result === RESULT.SUCCESS ? encodeSuccessChunk(c.ssz, isLc ? c.context : null) : encodeErrorChunk(c.result, c.message))));
  await writeAndClose(stream, bytes, reader);
  const last = chunks.at(-1);
  const ev = { event: "request", protocol, from, request: requestInfo, result: last ? last.result : RESULT.SUCCESS, chunks: chunks.length };
  if (last && last.result !== RESULT.SUCCESS) ev.error = last.message;
  emit(ev);
  if (after) after();
}

async function applyFault(fault, stream, chunks, reader) {
  const isSuccess = (c) => c.result === RESULT.SUCCESS;
  switch (fault) {
    case "drop-mid-response": {
      // a valid response, cut in half; then close our side (the reader sees EOF mid-chunk)
      let full = concat(chunks.map((c) => (isSuccess(c) ? encodeSuccessChunk(c.ssz, c.context) : encodeErrorChunk(c.result, c.message))));
      if (full.length < 2) full = encodeSuccessChunk(new Uint8Array(64), FORK_DIGEST);
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
      const first = chunks.find(isSuccess)?.ssz ?? new Uint8Array(1024);
      const framed = encodeFramed(first);
      const head = concat([Uint8Array.of(RESULT.SUCCESS), FORK_DIGEST, encodeVarint(11 * 1024 * 1024), framed.subarray(0, Math.min(framed.length, 1024))]);
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
    emit({ event: "status", from, status: theirs, forkDigestMatches: theirs.fork_digest === FORK_DIGEST_HEX });
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
        const u = p <= cur ? cap.updates.get(p) : undefined;
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
    const u = replay.latest.finality_update;
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
    return { ...s, forkDigestMatches: s.fork_digest === FORK_DIGEST_HEX };
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
  const type = obj.kind === "finality_update" ? ssz.deneb.LightClientFinalityUpdate : ssz.deneb.LightClientOptimisticUpdate;
  const value = type.clone(obj.value);
  const by = replay.loop * LOOP_SHIFT;
  value.attestedHeader.beacon.slot += by;
  if (value.finalizedHeader) value.finalizedHeader.beacon.slot += by;
  value.signatureSlot += by;
  return { ...obj, value, bytes: type.serialize(value), slot: value.attestedHeader.beacon.slot, signatureSlot: value.signatureSlot };
}

function publishObject(original) {
  const obj = shifted(original);
  const topic = TOPICS[obj.kind];
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
  const json = (fork, type, bytes) => ({ version: fork, data: type.toJson(type.deserialize(bytes)) });
  const fail = (res, code, message) => send(res, code, { code, message });
  const send = (res, code, body) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const route = (url) => {
    const path = url.pathname;
    if (!path.startsWith(PREFIX)) return [404, { code: 404, message: `no route ${path}` }];
    const rest = path.slice(PREFIX.length);
    if (rest.startsWith("bootstrap/")) {
      const root = rest.slice("bootstrap/".length).toLowerCase();
      if (!/^0x[0-9a-f]{64}$/.test(root)) return [400, { code: 400, message: `invalid block root ${root}` }];
      const b = cap.bootstraps.get(root);
      if (!b) return [404, { code: 404, message: "bootstrap not available" }];
      return [200, json(cap.forkAtSlot(b.slot).name, ssz.deneb.LightClientBootstrap, b.bytes)];
    }
    if (rest === "updates") {
      const start = url.searchParams.get("start_period");
      const count = url.searchParams.get("count");
      if (!/^\d+$/.test(start ?? "") || !/^\d+$/.test(count ?? "") || Number(count) < 1) {
        return [400, { code: 400, message: "start_period and count (>= 1) are required integers" }];
      }
      const cur = currentPeriod();
      const items = [];
      // like updates_by_range: consecutive periods up to the current one, capped at 128
      for (let p = Number(start); p < Number(start) + Math.min(128, Number(count)); p++) {
        const u = p <= cur ? cap.updates.get(p) : undefined;
        if (!u) break;
        items.push(json(cap.forkAtSlot(u.slot).name, ssz.deneb.LightClientUpdate, u.bytes));
      }
      if (items.length === 0) return [404, { code: 404, message: `No partialUpdate available for period ${start}` }];
      return [200, items];
    }
    const kind = { finality_update: "finality_update", optimistic_update: "optimistic_update" }[rest];
    if (!kind) return [404, { code: 404, message: `no route ${path}` }];
    const u = replay.latest[kind];
    if (!u) return [404, { code: 404, message: `No latest ${kind.replace("_", " ")} available` }];
    const type = kind === "finality_update" ? ssz.deneb.LightClientFinalityUpdate : ssz.deneb.LightClientOptimisticUpdate;
    return [200, { version: cap.forkAtSlot(u.slot).name, data: type.toJson(u.value) }];
  };
  const server = createServer((req, res) => {
    if (req.method !== "GET") return fail(res, 405, `method ${req.method} not allowed`);
    let answer;
    try {
      answer = route(new URL(req.url, "http://127.0.0.1"));
    } catch (e) {
      answer = [500, { code: 500, message: e.message }];
    }
    emit({ event: "rest-request", path: req.url, status: answer[0] });
    send(res, answer[0], answer[1]);
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
for (const t of Object.values(TOPICS)) pubsub.subscribe(t);

const listen = node.getMultiaddrs().map((a) => a.toString()).find((a) => a.startsWith("/ip4/127.0.0.1/tcp/"));
if (!listen) {
  log("FATAL: not listening on 127.0.0.1");
  process.exit(1);
}
const multiaddr = listen.includes("/p2p/") ? listen : `${listen}/p2p/${peerId.toString()}`;
const restAddress = opts.restPort === null ? null : await startRest(opts.restPort);
emit({
  peerId: peerId.toString(),
  multiaddr,
  protocols: node.getProtocols(),
  muxers: opts.muxers.map((m) => MUXER_IDS[m]),
  forkDigest: FORK_DIGEST_HEX,
  topics: Object.values(TOPICS),
  fault: opts.fault,
  slotMs: opts.slotMs,
  gossip: opts.gossip,
  replay: { step: replay.step, steps: cap.steps.length, headSlot: latestSlot(), period: currentPeriod() },
  ...(restAddress ? { rest: restAddress } : {}),
});
log(`listening on ${multiaddr} (muxers ${opts.muxers.join(",")}${opts.fault ? `, fault ${opts.fault}` : ""}${opts.updatesByRange ? "" : ", no updates_by_range"})`);

const ticker = setInterval(() => applyStep(opts.gossip), opts.slotMs);
shutdownHooks.push(() => {
  clearInterval(ticker);
  for (const t of pingTimers.values()) clearInterval(t);
});

// registered only now: during startup an error must still end the process (non-zero)
process.on("unhandledRejection", (e) => log(`unhandled rejection: ${e?.stack ?? e}`));
process.on("uncaughtException", (e) => log(`uncaught exception: ${e?.stack ?? e}`));
