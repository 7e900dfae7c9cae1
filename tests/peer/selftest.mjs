#!/usr/bin/env node
// Self-test for peer.mjs: starts it as a child process and talks to it with a second js-libp2p node
// (mplex and yamux variants), over 127.0.0.1 only. Last line: "N passed, M failed"; exit 1 on failure.

import { spawn } from "node:child_process";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { all as allWsAddresses } from "@libp2p/websockets/filters";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { mplex } from "@libp2p/mplex";
import { identify } from "@libp2p/identify";
import { gossipsub } from "@chainsafe/libp2p-gossipsub";
import { createSecp256k1PeerId } from "@libp2p/peer-id-factory";
import { multiaddr } from "@multiformats/multiaddr";

import {
  BLOCK_PROTOCOLS,
  ByteReader,
  PROTOCOLS,
  RESULT,
  WireError,
  bytesEqual,
  computeMessageId,
  crc32c,
  encodeFramed,
  encodeRequest,
  encodeSuccessChunk,
  fromHex,
  gossipDecode,
  readFramed,
  readRequest,
  readResponse,
  sendRequest,
  toHex,
  u64le,
} from "./wire.mjs";

process.env.LODESTAR_PRESET = "minimal";
const { ssz } = await import("@lodestar/types");

const HERE = dirname(fileURLToPath(import.meta.url));
const DATA = join(HERE, "../data/devnet-capture");
const VECTORS = join(HERE, "../data/vectors/public");
const DIGEST = "0x8cdad603";
const BOOT_ROOT = "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5";
const VERBOSE = process.argv.includes("-v") || process.env.SELFTEST_VERBOSE === "1";

let passed = 0;
let failed = 0;
function check(name, cond, detail = "") {
  if (cond) {
    passed++;
    console.log(`ok   ${name}${VERBOSE && detail ? ` (${detail})` : ""}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ""}`);
  }
  return !!cond;
}
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(name, false, `threw ${e?.stack ?? e}`);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// child process wrapper

const children = new Set();

async function startPeer(args, { allowFail = false } = {}) {
  const proc = spawn(process.execPath, [join(HERE, "peer.mjs"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(proc);
  const events = [];
  const waiters = [];
  let stderr = "";
  proc.stderr.on("data", (d) => {
    stderr += d.toString();
    if (VERBOSE) process.stderr.write(d);
  });
  const rl = createInterface({ input: proc.stdout });
  let resolveInfo;
  let rejectInfo;
  const infoP = new Promise((res, rej) => ((resolveInfo = res), (rejectInfo = rej)));
  let first = true;
  rl.on("line", (line) => {
    let obj;
    try {
      obj = JSON.parse(line);
    } catch {
      check(`peer stdout line is JSON`, false, line);
      return;
    }
    if (first) {
      first = false;
      resolveInfo(obj);
      return;
    }
    events.push(obj);
    for (const w of [...waiters]) if (w.pred(obj)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(obj); }
  });
  const exitP = new Promise((res) => proc.on("exit", (code, signal) => { children.delete(proc); res({ code, signal }); }));
  exitP.then(() => rejectInfo(new Error(`peer exited before its first line; stderr:\n${stderr}`)));
  const info = await Promise.race([infoP, sleep(20000).then(() => { throw new Error("peer did not print its first line in 20 s"); })]).catch((e) => {
    if (allowFail) return null;
    throw e;
  });
  return {
    proc,
    info,
    events,
    exitP,
    stderr: () => stderr,
    waitFor(pred, ms = 10000) {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); resolve(null); } }, ms);
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exitP;
      proc.kill("SIGTERM");
      const r = await Promise.race([exitP, sleep(5000).then(() => null)]);
      if (!r) { proc.kill("SIGKILL"); return { code: null, signal: "SIGKILL(timeout)" }; }
      return r;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// client node (the "light client" side): answers Status/Ping/MetaData like a CL node would

const CLIENT_METADATA_SEQ = 42n;

async function makeClient(muxers) {
  const factories = { yamux: () => yamux(), mplex: () => mplex() };
  const node = await createLibp2p({
    peerId: await createSecp256k1PeerId(),
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncryption: [noise()],
    streamMuxers: muxers.map((m) => factories[m]()),
    connectionManager: { minConnections: 0, inboundConnectionThreshold: 10000, allow: ["/ip4/127.0.0.1"] },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: "StrictNoSign",
        msgIdFn: (msg) => computeMessageId(msg.topic, msg.data),
        fallbackToFloodsub: false,
        allowPublishToZeroTopicPeers: true,
        D: 4, Dlo: 1, Dhi: 8, Dscore: 1, Dout: 0,
        heartbeatInterval: 500,
        scoreParams: { IPColocationFactorWeight: 0, behaviourPenaltyWeight: 0 },
        scoreThresholds: { gossipThreshold: -4000, publishThreshold: -8000, graylistThreshold: -16000, acceptPXThreshold: 100, opportunisticGraftThreshold: 5 },
      }),
    },
  });
  const answer = (protocol, reqSize, respond) =>
    node.handle(protocol, async ({ stream }) => {
      try {
        let req = null;
        const reader = new ByteReader(stream.source);
        if (reqSize !== null) req = await readRequest(reader, { min: reqSize, max: reqSize });
        await stream.sink([encodeSuccessChunk(respond(req), null)]);
        await reader.drain();
        await stream.close();
      } catch (e) {
        stream.abort(e);
      }
    });
  answer(PROTOCOLS.status, 84, () =>
    ssz.phase0.Status.serialize({ forkDigest: fromHex(DIGEST), finalizedRoot: new Uint8Array(32), finalizedEpoch: 0, headRoot: new Uint8Array(32), headSlot: 0 })
  );
  answer(PROTOCOLS.ping, 8, () => u64le(CLIENT_METADATA_SEQ));
  answer(PROTOCOLS.metadata, null, () =>
    ssz.altair.Metadata.serialize({ seqNumber: CLIENT_METADATA_SEQ, attnets: ssz.altair.Metadata.fields.attnets.defaultValue(), syncnets: ssz.altair.Metadata.fields.syncnets.defaultValue() })
  );
  return node;
}

async function dial(client, peer) {
  return client.dial(multiaddr(peer.info.multiaddr), { signal: AbortSignal.timeout(10000) });
}

const lcBounds = {
  [PROTOCOLS.bootstrap]: ssz.deneb.LightClientBootstrap,
  [PROTOCOLS.updatesByRange]: ssz.deneb.LightClientUpdate,
  [PROTOCOLS.finalityUpdate]: ssz.deneb.LightClientFinalityUpdate,
  [PROTOCOLS.optimisticUpdate]: ssz.deneb.LightClientOptimisticUpdate,
};
// js-libp2p's mplex sends its write-close (CLOSE) a moment after the request data, so with the peer
// closing a stream as soon as its response is written (like Lodestar), each request of this client
// costs one "missing stream" message on the peer; more than five in a second and js-mplex drops the
// connection (how Lodestar treats such a client). On a loaded machine the CLOSE is late every time, so
// requests on an mplex connection are paced: at most one per 300 ms, and none in the first second of
// the connection (identify and the peer's Status/Ping/MetaData cost a few such messages already).
const lastMplexRequest = new WeakMap();
async function paceMplex(conn) {
  if (conn.multiplexer !== "/mplex/6.7.0") return;
  const wait = Math.max((lastMplexRequest.get(conn) ?? 0) + 300, (conn.timeline?.open ?? 0) + 1000) - Date.now();
  if (wait > 0) await sleep(wait);
  lastMplexRequest.set(conn, Date.now());
}
const request = async (conn, protocol, body, o = {}) =>
  (await paceMplex(conn),
  sendRequest(conn, protocol, body, {
    timeoutMs: o.timeoutMs ?? 8000,
    bounds: lcBounds[protocol] ? () => ({ min: lcBounds[protocol].minSize, max: lcBounds[protocol].maxSize }) : undefined,
  }));

