// A service worker that answers a consensus RPC URL with a beacon-p2p client of its own, for every
// page and worker it controls: Helios (or anything that speaks the Beacon API) gets
// `consensusRpc: "https://consensus.beacon-p2p.invalid"` and never leaves the browser for its
// consensus data. Use it where a page's own fetch wrapper (`client.consensusRpcUrl()`) cannot
// reach, e.g. Helios running in a Web Worker. The client joins the network of the bridge that
// serves this script (`GET /network`, its clock offset included) through that bridge, once, on
// the first request; it lives as long as the browser keeps the worker alive (Helios asks every
// 12 s, which keeps it alive) and starts again after the browser stopped it.
//
//   await navigator.serviceWorker.register("/consensus-sw.js", { type: "module" });
//   await navigator.serviceWorker.ready;   // then, once the page is controlled:
//   createHeliosProvider({ network: "mainnet", consensusRpc: "https://consensus.beacon-p2p.invalid", … })
//
// Run by tests/browser/helios.mjs (Helios through this worker, in Chromium).
import init, { BeaconP2P } from "./pkg/beacon_p2p.js";

const CONSENSUS_RPC = "https://consensus.beacon-p2p.invalid";
const BUILT_IN = ["mainnet", "sepolia", "holesky", "hoodi"];

let handler = null;

// The client's fetch handler, started on first use (module service workers may not await at
// their top level). A failed start is forgotten, so the next request tries again.
function fetchHandler() {
  if (handler === null) {
    handler = (async () => {
      await init();
      const response = await fetch("/network");
      if (!response.ok) throw new Error(`GET /network: HTTP ${response.status}`);
      const network = await response.json();
      const client = await BeaconP2P.connect({
        network: BUILT_IN.includes(network.name)
          ? network.name
          : { configYaml: network.configYaml, genesisValidatorsRoot: network.genesisValidatorsRoot, genesisTime: network.genesisTime },
        bridges: [self.location.origin],
        clockOffsetMs: Number(network.clockOffsetMs ?? 0),
      });
      return client.fetchHandler();
    })();
    handler.catch(() => {
      handler = null;
    });
  }
  return handler;
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  const url = event.request.url;
  if (url !== CONSENSUS_RPC && !url.startsWith(CONSENSUS_RPC + "/")) return; // not ours: the network's
  event.respondWith(
    fetchHandler()
      .then((answer) => answer(event.request))
      .catch((error) => {
        const body = JSON.stringify({ code: 503, message: `beacon-p2p service worker: ${error?.message ?? error}` });
        return new Response(body, { status: 503, headers: { "content-type": "application/json" } });
      }),
  );
});
