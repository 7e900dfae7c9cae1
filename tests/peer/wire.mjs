// Eth2 req/resp `ssz_snappy` wire codec and gossip helpers, shared by peer.mjs and selftest.mjs.
//
// Written from the consensus specs (phase0 p2p-interface.md, "Encoding strategies") and the
// snappy framing format description (google/snappy framing_format.txt). Raw snappy *block*
// compression comes from `snappyjs`; everything around it (varint, CRC32C, framing, chunks) is here.

import { createHash } from "node:crypto";
import snappy from "snappyjs";

export const MAX_PAYLOAD_SIZE = 10 * 1024 * 1024; // 10 MiB
export const MAX_ERROR_MESSAGE = 256;
export const MAX_FRAME_UNCOMPRESSED = 65536;

export const RESULT = { SUCCESS: 0, INVALID_REQUEST: 1, SERVER_ERROR: 2, RESOURCE_UNAVAILABLE: 3 };

export const STREAM_IDENTIFIER = Uint8Array.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);

export class WireError extends Error {
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}

// ---------------------------------------------------------------------------------------------
// bytes helpers

export function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const toHex = (b) => "0x" + Buffer.from(b).toString("hex");
export function fromHex(s) {
  const h = s.startsWith("0x") ? s.slice(2) : s;
  if (h.length % 2 !== 0 || /[^0-9a-fA-F]/.test(h)) throw new Error(`bad hex: ${s}`);
  return new Uint8Array(Buffer.from(h, "hex"));
}
export const bytesEqual = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

export function u64le(v) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  return b;
}
export function readU64le(b, off = 0) {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
}

// ---------------------------------------------------------------------------------------------
// unsigned LEB128 varint (protobuf style), as used for the ssz length prefix