// capture files
const captureFiles = (kind) => new Map(readdirSync(join(DATA, kind)).filter((f) => f.endsWith(".ssz")).map((f) => [f, new Uint8Array(readFileSync(join(DATA, kind, f)))]));
const FINALITY = captureFiles("finality_update");
const OPTIMISTIC = captureFiles("optimistic_update");
const inCapture = (files, bytes) => [...files.values()].some((b) => bytesEqual(b, bytes));
const periodUpdate = (p) => {
  const items = JSON.parse(readFileSync(join(DATA, "updates", `period_${String(p).padStart(4, "0")}.json`), "utf8"));
  return ssz.deneb.LightClientUpdate.serialize(ssz.deneb.LightClientUpdate.fromJson(items[0].data));
};

// ---------------------------------------------------------------------------------------------
// A. codec against data we did not write

async function codecTests() {
  check("crc32c('123456789') = 0xe3069283", crc32c(new TextEncoder().encode("123456789")) === 0xe3069283);
  // framing round trip over several 64 KiB chunks, compressible and not
  for (const [label, data] of [["zeros 200000", new Uint8Array(200000)], ["random 150000", new Uint8Array(Array.from({ length: 150000 }, () => (Math.random() * 256) | 0))], ["empty", new Uint8Array(0)]]) {
    const framed = encodeFramed(data);
    const back = await readFramed(ByteReader.fromBytes(framed), data.length);
    check(`framing round trip (${label})`, bytesEqual(back, data));
  }
  // req/resp vectors
  let okCount = 0;
  let bad = [];
  for (const name of readdirSync(join(VECTORS, "reqresp")).sort()) {
    const dir = join(VECTORS, "reqresp", name);
    const c = JSON.parse(readFileSync(join(dir, "case.json"), "utf8"));
    const stream = new Uint8Array(readFileSync(join(dir, c.input_file)));
    const isLc = /light_client/.test(c.protocol_id);
    try {
      let got;
      if (c.direction === "request") {
        const reader = ByteReader.fromBytes(stream);
        const payload = await readRequest(reader, null);
        if (!(await reader.atEOF())) throw new Error("trailing bytes");
        got = [{ result: null, context: null, payload }];
      } else {
        got = await readResponse(ByteReader.fromBytes(stream), { contextBytes: isLc });
      }
      if (c.expected === "error") { bad.push(`${name}: accepted`); continue; }
      if (got.length !== c.chunks.length) { bad.push(`${name}: ${got.length} chunks, want ${c.chunks.length}`); continue; }
      let same = true;
      c.chunks.forEach((e, i) => {
        const g = got[i];
        if (e.result !== undefined && e.result !== null && g.result !== e.result) same = false;
        if ((e.context_bytes ?? null) !== (g.context ? toHex(g.context) : null)) same = false;
        if (e.ssz_file && !bytesEqual(g.payload, new Uint8Array(readFileSync(join(dir, e.ssz_file))))) same = false;
      });
      if (same) okCount++;
      else bad.push(`${name}: chunk mismatch`);
    } catch (e) {
      if (c.expected === "error") okCount++;
      else bad.push(`${name}: ${e.message}`);
    }
  }
  check(`codec decodes every reqresp vector as expected (${okCount} cases)`, bad.length === 0, bad.join("; "));
  // gossip message-ids
  let gOk = 0;
  const gBad = [];
  for (const name of readdirSync(join(VECTORS, "gossip")).sort()) {
    const dir = join(VECTORS, "gossip", name);
    const c = JSON.parse(readFileSync(join(dir, "case.json"), "utf8"));
    if (!c.message_id) continue;
    const data = new Uint8Array(readFileSync(join(dir, c.data_file)));
    const id = toHex(computeMessageId(c.topic, data));
    if (id === c.message_id) gOk++;
    else gBad.push(`${name}: ${id} != ${c.message_id}`);
    if (c.ssz_file && c.expected === "ok" && !bytesEqual(gossipDecode(data), new Uint8Array(readFileSync(join(dir, c.ssz_file))))) gBad.push(`${name}: payload`);
  }
  check(`gossip message-id matches every vector (${gOk} cases)`, gBad.length === 0 && gOk > 0, gBad.join("; "));
  // the capture's own p2p payloads (recorded from Lodestar) agree with the files we serve
  const p2p = (f) => new Uint8Array(readFileSync(join(DATA, "p2p", f)));
  const boots = captureFiles("bootstrap");
  check("capture p2p/bootstrap_0.ssz is one of bootstrap/*.ssz", inCapture(boots, p2p("bootstrap_0.ssz")));
  check("capture p2p/finality_update_0.ssz is one of finality_update/*.ssz", inCapture(FINALITY, p2p("finality_update_0.ssz")));
  check("capture p2p/optimistic_update_0.ssz is one of optimistic_update/*.ssz", inCapture(OPTIMISTIC, p2p("optimistic_update_0.ssz")));
  const ubr = [0, 1].map((i) => p2p(`updates_by_range_${i}.ssz`));
  const periods = [0, 1, 2, 3, 4].map(periodUpdate);
  check("capture p2p/updates_by_range_{0,1}.ssz (Lodestar's wire payloads) == SSZ of updates/period_0000,0001.json", bytesEqual(ubr[0], periods[0]) && bytesEqual(ubr[1], periods[1]), `periods matching JSON: ${ubr.map((b) => periods.findIndex((p) => bytesEqual(p, b))).join(",")}`);
}

// ---------------------------------------------------------------------------------------------
// B. full session against one peer, per muxer

