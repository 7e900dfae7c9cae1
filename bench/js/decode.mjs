// Decoding benchmark, JavaScript side of bench/parts/decode.sh.
//
//   LODESTAR_PRESET=mainnet node decode.mjs --impl lodestar|wasm --dir DIR [--reps R] [--warmup W]
//
// Reads the inputs `bench-decode inputs` wrote (updates_stream.bin, gossip.bin), runs both
// workloads with one implementation and prints one JSON line: median and samples (ms) per
// workload and every root, for decode.sh to compare.
//
// --impl lodestar: Lodestar's own pieces. SSZ types, deserialize and hashTreeRoot from
//   @lodestar/types (@chainsafe/ssz, hashing through @chainsafe/as-sha256, the default hasher
//   of @chainsafe/persistent-merkle-tree, which is what Lodestar's light client runs with);
//   snappy from snappyjs; CRC32C from @chainsafe/fast-crc32c (what Lodestar's req/resp uses; on
//   Node it picks the native @node-rs/crc32); fork digests from @lodestar/config. Lodestar's
//   light client has no req/resp decoder (it reads the Beacon REST API) and @lodestar/reqresp
//   is not on the registry at a matching version, so the req/resp framing below (result byte,
//   context bytes, varint, snappy frames) is a minimal reader written here, with the checks
//   the spec requires (bounds from the SSZ type, max compressed length, CRC).
// --impl wasm: beacon-p2p compiled to wasm32 (bench/decode-wasm, wasm-pack --target nodejs),
//   called once per response stream and once per gossip message.
import {readFileSync} from "node:fs";
import {createRequire} from "node:module";
import {performance} from "node:perf_hooks";
import {pathToFileURL} from "node:url";
import {parseArgs} from "node:util";

const {values: args} = parseArgs({
  options: {
    impl: {type: "string"},
    dir: {type: "string"},
    reps: {type: "string", default: "31"},
    warmup: {type: "string", default: "5"},
    // --impl lodestar: the lodestar-deps.mjs to take Lodestar's modules from.
    deps: {type: "string", default: new URL("./lodestar-deps.mjs", import.meta.url).pathname},
  },
});
const require = createRequire(import.meta.url);
const dir = args.dir;
const stream = readFileSync(`${dir}/updates_stream.bin`);
const messages = splitMessages(readFileSync(`${dir}/gossip.bin`));