export function encodeVarint(n) {
  let v = BigInt(n);
  if (v < 0n) throw new RangeError("varint must be unsigned");
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// CRC32C (Castagnoli), table driven, reflected polynomial 0x82F63B78

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(data) {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function maskedCrc32c(data) {
  const crc = crc32c(data);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// snappy framing format

function chunkHeader(type, len) {
  return Uint8Array.from([type, len & 0xff, (len >>> 8) & 0xff, (len >>> 16) & 0xff]);
}

function le32(v) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** Encode `data` in the snappy framing format: stream identifier, then data chunks of at most 64 KiB
 *  uncompressed each; a chunk is stored compressed (0x00) unless that saves less than 12.5 %. */
export function encodeFramed(data) {
  const parts = [STREAM_IDENTIFIER];
  for (let off = 0; off < data.length; off += MAX_FRAME_UNCOMPRESSED) {
    const raw = data.subarray(off, Math.min(off + MAX_FRAME_UNCOMPRESSED, data.length));
    const crc = le32(maskedCrc32c(raw));
    const comp = snappy.compress(Uint8Array.from(raw));
    if (comp.length < raw.length - raw.length / 8) {
      parts.push(chunkHeader(0x00, 4 + comp.length), crc, comp);
    } else {
      parts.push(chunkHeader(0x01, 4 + raw.length), crc, raw);
    }
  }
  return concat(parts);
}

/** The spec's worst-case snappy size, used to bound how many framed bytes a reader accepts. */
export const maxCompressedLen = (n) => 32 + n + Math.floor(n / 6);

// ---------------------------------------------------------------------------------------------
// buffered reader over a libp2p stream source (AsyncIterable<Uint8Array | Uint8ArrayList>)

export class ByteReader {
  constructor(source) {
    this.it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
    this.buf = new Uint8Array(0);
    this.done = false;
  }
  static fromBytes(bytes) {
    return new ByteReader([bytes]);
  }
  async fill(n) {
    while (this.buf.length < n && !this.done) {
      const { value, done } = await this.it.next();
      if (done) {
        this.done = true;
        break;
      }
      const chunk = value instanceof Uint8Array ? value : value.subarray();
      this.buf = this.buf.length === 0 ? chunk : concat([this.buf, chunk]);
    }
    return this.buf.length >= n;
  }
  /** Read and discard everything up to EOF (the remote's write-close). */
  async drain() {
    this.buf = new Uint8Array(0);
    while (!this.done) {
      const { done } = await this.it.next();
      if (done) this.done = true;
    }
  }
  async atEOF() {
    return !(await this.fill(1));
  }
  async readExact(n, what = "bytes") {
    if (!(await this.fill(n))) throw new WireError("early_eof", `stream ended while reading ${what} (${this.buf.length}/${n} bytes)`);
    const out = this.buf.slice(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  async readVarint() {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      const [b] = await this.readExact(1, "varint");
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw new WireError("varint_not_minimal", "varint has trailing zero byte");
        return v;
      }
    }
    throw new WireError("varint_overflow", "varint longer than 10 bytes");
  }
}

/** Read snappy frames from `reader` until exactly `n` uncompressed bytes were produced. */
export async function readFramed(reader, n) {
  const limit = maxCompressedLen(n);
  let consumed = 0;
  let sawIdentifier = false;
  const out = [];
  let total = 0;
  while (total < n || !sawIdentifier) {
    const hdr = await reader.readExact(4, "snappy chunk header");
    const type = hdr[0];
    const len = hdr[1] | (hdr[2] << 8) | (hdr[3] << 16);
    consumed += 4 + len;
    if (consumed > limit) throw new WireError("too_many_compressed_bytes", `framed data exceeds max_compressed_len(${n}) = ${limit}`);
    const body = await reader.readExact(len, "snappy chunk body");
    if (type === 0xff) {
      if (len !== 6 || !bytesEqual(body, STREAM_IDENTIFIER.subarray(4))) throw new WireError("bad_stream_identifier", "invalid snappy stream identifier");
      sawIdentifier = true;
      continue;
    }
    if (!sawIdentifier) throw new WireError("missing_stream_identifier", `chunk type 0x${type.toString(16)} before stream identifier`);
    if (type === 0x00 || type === 0x01) {
      if (len < 4) throw new WireError("short_chunk", "data chunk shorter than its checksum");
      const crc = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
      let data;
      if (type === 0x00) {
        try {
          data = snappy.uncompress(body.subarray(4), MAX_FRAME_UNCOMPRESSED);
        } catch (e) {
          throw new WireError("bad_snappy", `compressed chunk does not decompress: ${e.message}`);
        }
      } else {
        data = body.subarray(4);
        if (data.length > MAX_FRAME_UNCOMPRESSED) throw new WireError("chunk_too_large", "uncompressed chunk over 65536 bytes");
      }
      if (maskedCrc32c(data) !== crc) throw new WireError("crc_mismatch", "snappy chunk CRC32C mismatch");
      total += data.length;
      if (total > n) throw new WireError("length_mismatch", `frames hold more than the ${n} bytes announced`);
      out.push(data);
    } else if (type >= 0x80 && type <= 0xfe) {
      continue; // skippable / padding
    } else {
      throw new WireError("reserved_unskippable_chunk", `reserved unskippable chunk type 0x${type.toString(16)}`);
    }
  }
  return concat(out);
}

// ---------------------------------------------------------------------------------------------
// req/resp messages

export function encodeRequest(ssz) {
  return concat([encodeVarint(ssz.length), encodeFramed(ssz)]);
}

/** Read one request body (varint + frames). `bounds` = {min, max} SSZ length bounds. */
export async function readRequest(reader, bounds) {
  const n = await reader.readVarint();
  if (n > BigInt(MAX_PAYLOAD_SIZE)) throw new WireError("length_over_max_payload", `request length ${n}`);
  const len = Number(n);
  if (bounds && (len < bounds.min || len > bounds.max)) throw new WireError("length_out_of_bounds", `request length ${len} outside [${bounds.min}, ${bounds.max}]`);
  return readFramed(reader, len);
}

export function encodeSuccessChunk(ssz, context /* Uint8Array(4) | null */) {
  const parts = [Uint8Array.of(RESULT.SUCCESS)];
  if (context) parts.push(context);
  parts.push(encodeVarint(ssz.length), encodeFramed(ssz));
  return concat(parts);
}

export function encodeErrorChunk(result, message) {
  let msg = new TextEncoder().encode(message);
  if (msg.length > MAX_ERROR_MESSAGE) msg = msg.subarray(0, MAX_ERROR_MESSAGE);
  return concat([Uint8Array.of(result), encodeVarint(msg.length), encodeFramed(msg)]);
}

/** Read all response chunks until EOF.
 *  opts.contextBytes: whether success chunks carry 4 context bytes (the light-client protocols)
 *  opts.bounds(context) -> {min, max} SSZ bounds for a success payload (may throw for an unknown context)
 *  opts.maxChunks: stop with an error if more chunks arrive. */
export async function readResponse(reader, opts = {}) {
  const chunks = [];
  while (!(await reader.atEOF())) {
    if (opts.maxChunks !== undefined && chunks.length >= opts.maxChunks) throw new WireError("too_many_chunks", `more than ${opts.maxChunks} response chunk(s)`);
    const [result] = await reader.readExact(1, "result byte");
    let context = null;
    if (result === RESULT.SUCCESS && opts.contextBytes) context = await reader.readExact(4, "context bytes");
    const n = await reader.readVarint();
    if (n > BigInt(MAX_PAYLOAD_SIZE)) throw new WireError("length_over_max_payload", `chunk length ${n} > MAX_PAYLOAD_SIZE`);
    const len = Number(n);
    if (result === RESULT.SUCCESS) {
      const b = opts.bounds ? opts.bounds(context) : null;
      if (b && (len < b.min || len > b.max)) throw new WireError("length_out_of_bounds", `chunk length ${len} outside [${b.min}, ${b.max}]`);
    } else if (len > MAX_ERROR_MESSAGE) {
      throw new WireError("length_out_of_bounds", `error message length ${len} > ${MAX_ERROR_MESSAGE}`);
    }
    const payload = await readFramed(reader, len);
    const chunk = { result, context, payload };
    if (result !== RESULT.SUCCESS) chunk.errorMessage = new TextDecoder("utf-8", { fatal: false }).decode(payload);
    chunks.push(chunk);
  }
  return chunks;
}

// ---------------------------------------------------------------------------------------------
// gossip

export const MESSAGE_DOMAIN_INVALID_SNAPPY = Uint8Array.from([0, 0, 0, 0]);
export const MESSAGE_DOMAIN_VALID_SNAPPY = Uint8Array.from([1, 0, 0, 0]);

export function gossipEncode(ssz) {
  return snappy.compress(Uint8Array.from(ssz));
}

export function gossipDecode(data) {
  return snappy.uncompress(Uint8Array.from(data), MAX_PAYLOAD_SIZE);
}

/** Altair+ message-id: sha256(domain ‖ uint64_le(len(topic)) ‖ topic ‖ data)[:20]. */
export function computeMessageId(topic, data) {
  const topicBytes = new TextEncoder().encode(topic);
  let domain = MESSAGE_DOMAIN_VALID_SNAPPY;
  let body;
  try {
    body = gossipDecode(data);
  } catch {
    domain = MESSAGE_DOMAIN_INVALID_SNAPPY;
    body = data;
  }
  const h = createHash("sha256");
  h.update(domain);
  h.update(u64le(topicBytes.length));
  h.update(topicBytes);
  h.update(body);
  return new Uint8Array(h.digest().subarray(0, 20));
}

// ---------------------------------------------------------------------------------------------
// protocol ids

export const reqProtocol = (name, version) => `/eth2/beacon_chain/req/${name}/${version}/ssz_snappy`;

export const PROTOCOLS = {
  status: reqProtocol("status", 1),
  goodbye: reqProtocol("goodbye", 1),
  ping: reqProtocol("ping", 1),
  metadata: reqProtocol("metadata", 2),
  bootstrap: reqProtocol("light_client_bootstrap", 1),
  updatesByRange: reqProtocol("light_client_updates_by_range", 1),
  finalityUpdate: reqProtocol("light_client_finality_update", 1),
  optimisticUpdate: reqProtocol("light_client_optimistic_update", 1),
  blocksByRange: reqProtocol("beacon_blocks_by_range", 2),
  blocksByRoot: reqProtocol("beacon_blocks_by_root", 2),
};

export const LC_PROTOCOLS = new Set([PROTOCOLS.bootstrap, PROTOCOLS.updatesByRange, PROTOCOLS.finalityUpdate, PROTOCOLS.optimisticUpdate]);
export const BLOCK_PROTOCOLS = new Set([PROTOCOLS.blocksByRange, PROTOCOLS.blocksByRoot]);
/** Protocols whose success chunks carry 4 context bytes (the fork digest of the object's slot). */
export const CONTEXT_PROTOCOLS = new Set([...LC_PROTOCOLS, ...BLOCK_PROTOCOLS]);

export const MAX_REQUEST_BLOCKS_DENEB = 128;

export const gossipTopic = (digestHex, name) => `/eth2/${digestHex.replace(/^0x/, "")}/${name}/ssz_snappy`;

// ---------------------------------------------------------------------------------------------
// fork digest

export function computeForkDataRoot(forkVersion, gvr) {
  const h = createHash("sha256");
  const v = new Uint8Array(32);
  v.set(forkVersion, 0);
  h.update(v);
  h.update(gvr);
  return new Uint8Array(h.digest());
}

export const computeForkDigest = (forkVersion, gvr) => computeForkDataRoot(forkVersion, gvr).subarray(0, 4);

// ---------------------------------------------------------------------------------------------
// outbound request helper (used by the peer for its handshake and by the selftest as a client)

export function withTimeout(promise, ms, onTimeout) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => {
        try {
          onTimeout?.();
        } catch {}
        reject(new WireError("timeout", `no complete response within ${ms} ms`));
      }, ms);
    }),
  ]);
}

/** Open `protocol` on `connection`, send `body` (SSZ bytes, or null for no request body), read the
 *  response chunks until EOF. Returns {chunks}; throws WireError on a protocol violation. */
export async function sendRequest(connection, protocol, body, opts = {}) {
  const timeoutMs = opts.timeoutMs ?? 10000;
  const stream = await connection.newStream(protocol, { signal: AbortSignal.timeout(timeoutMs) });
  try {
    const work = (async () => {
      if (body) await stream.sink([encodeRequest(body)]);
      else await stream.closeWrite();
      const reader = new ByteReader(stream.source);
      const chunks = await readResponse(reader, { contextBytes: CONTEXT_PROTOCOLS.has(protocol), bounds: opts.bounds, maxChunks: opts.maxChunks });
      return { chunks, stream };
    })();
    return await withTimeout(work, timeoutMs, () => stream.abort(new Error("request timeout")));
  } finally {
    stream.close().catch(() => {});
  }
}