async function sessionTests(peer, muxer) {
  const tag = `[${muxer}]`;
  const client = await makeClient([muxer]);
  const me = client.peerId.toString();
  const gossipSeen = [];
  client.services.pubsub.addEventListener("gossipsub:message", (evt) => gossipSeen.push(evt.detail));
  for (const t of peer.info.topics) client.services.pubsub.subscribe(t);
  const identified = new Promise((res) => client.addEventListener("peer:identify", (e) => res(e.detail), { once: true }));

  const conn = await dial(client, peer);
  check(`${tag} dial negotiates ${muxer}`, conn.multiplexer === (muxer === "yamux" ? "/yamux/1.0.0" : "/mplex/6.7.0"), conn.multiplexer);
  check(`${tag} remote peer id is secp256k1 and matches the first line`, conn.remotePeer.toString() === peer.info.peerId && conn.remotePeer.type === "secp256k1", conn.remotePeer.type);

  // identify: the peer advertises exactly what its first line lists, including every req/resp protocol
  const idn = await Promise.race([identified, sleep(5000).then(() => null)]);
  if (check(`${tag} identify received`, idn)) {
    const want = new Set(peer.info.protocols);
    const got = new Set(idn.protocols);
    check(`${tag} identify protocols == first-line protocols`, want.size === got.size && [...want].every((p) => got.has(p)), JSON.stringify(idn.protocols));
    // the devnet capture has no blocks/, so the two block protocols are not served there
    check(`${tag} identify lists all 8 req/resp protocols`, Object.values(PROTOCOLS).filter((p) => !BLOCK_PROTOCOLS.has(p)).every((p) => got.has(p)));
    check(`${tag} identify lists no block protocol (no blocks/ in the capture)`, [...BLOCK_PROTOCOLS].every((p) => !got.has(p)));
    check(`${tag} identify agent version`, idn.agentVersion === "beacon-p2p-test-peer/js-libp2p-1.4.3", idn.agentVersion);
  }

  // the peer's own handshake towards us
  for (const proto of ["status", "ping", "metadata"]) {
    const ev = await peer.waitFor((e) => e.event === "peer-answered" && e.peer === me && e.protocol === proto, 8000);
    check(`${tag} peer asked our ${proto} and reports ok`, ev?.ok === true, JSON.stringify(ev));
    if (proto === "ping" && ev) check(`${tag} peer decoded our ping answer`, ev.detail?.seq === String(CLIENT_METADATA_SEQ));
    if (proto === "metadata" && ev) check(`${tag} peer decoded our metadata`, ev.detail?.seq_number === String(CLIENT_METADATA_SEQ) && ev.detail?.attnets === "0x0000000000000000");
    if (proto === "status" && ev) check(`${tag} peer decoded our status`, ev.detail?.fork_digest === DIGEST && ev.detail?.forkDigestMatches === true);
  }
  const connEv = await peer.waitFor((e) => e.event === "connection" && e.peer === me, 3000);
  check(`${tag} peer reports connection with muxer`, connEv?.muxer === conn.multiplexer, JSON.stringify(connEv));

  // status
  await step(`${tag} status`, async () => {
    const mine = { forkDigest: fromHex(DIGEST), finalizedRoot: new Uint8Array(32).fill(7), finalizedEpoch: 3, headRoot: new Uint8Array(32).fill(9), headSlot: 99 };
    const { chunks } = await request(conn, PROTOCOLS.status, ssz.phase0.Status.serialize(mine));
    check(`${tag} status: one success chunk of 84 bytes`, chunks.length === 1 && chunks[0].result === 0 && chunks[0].payload.length === 84);
    const s = ssz.phase0.Status.deserialize(chunks[0].payload);
    const ev = await peer.waitFor((e) => e.event === "status" && e.from === me, 3000);
    check(`${tag} status: peer logged our status`, ev?.status?.head_slot === "99" && ev?.status?.finalized_epoch === "3" && ev?.status?.finalized_root === toHex(mine.finalizedRoot), JSON.stringify(ev));
    // head and finalized follow the replay: head is the latest optimistic attested header, finalized from the latest finality update
    const opt = ssz.deneb.LightClientOptimisticUpdate.deserialize((await request(conn, PROTOCOLS.optimisticUpdate, null)).chunks[0].payload);
    const fin = ssz.deneb.LightClientFinalityUpdate.deserialize((await request(conn, PROTOCOLS.finalityUpdate, null)).chunks[0].payload);
    check(`${tag} status: fork digest ${DIGEST}`, toHex(s.forkDigest) === DIGEST);
    check(`${tag} status: head slot tracks the replay (>= 150)`, s.headSlot >= 150 && Math.abs(s.headSlot - opt.attestedHeader.beacon.slot) <= 3, `head ${s.headSlot}, optimistic ${opt.attestedHeader.beacon.slot}`);
    check(`${tag} status: finalized epoch/root from a finality update`, s.finalizedEpoch >= 1 && Math.abs(s.finalizedEpoch - Math.ceil(fin.finalizedHeader.beacon.slot / 8)) <= 1, `epoch ${s.finalizedEpoch}, fin slot ${fin.finalizedHeader.beacon.slot}`);
  });

  // ping
  await step(`${tag} ping`, async () => {
    const { chunks } = await request(conn, PROTOCOLS.ping, u64le(7));
    check(`${tag} ping: answer = peer metadata seq 1`, chunks.length === 1 && chunks[0].result === 0 && ssz.phase0.Ping.deserialize(chunks[0].payload) === 1n);
    const ev = await peer.waitFor((e) => e.event === "ping" && e.from === me && e.seq === "7", 3000);
    check(`${tag} ping: peer logged seq 7`, ev);
  });

  // metadata
  await step(`${tag} metadata`, async () => {
    const { chunks } = await request(conn, PROTOCOLS.metadata, null);
    check(`${tag} metadata: 17-byte MetaDataV2, seq 1`, chunks.length === 1 && chunks[0].result === 0 && chunks[0].payload.length === 17 && ssz.altair.Metadata.deserialize(chunks[0].payload).seqNumber === 1n);
    check(`${tag} metadata: peer logged the request`, await peer.waitFor((e) => e.event === "metadata-request" && e.from === me, 3000));
  });

  // bootstrap
  await step(`${tag} bootstrap`, async () => {
    const file = readdirSync(join(DATA, "bootstrap")).find((f) => f.includes(BOOT_ROOT) && f.endsWith(".ssz"));
    const want = new Uint8Array(readFileSync(join(DATA, "bootstrap", file)));
    const { chunks } = await request(conn, PROTOCOLS.bootstrap, fromHex(BOOT_ROOT));
    check(`${tag} bootstrap: one success chunk, context ${DIGEST}`, chunks.length === 1 && chunks[0].result === 0 && toHex(chunks[0].context) === DIGEST);
    check(`${tag} bootstrap: payload == capture ${file}`, bytesEqual(chunks[0].payload, want));
    const miss = await request(conn, PROTOCOLS.bootstrap, new Uint8Array(32).fill(0xab));
    check(`${tag} bootstrap unknown root: result 3 "bootstrap not available"`, miss.chunks.length === 1 && miss.chunks[0].result === 3 && miss.chunks[0].errorMessage === "bootstrap not available", JSON.stringify(miss.chunks.map((c) => [c.result, c.errorMessage])));
    // malformed request (31 bytes) -> invalid request
    await paceMplex(conn);
    const s = await conn.newStream(PROTOCOLS.bootstrap);
    await s.sink([encodeRequest(new Uint8Array(31))]);
    const bad = await readResponse(new ByteReader(s.source), { contextBytes: true });
    check(`${tag} bootstrap with a 31-byte request: result 1`, bad.length === 1 && bad[0].result === RESULT.INVALID_REQUEST, JSON.stringify(bad.map((c) => [c.result, c.errorMessage])));
  });

  // updates_by_range
  await step(`${tag} updates_by_range`, async () => {
    const body = (start, count) => new Uint8Array([...u64le(start), ...u64le(count)]);
    const { chunks } = await request(conn, PROTOCOLS.updatesByRange, body(1, 2));
    check(`${tag} updates_by_range(1,2): two success chunks, context ${DIGEST}`, chunks.length === 2 && chunks.every((c) => c.result === 0 && toHex(c.context) === DIGEST), JSON.stringify(chunks.map((c) => [c.result, c.errorMessage])));
    check(`${tag} updates_by_range(1,2): payloads == updates/period_0001,0002.json`, chunks.length === 2 && bytesEqual(chunks[0].payload, periodUpdate(1)) && bytesEqual(chunks[1].payload, periodUpdate(2)));
    const past = await request(conn, PROTOCOLS.updatesByRange, body(2, 5));
    const ev = await peer.waitFor((e) => e.event === "request" && e.from === me && e.protocol === PROTOCOLS.updatesByRange && e.request?.start_period === "2" && e.request?.count === "5", 3000);
    const cur = ev?.request?.current_period;
    check(`${tag} updates_by_range: peer logged the request with its current period (2 or 3 here)`, cur === 2 || cur === 3, JSON.stringify(ev));
    const nOk = cur - 1; // periods 2..cur
    check(`${tag} updates_by_range(2,5) past current period ${cur}: periods 2..${cur} then a result-2 error (Lodestar-like)`,
      past.chunks.length === nOk + 1 &&
        past.chunks.slice(0, nOk).every((c, i) => c.result === 0 && toHex(c.context) === DIGEST && bytesEqual(c.payload, periodUpdate(2 + i))) &&
        past.chunks[nOk].result === RESULT.SERVER_ERROR && past.chunks[nOk].errorMessage === `No partialUpdate available for period ${cur + 1}`,
      JSON.stringify(past.chunks.map((c) => [c.result, c.errorMessage])));
    check(`${tag} updates_by_range: peer logged result 2`, ev?.result === RESULT.SERVER_ERROR && ev?.chunks === nOk + 1);
    const only = await request(conn, PROTOCOLS.updatesByRange, body(4, 1));
    check(`${tag} updates_by_range(4,1) while in period < 4: single result-2 error chunk`, only.chunks.length === 1 && only.chunks[0].result === RESULT.SERVER_ERROR);
  });

  // finality + optimistic
  await step(`${tag} finality/optimistic`, async () => {
    for (const [proto, type, files, name] of [[PROTOCOLS.finalityUpdate, ssz.deneb.LightClientFinalityUpdate, FINALITY, "finality_update"], [PROTOCOLS.optimisticUpdate, ssz.deneb.LightClientOptimisticUpdate, OPTIMISTIC, "optimistic_update"]]) {
      const { chunks } = await request(conn, proto, null);
      const okChunk = chunks.length === 1 && chunks[0].result === 0 && toHex(chunks[0].context) === DIGEST;
      check(`${tag} ${name}: one success chunk, context ${DIGEST}`, okChunk);
      if (okChunk) {
        const v = type.deserialize(chunks[0].payload);
        check(`${tag} ${name}: payload is a captured object (attested slot ${v.attestedHeader.beacon.slot})`, inCapture(files, chunks[0].payload) && v.attestedHeader.beacon.slot >= 145);
      }
    }
  });

  // gossip
  await step(`${tag} gossip`, async () => {
    const deadline = Date.now() + 15000;
    while (gossipSeen.length === 0 && Date.now() < deadline) await sleep(100);
    const m = gossipSeen[0];
    if (!check(`${tag} gossip: received a message from the peer`, m)) return;
    const idHex = toHex(computeMessageId(m.msg.topic, m.msg.data));
    const pub = await peer.waitFor((e) => e.event === "published" && e.msgId === idHex, 3000);
    check(`${tag} gossip: message-id matches the peer's published event`, pub && pub.topic === m.msg.topic, `${idHex} ${JSON.stringify(pub)}`);
    check(`${tag} gossip: gossipsub's own msgId == CL message-id`, m.msgId === Buffer.from(fromHex(idHex)).toString("base64").replace(/=+$/, ""), m.msgId);
    const ssz_ = gossipDecode(m.msg.data);
    const files = m.msg.topic.includes("finality") ? FINALITY : OPTIMISTIC;
    check(`${tag} gossip: snappy-block payload decodes to a captured object`, inCapture(files, ssz_));
    check(`${tag} gossip: unsigned message (StrictNoSign)`, m.msg.type === "unsigned");
    check(`${tag} gossip: topic /eth2/8cdad603/light_client_*_update/ssz_snappy`, /^\/eth2\/8cdad603\/light_client_(finality|optimistic)_update\/ssz_snappy$/.test(m.msg.topic));
    check(`${tag} gossip: published event lists us as recipient`, (await peer.waitFor((e) => e.event === "published" && e.recipients?.includes(me), 3000)) !== null);
  });

  // goodbye last: the peer answers, then closes the connection
  await step(`${tag} goodbye`, async () => {
    const closed = new Promise((res) => client.addEventListener("connection:close", () => res(true), { once: true }));
    const { chunks } = await request(conn, PROTOCOLS.goodbye, u64le(1));
    check(`${tag} goodbye: answered with Goodbye(0)`, chunks.length === 1 && chunks[0].result === 0 && chunks[0].payload.length === 8);
    check(`${tag} goodbye: peer logged reason 1`, await peer.waitFor((e) => e.event === "goodbye" && e.from === me && e.reason === "1", 3000));
    check(`${tag} goodbye: peer closed the connection`, await Promise.race([closed, sleep(5000).then(() => false)]));
  });
  await client.stop();
}

