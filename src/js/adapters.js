// Adapters that only reshape promises of a BeaconP2P client for other consumers: Lodestar's
// light client (typed SSZ values) and anything that speaks the Beacon API over fetch (Helios).

function codedError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

// Lodestar's `LightClientTransport` over `client`. `ssz` is the `ssz` export of the
// @lodestar/types the caller's light client uses: `ssz[fork].LightClientUpdate.fromJson(...)`.
export function lightClientTransport(client, ssz) {
  if (!ssz || typeof ssz !== "object" || !ssz.deneb || !ssz.altair) {
    throw codedError(
      "INVALID_ARGUMENT",
      "lightClientTransport(ssz): pass the `ssz` export of @lodestar/types (import { ssz } from \"@lodestar/types\")",
    );
  }
  // A fork that changed none of the light-client containers (bellatrix) has no types of its
  // own in @lodestar/types: use the newest earlier fork's.
  const FORKS = ["altair", "bellatrix", "capella", "deneb", "electra", "fulu"];
  const typeFor = (version, typeName) => {
    for (let index = FORKS.indexOf(version); index >= 0; index--) {
      const type = ssz[FORKS[index]] && ssz[FORKS[index]][typeName];
      if (type) return type;
    }
    return ssz[version] && ssz[version][typeName];
  };
  const typed = (typeName) => ({ version, data }) => {
    const type = typeFor(version, typeName);
    if (!type) {
      throw codedError("BAD_DATA", `@lodestar/types has no ${typeName} for fork ${version}`);
    }
    return { version, data: type.fromJson(data) };
  };
  const subscribe = (subscribeTo, typeName) => (handler) => {
    subscribeTo((update) => {
      let value;
      try {
        value = typed(typeName)(update).data;
      } catch (error) {
        console.error("beacon-p2p: cannot hand a gossip update to Lodestar", error);
        return;
      }
      handler(value);
    });
  };
  const hex = (root) =>
    typeof root === "string" ? root : "0x" + Array.from(root, (b) => b.toString(16).padStart(2, "0")).join("");
  return {
    async getBootstrap(blockRoot) {
      return typed("LightClientBootstrap")(await client.bootstrap(hex(blockRoot)));
    },
    async getUpdates(startPeriod, count) {
      return (await client.updates(startPeriod, count)).map(typed("LightClientUpdate"));
    },
    async getFinalityUpdate() {
      return typed("LightClientFinalityUpdate")(await client.finalityUpdate());
    },
    async getOptimisticUpdate() {
      return typed("LightClientOptimisticUpdate")(await client.optimisticUpdate());
    },
    onFinalityUpdate: subscribe((cb) => client.onFinalityUpdate(cb), "LightClientFinalityUpdate"),
    onOptimisticUpdate: subscribe((cb) => client.onOptimisticUpdate(cb), "LightClientOptimisticUpdate"),
  };
}

const STATUS_BY_CODE = {
  INVALID_ARGUMENT: 400,
  PEER_ERROR: 404,
  NOT_FOUND: 404,
  BAD_DATA: 502,
  RPC_ERROR: 502,
  NO_PEERS: 503,
  TIMEOUT: 504,
  CLOSED: 503,
  START: 503,
};

// A Response made in JS has an empty `url`; Helios's HTTP client (reqwest-wasm) parses it and
// throws an uncaught error on "", so every answer carries the URL it answers.
function json(status, body, url) {
  const response = new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
  Object.defineProperty(response, "url", { value: url, enumerable: true });
  return response;
}

// `(Request | string) => Promise<Response>` for the Beacon-API routes a light client calls: the
// four light-client routes, and `/eth/v2/beacon/blocks/{block_id}` (Helios asks for the blocks of
// the headers it verified).
export function fetchHandler(client) {
  const lightClient = "/eth/v1/beacon/light_client/";
  const blocks = "/eth/v2/beacon/blocks/";
  return async (request) => {
    const href = typeof request === "string" ? request : request.url;
    const url = new URL(href, "http://localhost");
    const reply = (status, body) => json(status, body, url.href);
    const method = typeof request === "string" ? "GET" : request.method;
    if (method !== "GET") return reply(405, { code: 405, message: `${method} not supported` });
    const path = url.pathname;
    try {
      if (path.startsWith(blocks)) {
        return reply(200, await client.block(decodeURIComponent(path.slice(blocks.length))));
      }
      if (!path.startsWith(lightClient)) return reply(404, { code: 404, message: `no route ${path}` });
      const route = path.slice(lightClient.length);
      if (route.startsWith("bootstrap/")) {
        return reply(200, await client.bootstrap(decodeURIComponent(route.slice("bootstrap/".length))));
      }
      if (route === "updates") {
        const start = url.searchParams.get("start_period");
        const count = url.searchParams.get("count");
        if (!/^\d+$/.test(start ?? "") || !/^\d+$/.test(count ?? "")) {
          return reply(400, { code: 400, message: "start_period and count must be whole numbers" });
        }
        return reply(200, await client.updates(Number(start), Number(count)));
      }
      if (route === "finality_update") return reply(200, await client.finalityUpdate());
      if (route === "optimistic_update") return reply(200, await client.optimisticUpdate());
      return reply(404, { code: 404, message: `no route ${path}` });
    } catch (error) {
      const status = STATUS_BY_CODE[error && error.code] ?? 500;
      return reply(status, { code: status, message: String((error && error.message) || error) });
    }
  };
}

// Consensus RPC URLs answered in the page: base URL → fetch handler. One wrapper of the global
// `fetch` serves them all; it is installed with the first and removed with the last.
const consensusRpcs = new Map();
let pageFetch = null; // the page's own fetch, while ours wraps it
let rpcFetch = null;

function routeFetch(input, init) {
  // `data:` URLs (Helios loads its own wasm from one), other origins and anything that is not a
  // URL string or Request go to the page's fetch untouched.
  const href = typeof input === "string" ? input : input instanceof URL ? input.href : input && input.url;
  if (typeof href === "string") {
    for (const [base, handler] of consensusRpcs) {
      if (href === base || href.startsWith(base + "/")) {
        return handler(typeof input === "string" || input instanceof URL ? new Request(href, init) : input);
      }
    }
  }
  return pageFetch.call(globalThis, input, init);
}

// Routes `base` (a private origin and path of this client) to `client`'s fetch handler.
export function installConsensusRpc(base, client) {
  if (consensusRpcs.has(base)) return;
  consensusRpcs.set(base, fetchHandler(client));
  if (rpcFetch === null) {
    pageFetch = globalThis.fetch;
    rpcFetch = routeFetch;
    globalThis.fetch = rpcFetch;
  }
}

// Stops answering `base`; the last one gives the page its own fetch back (unless somebody has
// wrapped it since, whose wrapper then keeps calling ours, which passes everything through).
export function removeConsensusRpc(base) {
  if (!consensusRpcs.delete(base) || consensusRpcs.size > 0 || rpcFetch === null) return;
  if (globalThis.fetch === rpcFetch) {
    globalThis.fetch = pageFetch;
    rpcFetch = null;
    pageFetch = null;
  }
}
