// NOT the beacon-p2p client. A stand-in with the same JS API (init, BeaconP2P.connect, bootstrap,
// updates, finalityUpdate, optimisticUpdate, on*, peers, lightClientTransport, close) that asks the
// bridge's Beacon-API routes and server-sent events instead of peers. `demo.mjs` serves it as
// www/pkg only with DEMO_CLIENT=http, to check the demo page's own logic (and Lodestar on the page)
// against a real bridge and the replaying test peer while the wasm package is not available. It
// marks every peer `via: "bridge-http"` so the page shows what it is.

function codedError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

export default async function init() {
  return { memory: null };
}

export class BeaconP2P {
  static async connect(options = {}) {
    const base = (options.bridges && options.bridges[0]) || location.origin;
    const client = new BeaconP2P(base);
    await client.refreshPeers();
    return client;
  }

  constructor(base) {
    this.base = base;
    this.closed = false;
    this.listeners = { light_client_finality_update: new Set(), light_client_optimistic_update: new Set(), peers: new Set() };
    this.knownPeers = [];
    this.events = new EventSource(`${base}/eth/v1/events?topics=light_client_finality_update,light_client_optimistic_update`);
    for (const topic of ["light_client_finality_update", "light_client_optimistic_update"]) {
      this.events.addEventListener(topic, (event) => {
        const update = JSON.parse(event.data);
        for (const listener of this.listeners[topic]) listener(update);
      });
    }
    this.timer = setInterval(() => this.refreshPeers().catch(() => {}), 2000);
  }

  async get(path) {
    if (this.closed) throw codedError("CLOSED", "closed");
    const response = await fetch(`${this.base}${path}`);
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const code = response.status === 400 ? "INVALID_ARGUMENT" : response.status === 404 ? "PEER_ERROR" : "NO_PEERS";
      throw codedError(code, `GET ${path}: ${response.status} ${body && body.message ? body.message : ""}`);
    }
    return body;
  }

  async refreshPeers() {
    const peers = await this.get("/peers");
    this.knownPeers = peers.map((p) => ({
      peerId: p.peerId,
      client: p.client,
      via: "bridge-http",
      servesLightClient: p.servesLightClient,
      connected: true,
    }));
    for (const listener of this.listeners.peers) listener(this.peers());
  }

  bootstrap(root) {
    return this.get(`/eth/v1/beacon/light_client/bootstrap/${root}`);
  }
  updates(start, count) {
    return this.get(`/eth/v1/beacon/light_client/updates?start_period=${start}&count=${count}`);
  }
  finalityUpdate() {
    return this.get("/eth/v1/beacon/light_client/finality_update");
  }
  optimisticUpdate() {
    return this.get("/eth/v1/beacon/light_client/optimistic_update");
  }
  on(name, callback) {
    this.listeners[name].add(callback);
    return () => this.listeners[name].delete(callback);
  }
  onFinalityUpdate(callback) {
    return this.on("light_client_finality_update", callback);
  }
  onOptimisticUpdate(callback) {
    return this.on("light_client_optimistic_update", callback);
  }
  onPeers(callback) {
    return this.on("peers", callback);
  }
  peers() {
    return this.knownPeers.map((p) => ({ ...p }));
  }

  lightClientTransport(ssz) {
    const typed = (name) => ({ version, data }) => ({ version, data: ssz[version][name].fromJson(data) });
    const hex = (root) => (typeof root === "string" ? root : "0x" + Array.from(root, (b) => b.toString(16).padStart(2, "0")).join(""));
    return {
      getBootstrap: async (root) => typed("LightClientBootstrap")(await this.bootstrap(hex(root))),
      getUpdates: async (start, count) => (await this.updates(start, count)).map(typed("LightClientUpdate")),
      getFinalityUpdate: async () => typed("LightClientFinalityUpdate")(await this.finalityUpdate()),
      getOptimisticUpdate: async () => typed("LightClientOptimisticUpdate")(await this.optimisticUpdate()),
      onFinalityUpdate: (handler) => this.onFinalityUpdate((u) => handler(typed("LightClientFinalityUpdate")(u).data)),
      onOptimisticUpdate: (handler) => this.onOptimisticUpdate((u) => handler(typed("LightClientOptimisticUpdate")(u).data)),
    };
  }

  async close() {
    this.closed = true;
    clearInterval(this.timer);
    this.events.close();
  }
}