// ---------------------------------------------------------------------------------------------
// C. faults and options

async function faultTest(mode) {
  const peer = await startPeer(["--fault", mode, "--slot-ms", "500", "--no-gossip"]);
  try {
    for (const muxer of ["mplex", "yamux"]) {
      const tag = `fault ${mode} [${muxer}]`;
      const client = await makeClient([muxer]);
      try {
        const conn = await dial(client, peer);
        const timeoutMs = mode === "never-answer" ? 2500 : 8000;
        for (const [label, proto, body] of [["finality_update", PROTOCOLS.finalityUpdate, null], ["bootstrap", PROTOCOLS.bootstrap, fromHex(BOOT_ROOT)], ["updates_by_range(0,2)", PROTOCOLS.updatesByRange, new Uint8Array([...u64le(0), ...u64le(2)])]]) {
          const t0 = Date.now();
          let outcome;
          try {
            outcome = { chunks: (await request(conn, proto, body, { timeoutMs })).chunks };
          } catch (e) {
            outcome = { error: e };
          }
          const ms = Date.now() - t0;
          const c = outcome.chunks;
          const desc = outcome.error ? `error ${outcome.error.message}` : JSON.stringify(c.map((x) => [x.result, x.context && toHex(x.context), x.payload.length, x.errorMessage]));
          let seen;
          switch (mode) {
            case "drop-mid-response": seen = outcome.error instanceof WireError && outcome.error.kind === "early_eof"; break;
            case "error-code": seen = c?.length === 1 && c[0].result === RESULT.SERVER_ERROR && c[0].errorMessage.length > 0; break;
            case "garbage": seen = !!outcome.error || c.length === 0 || c.some((x) => x.result !== 0 || toHex(x.context) !== DIGEST); break;
            case "wrong-context": seen = c?.length >= 1 && c.every((x) => x.result === 0 && toHex(x.context) === "0xdeadbeef"); break;
            case "oversize-length": seen = outcome.error instanceof WireError && outcome.error.kind === "length_over_max_payload"; break;
            case "never-answer": seen = outcome.error instanceof WireError && outcome.error.kind === "timeout" && ms >= 2400; break;
          }
          check(`${tag}: client sees it on ${label}`, seen, desc);
        }
        // the handshake protocols stay healthy
        const st = await request(conn, PROTOCOLS.status, ssz.phase0.Status.serialize({ forkDigest: fromHex(DIGEST), finalizedRoot: new Uint8Array(32), finalizedEpoch: 0, headRoot: new Uint8Array(32), headSlot: 0 }));
        const pg = await request(conn, PROTOCOLS.ping, u64le(1));
        const md = await request(conn, PROTOCOLS.metadata, null);
        check(`${tag}: status, ping and metadata still answered`, st.chunks[0]?.result === 0 && pg.chunks[0]?.result === 0 && md.chunks[0]?.result === 0);
        check(`${tag}: connection still open`, conn.status === "open");
        const me = client.peerId.toString();
        check(`${tag}: peer logs requests with fault`, await peer.waitFor((e) => e.event === "request" && e.fault === mode && e.from === me, 3000));
      } finally {
        await client.stop();
      }
    }
  } finally {
    await peer.stop();
  }
}

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); });
    s.on("error", rej);
  });
}

// ---------------------------------------------------------------------------------------------
// E. the synthnet data set (mainnet preset, electra -> fulu -> fulu BPO1, blocks). The selftest itself
// runs with the minimal preset, so everything here is compared byte for byte with the files.

const SYN = join(HERE, "../data/synthnet");
const SYN_META = existsSync(join(SYN, "meta.json")) ? JSON.parse(readFileSync(join(SYN, "meta.json"), "utf8")) : null;
const SYN_DIGESTS = { electra: "0xad532ceb", fulu: "0xcc2c5cdb", fulu_bpo1: "0xcb0d1acc" }; // synthnet README
const synManifest = () => new Map(JSON.parse(readFileSync(join(SYN, "manifest.json"), "utf8")).map((m) => [m.path, m]));
const synBlocks = () =>
  readdirSync(join(SYN, "blocks"))
    .filter((f) => f.endsWith(".ssz"))
    .map((f) => ({ file: f, stem: `blocks/${f.replace(/\.ssz$/, "")}`, slot: Number(f.split("_")[0]), root: /_(0x[0-9a-f]{64})\.ssz$/.exec(f)[1], bytes: new Uint8Array(readFileSync(join(SYN, "blocks", f))) }))
    .sort((a, b) => a.slot - b.slot);
const synFiles = (kind) => new Map(readdirSync(join(SYN, kind)).filter((f) => f.endsWith(".ssz")).map((f) => [f.replace(/\.ssz$/, ""), new Uint8Array(readFileSync(join(SYN, kind, f)))]));
const byRangeBody = (start, count, stepN = 1) => new Uint8Array([...u64le(start), ...u64le(count), ...u64le(stepN)]);
const rootsBody = (roots) => new Uint8Array(roots.flatMap((r) => [...fromHex(r)]));
const rawRequest = (conn, protocol, body, o = {}) => sendRequest(conn, protocol, body, { timeoutMs: o.timeoutMs ?? 8000 }); // no LC bounds (those are minimal preset here)
const synStatus = (digest) => ssz.phase0.Status.serialize({ forkDigest: fromHex(digest), finalizedRoot: new Uint8Array(32), finalizedEpoch: 0, headRoot: new Uint8Array(32), headSlot: 0 });

