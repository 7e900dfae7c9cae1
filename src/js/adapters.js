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
  NO_PEERS: 503,
  TIMEOUT: 504,
  CLOSED: 503,
  START: 503,
};

function json(status, body) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

// `(Request | string) => Promise<Response>` for the Beacon-API light-client routes.
export function fetchHandler(client) {
  const prefix = "/eth/v1/beacon/light_client/";
  return async (request) => {
    const url = new URL(typeof request === "string" ? request : request.url, "http://localhost");
    const method = typeof request === "string" ? "GET" : request.method;
    if (method !== "GET") return json(405, { code: 405, message: `${method} not supported` });
    const blocks = "/eth/v2/beacon/blocks/";
    if (url.pathname.startsWith(blocks)) {
      try {
        return json(200, await client.block(decodeURIComponent(url.pathname.slice(blocks.length))));
      } catch (error) {
        return errorResponse(error);
      }
    }
    if (!url.pathname.startsWith(prefix)) {
      return json(404, { code: 404, message: `no route ${url.pathname}` });
    }
    const route = url.pathname.slice(prefix.length);
    try {
      if (route.startsWith("bootstrap/")) {
        return json(200, await client.bootstrap(decodeURIComponent(route.slice("bootstrap/".length))));
      }
      if (route === "updates") {
        const start = url.searchParams.get("start_period");
        const count = url.searchParams.get("count");
        if (!/^\d+$/.test(start ?? "") || !/^\d+$/.test(count ?? "")) {
          return json(400, { code: 400, message: "start_period and count must be whole numbers" });
        }
        return json(200, await client.updates(Number(start), Number(count)));
      }
      if (route === "finality_update") return json(200, await client.finalityUpdate());
      if (route === "optimistic_update") return json(200, await client.optimisticUpdate());
      return json(404, { code: 404, message: `no route ${url.pathname}` });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

function errorResponse(error) {
  const status = STATUS_BY_CODE[error && error.code] ?? 500;
  return json(status, { code: status, message: String((error && error.message) || error) });
}