function splitMessages(bytes) {
  const out = [];
  for (let pos = 0; pos < bytes.length; ) {
    const len = bytes.readUInt32LE(pos);
    out.push(bytes.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  return out;
}

const toHex = (bytes) => "0x" + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");

async function lodestar() {
  const deps = await import(pathToFileURL(args.deps).href);
  const {params, ssz, sszTypesFor, createBeaconConfig, networksChainConfig, genesisData, uncompress, crc32c} = deps;
  if (params.ACTIVE_PRESET !== "mainnet" || params.SYNC_COMMITTEE_SIZE !== 512) {
    throw new Error(`LODESTAR_PRESET must be mainnet (got ${params.ACTIVE_PRESET})`);
  }

  const config = createBeaconConfig(
    networksChainConfig.mainnet,
    Buffer.from(genesisData.mainnet.genesisValidatorsRoot.slice(2), "hex")
  );
  // @lodestar/config up to 1.28 maps a digest to a fork name; later versions (Fulu's blob-parameter
  // forks) to a fork boundary {fork, epoch}.
  const forkOfDigest = config.forkDigest2ForkName
    ? (digest) => config.forkDigest2ForkName(digest)
    : (digest) => config.forkDigest2ForkBoundary(digest).fork;
  const MAX_PAYLOAD_SIZE = 10 * 1024 * 1024;
  const MAX_CHUNKS = 128;
  const IDENTIFIER = Buffer.from("sNaPpY");

  const maskedCrc = (data) => {
    const crc = crc32c.calculate(data);
    return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
  };

  function readVarint(buf, pos) {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (pos + i >= buf.length) throw new Error("EOF in varint");
      const byte = buf[pos + i];
      value += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        if (i > 0 && byte === 0) throw new Error("non-minimal varint");
        return [value, pos + i + 1];
      }
    }
    throw new Error("varint too long");
  }

  // Snappy framing format: frames until `length` bytes are out; returns [payload, new pos].
  function readFrames(buf, pos, length) {
    const out = Buffer.allocUnsafe(length);
    const limit = pos + 32 + length + Math.floor(length / 6);
    let filled = 0;
    while (filled < length) {
      if (pos + 4 > buf.length) throw new Error("EOF in frame header");
      const type = buf[pos];
      const frameLen = buf[pos + 1] | (buf[pos + 2] << 8) | (buf[pos + 3] << 16);
      const body = pos + 4;
      const end = body + frameLen;
      if (end > buf.length) throw new Error("EOF in frame");
      if (end > limit) throw new Error("frames exceed max compressed length");
      if (type === 0xff) {
        if (frameLen !== 6 || !buf.subarray(body, end).equals(IDENTIFIER)) throw new Error("bad stream identifier");
      } else if (type === 0x00 || type === 0x01) {
        if (frameLen < 4) throw new Error("short frame");
        const crc = buf.readUInt32LE(body);
        const data = type === 0x00
          ? uncompress(buf.subarray(body + 4, end), Math.min(65536, length - filled))
          : buf.subarray(body + 4, end);
        if (data.length > length - filled) throw new Error("payload longer than declared");
        if (maskedCrc(data) !== crc) throw new Error("crc mismatch");
        out.set(data, filled);
        filled += data.length;
      } else if (type <= 0x7f) {
        throw new Error(`reserved unskippable frame type ${type}`);
      } // 0x80..0xfe: skippable / padding
      pos = end;
    }
    return [out, pos];
  }

  function updatesStreamRoots(buf) {
    const roots = [];
    let pos = 0;
    while (pos < buf.length) {
      if (roots.length >= MAX_CHUNKS) throw new Error("too many chunks");
      const result = buf[pos];
      if (result !== 0) throw new Error(`error chunk ${result}`);
      if (pos + 5 > buf.length) throw new Error("EOF in context bytes");
      const fork = forkOfDigest(buf.subarray(pos + 1, pos + 5));
      const type = sszTypesFor(fork).LightClientUpdate;
      let length;
      [length, pos] = readVarint(buf, pos + 5);
      if (length < type.minSize || length > Math.min(type.maxSize, MAX_PAYLOAD_SIZE)) {
        throw new Error(`length ${length} out of bounds`);
      }
      let payload;
      [payload, pos] = readFrames(buf, pos, length);
      roots.push(type.hashTreeRoot(type.deserialize(payload)));
    }
    return roots;
  }

  const finality = ssz.electra.LightClientFinalityUpdate;
  function gossipFinalityRoot(data) {
    const payload = uncompress(data, finality.maxSize);
    if (payload.length < finality.minSize) throw new Error("too short");
    return finality.hashTreeRoot(finality.deserialize(payload));
  }
  const v = deps.versions;
  return {
    updatesStreamRoots,
    gossipFinalityRoot,
    name: `Lodestar (@lodestar/types ${v["@lodestar/types"]}, @chainsafe/ssz ${v["@chainsafe/ssz"]}, snappyjs ${v.snappyjs})`,
    versions: v,
    crc32c: deps.crcImpl,
  };
}

function wasm() {
  const {Decoder} = require("../decode-wasm/pkg/beacon_p2p_bench_decode.js");
  const decoder = new Decoder();
  return {
    updatesStreamRoots(buf) {
      const concat = decoder.updatesStreamRoots(buf);
      const roots = [];
      for (let i = 0; i < concat.length; i += 32) roots.push(concat.subarray(i, i + 32));
      return roots;
    },
    gossipFinalityRoot: (data) => decoder.gossipFinalityRoot(data),
    name: "beacon-p2p wasm32 in Node",
  };
}

function median(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function time(warmup, reps, work) {
  for (let i = 0; i < warmup; i++) work();
  const samples = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    work();
    samples.push(performance.now() - start);
  }
  return {median_ms: median(samples), samples_ms: samples};
}

const impl = args.impl === "lodestar" ? await lodestar() : args.impl === "wasm" ? wasm() : null;
if (!impl) throw new Error("--impl lodestar|wasm");
const warmup = Number(args.warmup);
const reps = Number(args.reps);

const updatesRoots = impl.updatesStreamRoots(stream).map(toHex);
const gossipRoots = messages.map((m) => toHex(impl.gossipFinalityRoot(m)));
const updates = time(warmup, reps, () => impl.updatesStreamRoots(stream));
const gossip = time(warmup, reps, () => {
  for (const m of messages) impl.gossipFinalityRoot(m);
});
console.log(JSON.stringify({
  implementation: impl.name,
  versions: impl.versions ?? null,
  crc32c: impl.crc32c ?? null,
  node: process.version,
  updates,
  gossip,
  updates_roots: updatesRoots,
  gossip_roots: gossipRoots,
}));