async function synthnetTests() {
  const manifest = synManifest();
  const blocks = synBlocks();
  const ctxOf = (stem) => manifest.get(stem)?.fork_digest;
  // chunks == these blocks, in order, byte-equal, each with the manifest's context bytes
  const sameBlocks = (chunks, want) => chunks.length === want.length && chunks.every((c, i) => c.result === 0 && bytesEqual(c.payload, want[i].bytes) && toHex(c.context) === ctxOf(want[i].stem));
  const desc = (chunks) => JSON.stringify(chunks.map((c) => [c.result, c.context && toHex(c.context), blocks.find((b) => bytesEqual(b.bytes, c.payload))?.slot ?? c.errorMessage ?? c.payload.length]));

  const p = await startPeer(["--data", SYN, "--slot-ms", "400", "--rest-port", "0", "--no-handshake"]);
  const client = await makeClient(["yamux"]);
  try {
    const info = p.info;
    check("synthnet first line: preset mainnet, 12000 ms slots, 147 blocks", info.preset === "mainnet" && info.slotDurationMs === 12000 && info.blocks === 147, JSON.stringify({ preset: info.preset, slotDurationMs: info.slotDurationMs, blocks: info.blocks }));
    check("synthnet digests: electra 0xad532ceb, fulu 0xcc2c5cdb, fulu_bpo1 0xcb0d1acc (README)", JSON.stringify(info.forkDigests.map((d) => [d.name, d.digest])) === JSON.stringify(Object.entries(SYN_DIGESTS)), JSON.stringify(info.forkDigests));
    check("synthnet: subscribed to both LC topics of every digest", info.topics.length === 6 && Object.values(SYN_DIGESTS).every((d) => info.topics.includes(`/eth2/${d.slice(2)}/light_client_finality_update/ssz_snappy`) && info.topics.includes(`/eth2/${d.slice(2)}/light_client_optimistic_update/ssz_snappy`)), JSON.stringify(info.topics));
    check("synthnet first line: forkDigest (Status) = fulu_bpo1 at the replay head", info.forkDigest === SYN_DIGESTS.fulu_bpo1, info.forkDigest);
    check("synthnet: block protocols advertised", info.protocols.includes(PROTOCOLS.blocksByRange) && info.protocols.includes(PROTOCOLS.blocksByRoot));
    const conn = await dial(client, p);
    const me = client.peerId.toString();

    await step("synthnet status", async () => {
      const r = await rawRequest(conn, PROTOCOLS.status, synStatus(SYN_DIGESTS.fulu_bpo1));
      const s = ssz.phase0.Status.deserialize(r.chunks[0].payload);
      check("synthnet Status: fork_digest 0xcb0d1acc, head slot in the stream", toHex(s.forkDigest) === SYN_DIGESTS.fulu_bpo1 && s.headSlot >= 13221823, `${toHex(s.forkDigest)} ${s.headSlot}`);
      const ev = await p.waitFor((e) => e.event === "status" && e.from === me, 3000);
      check("synthnet status event: forkDigestMatches for 0xcb0d1acc", ev?.forkDigestMatches === true);
    });

    await step("synthnet blocks_by_range", async () => {
      const P0 = 13148160;
      let r = await rawRequest(conn, PROTOCOLS.blocksByRange, byRangeBody(P0, 128));
      const want0 = blocks.filter((b) => b.slot >= P0 && b.slot < P0 + 128);
      check("by_range(13148160, 128): the 4 blocks of [start, start+128) ascending, byte-equal, electra context", want0.length === 4 && sameBlocks(r.chunks, want0), desc(r.chunks));
      const ev = await p.waitFor((e) => e.event === "request" && e.protocol === PROTOCOLS.blocksByRange && e.from === me, 3000);
      check("by_range request event: {start_slot, count, step}, chunks, slots", ev?.request?.start_slot === String(P0) && ev.request.count === "128" && ev.chunks === 4 && ev.result === 0 && ev.slots?.length === 4, JSON.stringify(ev));
      // the dense end: every slot of the last 3 epochs but the missed one, in BPO1
      const S = 13221792;
      r = await rawRequest(conn, PROTOCOLS.blocksByRange, byRangeBody(S, 96));
      const want1 = blocks.filter((b) => b.slot >= S && b.slot < S + 96);
      check(`by_range(${S}, 96): ${want1.length} blocks, missed slot 13221864 skipped, BPO1 context`, want1.length > 80 && !want1.some((b) => b.slot === 13221864) && sameBlocks(r.chunks, want1) && r.chunks.every((c) => toHex(c.context) === SYN_DIGESTS.fulu_bpo1), desc(r.chunks).slice(0, 200));
      // one range per fork period, so the context bytes follow the block's slot across electra -> fulu -> BPO1
      const starts = [13164480, 13205568 - 64]; // period 1607 (fulu), 1612 (BPO1)
      for (const st of starts) {
        r = await rawRequest(conn, PROTOCOLS.blocksByRange, byRangeBody(st, 128));
        const want = blocks.filter((b) => b.slot >= st && b.slot < st + 128);
        check(`by_range(${st}, 128): byte-equal, context of each block's slot (${[...new Set(want.map((b) => ctxOf(b.stem)))].join(",")})`, want.length > 0 && sameBlocks(r.chunks, want), desc(r.chunks));
      }
      r = await rawRequest(conn, PROTOCOLS.blocksByRange, byRangeBody(S, 1000));
      check("by_range count 1000: capped at 128 slots", sameBlocks(r.chunks, blocks.filter((b) => b.slot >= S && b.slot < S + 128)), desc(r.chunks).slice(0, 120));
      r = await rawRequest(conn, PROTOCOLS.blocksByRange, byRangeBody(P0 + 1, 31));
      check("by_range over empty slots: no chunks", r.chunks.length === 0, desc(r.chunks));
      r = await rawRequest(conn, PROTOCOLS.blocksByRange, byRangeBody(P0, 10, 2));
      check("by_range step 2: result 1", r.chunks.length === 1 && r.chunks[0].result === RESULT.INVALID_REQUEST, desc(r.chunks));
    });

    await step("synthnet blocks_by_root", async () => {
      const a = blocks[0];
      const b = blocks.find((x) => ctxOf(x.stem) === SYN_DIGESTS.fulu);
      const c = blocks.at(-1);
      const unknown = `0x${"ab".repeat(32)}`;
      let r = await rawRequest(conn, PROTOCOLS.blocksByRoot, rootsBody([c.root, unknown, a.root, b.root]));
      check("by_root([bpo1, unknown, electra, fulu]): the 3 known blocks in request order, byte-equal, contexts per slot", sameBlocks(r.chunks, [c, a, b]), desc(r.chunks));
      const ev = await p.waitFor((e) => e.event === "request" && e.protocol === PROTOCOLS.blocksByRoot && e.from === me, 3000);
      check("by_root request event: {roots}, chunks 3", JSON.stringify(ev?.request?.roots) === JSON.stringify([c.root, unknown, a.root, b.root]) && ev.chunks === 3, JSON.stringify(ev));
      r = await rawRequest(conn, PROTOCOLS.blocksByRoot, rootsBody(blocks.slice(0, 128).map((x) => x.root)));
      check("by_root with 128 roots: 128 blocks", sameBlocks(r.chunks, blocks.slice(0, 128)), `${r.chunks.length}`);
      r = await rawRequest(conn, PROTOCOLS.blocksByRoot, new Uint8Array(0));
      check("by_root with no roots: no chunks", r.chunks.length === 0, desc(r.chunks));
      r = await rawRequest(conn, PROTOCOLS.blocksByRoot, new Uint8Array(33));
      check("by_root with 33 bytes: result 1", r.chunks.length === 1 && r.chunks[0].result === RESULT.INVALID_REQUEST, desc(r.chunks));
      r = await rawRequest(conn, PROTOCOLS.blocksByRoot, new Uint8Array(129 * 32));
      check("by_root with 129 roots: result 1", r.chunks.length === 1 && r.chunks[0].result === RESULT.INVALID_REQUEST, desc(r.chunks));
    });

    await step("synthnet light-client objects", async () => {
      const boots = synFiles("bootstrap");
      const cp = SYN_META.checkpoint_root;
      let r = await rawRequest(conn, PROTOCOLS.bootstrap, fromHex(cp));
      const bootStem = [...boots.keys()].find((k) => k.endsWith(cp));
      check("synthnet bootstrap(checkpoint): byte-equal, context 0xad532ceb", r.chunks.length === 1 && bytesEqual(r.chunks[0].payload, boots.get(bootStem)) && toHex(r.chunks[0].context) === SYN_DIGESTS.electra, desc(r.chunks));
      const ups = synFiles("updates");
      r = await rawRequest(conn, PROTOCOLS.updatesByRange, new Uint8Array([...u64le(1605), ...u64le(9)]));
      const okUps = r.chunks.length === 9 && r.chunks.every((c, i) => c.result === 0 && bytesEqual(c.payload, ups.get(`period_${1605 + i}`)) && toHex(c.context) === ctxOf(`updates/period_${1605 + i}`));
      check("synthnet updates_by_range(1605, 9): byte-equal, contexts electra/fulu/BPO1 as in manifest.json", okUps, JSON.stringify(r.chunks.map((c) => [c.result, c.context && toHex(c.context)])));
      const fins = synFiles("finality_update");
      r = await rawRequest(conn, PROTOCOLS.finalityUpdate, null);
      check("synthnet finality_update: a file's bytes, context 0xcb0d1acc", r.chunks.length === 1 && [...fins.values()].some((b) => bytesEqual(b, r.chunks[0].payload)) && toHex(r.chunks[0].context) === SYN_DIGESTS.fulu_bpo1, desc(r.chunks));
    });

    await step("synthnet gossip", async () => {
      const topic = `/eth2/${SYN_DIGESTS.fulu_bpo1.slice(2)}/light_client_optimistic_update/ssz_snappy`;
      const got = new Promise((res) => client.services.pubsub.addEventListener("message", (e) => { if (e.detail.topic === topic) res(e.detail); }));
      for (const t of p.info.topics) client.services.pubsub.subscribe(t);
      const msg = await Promise.race([got, sleep(6000).then(() => null)]);
      const opts = synFiles("optimistic_update");
      check("synthnet gossip: an optimistic update on the BPO1 topic, payload == a file", msg && [...opts.values()].some((b) => bytesEqual(b, gossipDecode(msg.data))), msg ? "payload differs" : "nothing");
      const pub = p.events.find((e) => e.event === "published");
      check("synthnet published events use the digest of the signature slot (BPO1)", pub && pub.topic.includes(SYN_DIGESTS.fulu_bpo1.slice(2)), JSON.stringify(pub));
    });

    await step("synthnet REST blocks", async () => {
      const base = `http://${p.info.rest}`;
      const get = async (path, headers = {}) => {
        const r = await fetch(base + path, { headers });
        const buf = new Uint8Array(await r.arrayBuffer());
        return { status: r.status, headers: r.headers, bytes: buf, text: new TextDecoder().decode(buf) };
      };
      const fileJson = (b) => JSON.stringify(JSON.parse(readFileSync(join(SYN, "blocks", b.file.replace(/\.ssz$/, ".json")), "utf8")));
      const a = blocks[0];
      let r = await get(`/eth/v2/beacon/blocks/${a.slot}`);
      check("REST blocks/{slot}: the file's JSON re-serialized, byte-equal", r.status === 200 && r.text === fileJson(a) && r.headers.get("eth-consensus-version") === "electra", `${r.status} ${r.text.slice(0, 80)}`);
      const f = blocks.find((x) => ctxOf(x.stem) === SYN_DIGESTS.fulu);
      r = await get(`/eth/v2/beacon/blocks/${f.root}`);
      check("REST blocks/{root} (fulu): byte-equal JSON, version fulu", r.status === 200 && r.text === fileJson(f) && JSON.parse(r.text).version === "fulu", `${r.status}`);
      r = await get(`/eth/v2/beacon/blocks/${f.slot}`, { accept: "application/octet-stream" });
      check("REST blocks SSZ (Accept: application/octet-stream): the .ssz bytes, Eth-Consensus-Version fulu", r.status === 200 && bytesEqual(r.bytes, f.bytes) && r.headers.get("content-type") === "application/octet-stream" && r.headers.get("eth-consensus-version") === "fulu", `${r.status} ${r.headers.get("content-type")}`);
      r = await get(`/eth/v2/beacon/blocks/head`);
      const head = r.status === 200 ? JSON.parse(r.text) : null;
      check("REST blocks/head: a block of the dense tail, at or before the replay's slot", head && Number(head.data.message.slot) >= 13221824 && blocks.some((b) => b.slot === Number(head.data.message.slot) && r.text === fileJson(b)), `${r.status}`);
      // finalized: the block of the finality update's finalized header (retried once if the replay stepped in between)
      let okFin = false;
      let detail = "";
      for (let i = 0; i < 2 && !okFin; i++) {
        const fu = JSON.parse((await get("/eth/v1/beacon/light_client/finality_update")).text);
        const fb = await get("/eth/v2/beacon/blocks/finalized");
        detail = `${fb.status} ${fu.data.finalized_header.beacon.slot}`;
        okFin = fb.status === 200 && JSON.parse(fb.text).data.message.slot === fu.data.finalized_header.beacon.slot;
      }
      check("REST blocks/finalized: the block of the latest finality update's finalized header", okFin, detail);
      r = await get(`/eth/v2/beacon/blocks/13221864`);
      check("REST blocks of the missed slot: 404 {code, message}", r.status === 404 && JSON.parse(r.text).code === 404, `${r.status} ${r.text}`);
      r = await get(`/eth/v2/beacon/blocks/0x${"ab".repeat(32)}`);
      check("REST blocks of an unknown root: 404", r.status === 404, `${r.status}`);
      r = await get(`/eth/v2/beacon/blocks/12ab`);
      check("REST blocks with a malformed id: 400 {code, message}", r.status === 400 && JSON.parse(r.text).code === 400, `${r.status} ${r.text}`);
      r = await get(`/eth/v1/beacon/light_client/updates?start_period=1605&count=9`);
      const items = r.status === 200 ? JSON.parse(r.text) : [];
      const sameItem = (it, period) => { const want = JSON.parse(readFileSync(join(SYN, "updates", `period_${period}.json`), "utf8"))[0]; return it.version === want.version && JSON.stringify(it.data) === JSON.stringify(want.data); };
      check("REST updates(1605, 9) on synthnet: top-level array of {version, data} == updates/*.json", Array.isArray(items) && items.length === 9 && items.every((it, i) => sameItem(it, 1605 + i)), `${r.status} ${items.length}`);
      const boot = JSON.parse((await get(`/eth/v1/beacon/light_client/bootstrap/${SYN_META.checkpoint_root}`)).text);
      const wantBoot = JSON.parse(readFileSync(join(SYN, "bootstrap", readdirSync(join(SYN, "bootstrap")).find((x) => x.endsWith(`${SYN_META.checkpoint_root}.json`))), "utf8"));
      check("REST bootstrap on synthnet == the file's JSON", boot.version === "electra" && JSON.stringify(boot.data) === JSON.stringify(wantBoot.data));
    });
  } finally {
    await client.stop();
    await p.stop();
  }

  // --fault wrong-block (scoped to the block protocols by default); the light-client protocols stay healthy
  await step("synthnet --fault wrong-block", async () => {
    const q = await startPeer(["--data", SYN, "--fault", "wrong-block", "--no-gossip", "--no-handshake"]);
    const c = await makeClient(["yamux"]);
    try {
      check("--fault wrong-block: first line faultProtocols blocks", q.info.fault === "wrong-block" && q.info.faultProtocols === "blocks", JSON.stringify([q.info.fault, q.info.faultProtocols]));
      const conn = await dial(c, q);
      const a = blocks[5];
      let r = await rawRequest(conn, PROTOCOLS.blocksByRoot, rootsBody([a.root]));
      const other = r.chunks.length === 1 && blocks.find((b) => bytesEqual(b.bytes, r.chunks[0].payload));
      check("wrong-block by_root: one block, a different (valid) block than asked", other && other.root !== a.root, desc(r.chunks));
      r = await rawRequest(conn, PROTOCOLS.blocksByRange, byRangeBody(blocks[0].slot, 1));
      const got = r.chunks.length >= 1 && blocks.find((b) => bytesEqual(b.bytes, r.chunks[0].payload));
      check("wrong-block by_range(first slot, 1): a block outside [start, start+1)", got && got.slot !== blocks[0].slot, desc(r.chunks));
      check("wrong-block: request event has fault wrong-block", await q.waitFor((e) => e.event === "request" && e.fault === "wrong-block", 3000));
      r = await rawRequest(conn, PROTOCOLS.finalityUpdate, null);
      check("wrong-block: finality_update healthy", r.chunks.length === 1 && r.chunks[0].result === 0);
    } finally {
      await c.stop();
      await q.stop();
    }
    const e = await startPeer(["--data", SYN, "--fault", "error-code", "--fault-protocols", "blocks", "--no-gossip", "--no-handshake"]);
    const c2 = await makeClient(["yamux"]);
    try {
      const conn = await dial(c2, e);
      const r1 = await rawRequest(conn, PROTOCOLS.blocksByRange, byRangeBody(blocks[0].slot, 1));
      const r2 = await rawRequest(conn, PROTOCOLS.finalityUpdate, null);
      check("--fault error-code --fault-protocols blocks: by_range gets result 2, finality_update healthy", r1.chunks.length === 1 && r1.chunks[0].result === RESULT.SERVER_ERROR && r2.chunks[0]?.result === 0, `${desc(r1.chunks)} ${desc(r2.chunks)}`);
    } finally {
      await c2.stop();
      await e.stop();
    }
    const w = await startPeer(["--data", SYN, "--fault", "wrong-context", "--fault-protocols", "all", "--no-gossip", "--no-handshake"]);
    const c3 = await makeClient(["yamux"]);
    try {
      const conn = await dial(c3, w);
      const r1 = await rawRequest(conn, PROTOCOLS.blocksByRoot, rootsBody([blocks[0].root, blocks[1].root]));
      const r2 = await rawRequest(conn, PROTOCOLS.finalityUpdate, null);
      const bad = (r) => r.chunks.length >= 1 && r.chunks.every((x) => x.result === 0 && toHex(x.context) === "0xdeadbeef");
      check("--fault wrong-context --fault-protocols all: by_root and finality_update chunks have context 0xdeadbeef", bad(r1) && r1.chunks.length === 2 && bad(r2), `${desc(r1.chunks)} ${desc(r2.chunks)}`);
    } finally {
      await c3.stop();
      await w.stop();
    }
  });

  // --clock-start: the newest arrival whose time has passed is the latest, the next one is published when its time comes
  await step("synthnet --clock-start", async () => {
    const arrivals = JSON.parse(readFileSync(join(SYN, "arrivals.json"), "utf8"));
    const G = SYN_META.genesis_time;
    const k = 20; // a finality entry; the next arrival (k+2) is 12 s later
    const fins = synFiles("finality_update");
    const start = G + arrivals[k].t + 11.2;
    const q = await startPeer(["--data", SYN, "--clock-start", String(start), "--no-handshake", "--rest-port", "0"]);
    const c = await makeClient(["yamux"]);
    try {
      check("--clock-start: first line clockStart", q.info.clockStart === start, String(q.info.clockStart));
      const conn = await dial(c, q);
      for (const t of q.info.topics) c.services.pubsub.subscribe(t);
      let r = await rawRequest(conn, PROTOCOLS.finalityUpdate, null);
      check(`--clock-start ${start}: latest finality update = arrivals[${k}] (${arrivals[k].file})`, r.chunks.length === 1 && bytesEqual(r.chunks[0].payload, fins.get(arrivals[k].file)), desc(r.chunks));
      const pub = await q.waitFor((e) => e.event === "published" && e.kind === "finality_update", 4000);
      check(`--clock-start: arrivals[${k + 2}] published when its time passes`, pub && pub.slot === arrivals[k + 2].attested_slot && pub.topic.includes(SYN_DIGESTS.fulu_bpo1.slice(2)), JSON.stringify(pub));
      r = await rawRequest(conn, PROTOCOLS.finalityUpdate, null);
      check(`--clock-start: then the latest is arrivals[${k + 2}]`, r.chunks.length === 1 && bytesEqual(r.chunks[0].payload, fins.get(arrivals[k + 2].file)), desc(r.chunks));
      const head = await fetch(`http://${q.info.rest}/eth/v2/beacon/blocks/head`).then((x) => x.json());
      const clockSlot = Math.floor((start + 1 - G) / 12);
      check("--clock-start: REST blocks/head = newest block at or before the clock's slot", Number(head.data.message.slot) === Math.max(...blocks.filter((b) => b.slot <= clockSlot).map((b) => b.slot)), `${head.data?.message?.slot} vs clock slot ${clockSlot}`);
    } finally {
      await c.stop();
      await q.stop();
    }
    // the per-period rule: period 1613's update only once its signature slot + 4 s has passed; no arrival yet
    const u1613 = synManifest().get("updates/period_1613");
    const start2 = G + u1613.signature_slot * 12 + 4 - 0.7;
    const q2 = await startPeer(["--data", SYN, "--clock-start", String(start2), "--no-handshake", "--no-gossip", "--rest-port", "0"]);
    try {
      const get = () => fetch(`http://${q2.info.rest}/eth/v1/beacon/light_client/updates?start_period=1612&count=2`).then((x) => x.json());
      const before = await get();
      const fin = await fetch(`http://${q2.info.rest}/eth/v1/beacon/light_client/finality_update`);
      check("--clock-start before period 1613's update signature slot + 4 s: updates(1612, 2) has 1612 only; no finality update yet (404)", before.length === 1 && before[0].data.signature_slot === String(synManifest().get("updates/period_1612").signature_slot) && fin.status === 404, `${JSON.stringify(before).slice(0, 80)} ${fin.status}`);
      await sleep(1000);
      const after = await get();
      check("--clock-start after it: updates(1612, 2) has both", after.length === 2, `${after.length}`);
    } finally {
      await q2.stop();
    }
  });

  await step("synthnet digest mismatch", async () => {
    const { mkdtempSync, symlinkSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "peer-selftest-"));
    try {
      for (const f of readdirSync(SYN)) if (f !== "meta.json") symlinkSync(join(SYN, f), join(dir, f));
      const meta = JSON.parse(JSON.stringify(SYN_META));
      meta.fork_digests.find((d) => d.name === "fulu_bpo1").digest = "0x00000000";
      writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
      const q = await startPeer(["--data", dir], { allowFail: true });
      const r = await q.exitP;
      check("a wrong expected digest in meta.json: exit 1 before the first line, stderr names it", q.info === null && r.code === 1 && /FATAL: digest of fulu_bpo1 .*computed 0xcb0d1acc, expected 0x00000000/.test(q.stderr()), `${r.code} ${q.stderr().slice(-300)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(join(DATA, "meta.json"))) throw new Error(`capture missing at ${DATA}`);
  if (process.env.SELFTEST_ONLY === "D") {
    for (const mode of (process.env.SELFTEST_FAULTS ?? "garbage").split(",")) await step(`fault ${mode}`, () => faultTest(mode));
    return;
  }
  if (process.env.SELFTEST_ONLY === "E") {
    // development aid: only section E
    console.log("# E. synthnet (mainnet preset, electra -> fulu -> BPO1, blocks)");
    return step("synthnet", synthnetTests);
  }
  console.log("# A. codec against vectors and capture");
  await step("codec", codecTests);

  console.log("# B. sessions (peer --slot-ms 500 --start-slot 150)");
  const peer = await startPeer(["--slot-ms", "500", "--start-slot", "150"]);
  check("first line: peerId/multiaddr/protocols/muxers/forkDigest", peer.info.peerId?.startsWith("16Uiu2") && peer.info.multiaddr === `${peer.info.multiaddr.split("/p2p/")[0]}/p2p/${peer.info.peerId}` && /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//.test(peer.info.multiaddr) && peer.info.forkDigest === DIGEST && JSON.stringify(peer.info.muxers) === '["/yamux/1.0.0","/mplex/6.7.0"]', JSON.stringify(peer.info));
  for (const m of ["mplex", "yamux"]) await step(`session ${m}`, () => sessionTests(peer, m));
  const st = await peer.stop();
  check("peer exits 0 on SIGTERM", st.code === 0, JSON.stringify(st));

  console.log("# C. options");
  await step("--no-updates-by-range --no-gossip --muxers mplex --port", async () => {
    const port = await freePort();
    const p = await startPeer(["--no-updates-by-range", "--no-gossip", "--muxers", "mplex", "--port", String(port), "--slot-ms", "100"]);
    try {
      check("--port: listens on the requested port", p.info.multiaddr.startsWith(`/ip4/127.0.0.1/tcp/${port}/p2p/`), p.info.multiaddr);
      check("without --ws-port: wsMultiaddr null", p.info.wsMultiaddr === null, String(p.info.wsMultiaddr));
      check("--no-updates-by-range: not in the protocol list", !p.info.protocols.includes(PROTOCOLS.updatesByRange));
      const yOnly = await makeClient(["yamux"]);
      let failedDial = false;
      try { await dial(yOnly, p); } catch { failedDial = true; }
      check("--muxers mplex: a yamux-only client cannot connect", failedDial);
      await yOnly.stop();
      const client = await makeClient(["yamux", "mplex"]);
      const conn = await dial(client, p);
      check("--muxers mplex: negotiated mplex", conn.multiplexer === "/mplex/6.7.0");
      let negErr = null;
      try { await conn.newStream(PROTOCOLS.updatesByRange, { signal: AbortSignal.timeout(5000) }); } catch (e) { negErr = e; }
      check("--no-updates-by-range: multistream-select fails", negErr && /protocol|select|negotiat|unsupported/i.test(`${negErr.code} ${negErr.message}`), `${negErr?.code} ${negErr?.message}`);
      const fin = await request(conn, PROTOCOLS.finalityUpdate, null);
      check("--no-updates-by-range: other LC protocols still served", fin.chunks[0]?.result === 0);
      await sleep(600);
      check("--no-gossip: nothing published", !p.events.some((e) => e.event === "published"));
      await client.stop();
    } finally {
      await p.stop();
    }
  });

  await step("--ws-port (websocket listener)", async () => {
    const wsPort = await freePort();
    const p = await startPeer(["--no-gossip", "--no-handshake", "--muxers", "mplex", "--ws-port", String(wsPort)]);
    // plain ws:// to an IP address: the `all` filter, as a browser client would need
    const client = await createLibp2p({ addresses: { listen: [] }, transports: [webSockets({ filter: allWsAddresses })], connectionEncryption: [noise()], streamMuxers: [mplex()], connectionManager: { minConnections: 0 } });
    try {
      check("--ws-port: first line has wsMultiaddr /ip4/127.0.0.1/tcp/<port>/ws/p2p/<peerId>, multiaddr stays TCP", p.info.wsMultiaddr === `/ip4/127.0.0.1/tcp/${wsPort}/ws/p2p/${p.info.peerId}` && /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//.test(p.info.multiaddr), `${p.info.wsMultiaddr} ${p.info.multiaddr}`);
      const conn = await client.dial(multiaddr(p.info.wsMultiaddr), { signal: AbortSignal.timeout(10000) });
      check("--ws-port: a websocket client connects (noise, mplex)", conn.remotePeer.toString() === p.info.peerId && conn.multiplexer === "/mplex/6.7.0", conn.multiplexer);
      const ev = await p.waitFor((e) => e.event === "connection", 5000);
      check("--ws-port: the peer reports it inbound from /ip4/127.0.0.1 (its allow list)", ev?.direction === "inbound" && ev.remoteAddr.startsWith("/ip4/127.0.0.1/tcp/"), JSON.stringify(ev));
      const fin = await request(conn, PROTOCOLS.finalityUpdate, null);
      check("--ws-port: req/resp works over websocket", fin.chunks[0]?.result === 0);
    } finally {
      await client.stop();
      await p.stop();
    }
  });

  await step("--rest-port (Beacon REST API)", async () => {
    const p = await startPeer(["--slot-ms", "3600000", "--start-slot", "300", "--no-gossip", "--no-handshake", "--rest-port", "0"]);
    try {
      check("--rest-port: first line has rest 127.0.0.1:<port>", /^127\.0\.0\.1:\d+$/.test(p.info.rest ?? ""), JSON.stringify(p.info.rest));
      const base = `http://${p.info.rest}/eth/v1/beacon/light_client`;
      const get = async (path) => {
        const r = await fetch(base + path);
        return { status: r.status, body: await r.json() };
      };
      const root = "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5";
      const boot = await get(`/bootstrap/${root}`);
      const bootFile = readdirSync(join(DATA, "bootstrap")).find((f) => f.endsWith(`${root}.json`));
      const wantBoot = JSON.parse(readFileSync(join(DATA, "bootstrap", bootFile), "utf8"));
      check("REST bootstrap: {version: deneb, data} == capture JSON", boot.status === 200 && boot.body.version === "deneb" && JSON.stringify(boot.body.data) === JSON.stringify(wantBoot.data), `${boot.status}`);
      const ups = await get("/updates?start_period=1&count=4");
      const same = (item, period) => bytesEqual(ssz.deneb.LightClientUpdate.serialize(ssz.deneb.LightClientUpdate.fromJson(item.data)), periodUpdate(period));
      check("REST updates(1,4) in period 4: 4 items == updates/period_0001..0004.json", ups.status === 200 && ups.body.length === 4 && ups.body.every((item, i) => item.version === "deneb" && same(item, i + 1)), `${ups.status} ${ups.body.length}`);
      const past = await get("/updates?start_period=5&count=1");
      check("REST updates past the current period: 404", past.status === 404 && past.body.code === 404, JSON.stringify(past));
      for (const [name, type, files] of [["finality_update", ssz.deneb.LightClientFinalityUpdate, FINALITY], ["optimistic_update", ssz.deneb.LightClientOptimisticUpdate, OPTIMISTIC]]) {
        const r = await get(`/${name}`);
        const bytes = r.status === 200 ? type.serialize(type.fromJson(r.body.data)) : null;
        check(`REST ${name}: a captured object at the replay head (attested slot >= 290)`, bytes && r.body.version === "deneb" && inCapture(files, bytes) && Number(r.body.data.attested_header.beacon.slot) >= 290, `${r.status}`);
      }
      const bad = await get("/bootstrap/0x1234");
      check("REST bootstrap with a bad root: 400", bad.status === 400 && bad.body.code === 400);
      const cors = (await fetch(`${base}/finality_update`)).headers.get("access-control-allow-origin");
      check("REST answers carry access-control-allow-origin: * (pages on other origins read it)", cors === "*", String(cors));
      const unknown = await get(`/bootstrap/0x${"11".repeat(32)}`);
      check("REST bootstrap unknown root: 404", unknown.status === 404);
      check("REST requests are reported as events", await p.waitFor((e) => e.event === "rest-request" && e.status === 400, 3000));
    } finally {
      await p.stop();
    }
  });

  await step("replay loops", async () => {
    const p = await startPeer(["--slot-ms", "15", "--no-handshake"]);
    try {
      const loop = await p.waitFor((e) => e.event === "replay-loop", 10000);
      check("replay loops back to the start when the capture runs out", loop?.loop === 1);
      const again = await p.waitFor((e) => e.event === "published" && e.loop === 1, 5000);
      check("after the loop, messages are published again (not dropped as duplicates)", again, JSON.stringify(p.events.filter((e) => e.event === "publish-skipped").slice(0, 2)));
    } finally {
      await p.stop();
    }
  });

  await step("bad arguments", async () => {
    const p = await startPeer(["--fault", "nonsense"], { allowFail: true });
    const r = await p.exitP;
    check("unknown --fault exits non-zero without a first line", p.info === null && r.code !== 0);
    for (const args of [["--fault", "wrong-block", "--fault-protocols", "light-client"], ["--fault-protocols", "nonsense"], ["--clock-start", "soon"], ["--clock-start", "1", "--start-slot", "150"]]) {
      const q = await startPeer(args, { allowFail: true });
      const rq = await q.exitP;
      check(`${args.join(" ")}: exit 2 without a first line`, q.info === null && rq.code === 2, String(rq.code));
    }
  });

  console.log("# D. faults");
  for (const mode of ["drop-mid-response", "error-code", "garbage", "wrong-context", "oversize-length", "never-answer"]) await step(`fault ${mode}`, () => faultTest(mode));

  console.log("# E. synthnet (mainnet preset, electra -> fulu -> BPO1, blocks)");
  if (!SYN_META) check("synthnet data present at tests/data/synthnet", false);
  else await step("synthnet", synthnetTests);
}

try {
  await main();
} catch (e) {
  check("selftest main", false, e?.stack ?? String(e));
} finally {
  for (const c of children) c.kill("SIGKILL");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
