// What a web page imports to run Lodestar's light client against a Beacon-API endpoint (the
// package README's programmatic example). bench/parts/size.sh bundles this with esbuild for the
// browser, minified, and measures the bundle.
export {Lightclient, LightclientEvent} from "@lodestar/light-client";
export {LightClientRestTransport} from "@lodestar/light-client/transport";
export {
  getFinalizedSyncCheckpoint,
  getGenesisData,
  getConsoleLogger,
  getApiFromUrl,
  getChainForkConfigFromNetwork,
} from "@lodestar/light-client/utils";
