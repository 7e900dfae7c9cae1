// A TCP proxy on 127.0.0.1 that delays every chunk by a one-way delay per direction, in order,
// and keeps a trace of what crossed it (this machine's kernel has no netem). Used by
// bench/js/wan.mjs between the browser and the bridge, the bridge and the peer, and in front of
// the peer's REST API.
//
// Order is kept per direction: a chunk leaves at max(arrival + delay, when the one before left),
// so lowering the delay between measurements never lets a later chunk overtake an earlier one.
// Every chunk that crossed is traced as {connection, at (epoch ms, when it arrived), toServer,
// bytes}; `roundTrips()` counts them (see there).
import { createServer, connect } from "node:net";

/** One direction of one connection: chunks queued with the time they may leave. */
class DelayedPipe {
  constructor(destination, delayOf, notBefore = 0) {
    this.destination = destination;
    this.delayOf = delayOf;
    this.queue = [];
    // performance.now() before which the sender could not have sent: see `handshake` in
    // startDelayProxy.
    this.notBefore = notBefore;
    this.lastDue = 0;
    this.timer = null;
    this.ended = false;
  }

  push(chunk) {
    const due = Math.max(Math.max(performance.now(), this.notBefore) + this.delayOf(), this.lastDue);
    this.lastDue = due;
    this.queue.push({ due, chunk });
    this.pump();
  }

  end() {
    this.ended = true;
    this.pump();
  }

  pump() {
    if (this.timer) return;
    const now = performance.now();
    while (this.queue.length && this.queue[0].due <= now + 0.5) {
      const { chunk } = this.queue.shift();
      if (!this.destination.destroyed) this.destination.write(chunk);
    }
    if (this.queue.length) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, Math.max(0, this.queue[0].due - now));
    } else if (this.ended && !this.destination.destroyed) {
      this.destination.end();
    }
  }
}

/**
 * Starts a proxy to `upstream` ({host, port}) with `oneWayMs` each way (and, with `handshake`,
 * one round trip before a new connection carries data, as TCP's handshake costs). Resolves
 * {port, setDelay(oneWayMs), trace, since(epochMs), close()}.
 */
export function startDelayProxy({ upstream, oneWayMs = 0, label = "proxy", handshake = true }) {
  let delay = oneWayMs;
  const trace = [];
  const sockets = new Set();
  let connections = 0;
  const server = createServer((client) => {
    const id = `${label}#${++connections}`;
    const server = connect(upstream.port, upstream.host);
    for (const socket of [client, server]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    // TCP's handshake: on loopback the kernel completes it at once, so without this a new
    // connection would cost nothing. Over a real link neither side sends before SYN, SYN-ACK
    // (one round trip, 2 × one-way from accept here), and its bytes then take their one-way
    // trip. Traced as a zero-byte exchange: one round trip.
    const opened = performance.now() + (handshake ? 2 * delay : 0);
    const toServer = new DelayedPipe(server, () => delay, opened);
    const toClient = new DelayedPipe(client, () => delay, opened);
    const record = (isToServer, chunk) => {
      if (trace.length < 2_000_000) trace.push({ connection: id, at: Date.now(), toServer: isToServer, bytes: chunk.length });
    };
    if (handshake) {
      record(true, { length: 0 });
      record(false, { length: 0 });
    }
    client.on("data", (chunk) => {
      record(true, chunk);
      toServer.push(chunk);
    });
    server.on("data", (chunk) => {
      record(false, chunk);
      toClient.push(chunk);
    });
    client.on("end", () => toServer.end());
    server.on("end", () => toClient.end());
    const fail = () => {
      client.destroy();
      server.destroy();
    };
    client.on("error", fail);
    server.on("error", fail);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: server.address().port,
        setDelay(ms) {
          delay = ms;
        },
        trace,
        close() {
          for (const socket of sockets) socket.destroy();
          return new Promise((done) => server.close(done));
        },
      });
    });
  });
}

/**
 * Round trips in `trace` between epoch ms `from` and `to`: on each connection, every time data
 * towards the client follows data towards the server, the client has waited for an answer once.
 * `total` sums that over connections; `critical` counts it on one merged timeline (answers on
 * connections in flight at the same time count once), the waits a page could not overlap.
 * Chunks count by when they reached the proxy from their sender.
 */
export function roundTrips(trace, from, to) {
  const lastDirection = new Map();
  let total = 0;
  let critical = 0;
  let mergedLast = null;
  const connections = new Set();
  let bytes = 0;
  for (const entry of trace) {
    if (entry.at < from || entry.at > to) continue;
    connections.add(entry.connection);
    bytes += entry.bytes;
    const last = lastDirection.get(entry.connection);
    if (last === true && !entry.toServer) total += 1;
    lastDirection.set(entry.connection, entry.toServer);
    if (mergedLast === true && !entry.toServer) critical += 1;
    mergedLast = entry.toServer;
  }
  return { total, critical, connections: connections.size, bytes };
}
