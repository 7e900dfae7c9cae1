// Lodestar's light client on top of a LightClientTransport (the wasm client's, on the demo page):
// the bundle loader, the checkpoint root and one running light client whose verified headers are
// reported back. No DOM here, so tests can drive it with any transport.

/** Loads www/vendor/lodestar-<preset>.js and checks that it really runs with that preset. */
export async function loadLodestar(preset, base = new URL("./vendor/", import.meta.url)) {
  const url = new URL(`lodestar-${preset}.js`, base);
  let lodestar;
  try {
    lodestar = await import(url.href);
  } catch (error) {
    throw new Error(`cannot load ${url.pathname} (built by scripts/www.sh): ${error.message}`);
  }
  if (lodestar.ACTIVE_PRESET !== preset) {
    throw new Error(`${url.pathname} runs preset ${lodestar.ACTIVE_PRESET}, the network needs ${preset}`);
  }
  return lodestar;
}

/** hash_tree_root of a Beacon-API BeaconBlockHeader JSON, as 0x-hex. */
export function headerRoot(lodestar, beaconHeaderJson) {
  const { ssz } = lodestar;
  const header = ssz.phase0.BeaconBlockHeader.fromJson(beaconHeaderJson);
  return toHex(ssz.phase0.BeaconBlockHeader.hashTreeRoot(header));
}

export function toHex(bytes) {
  return "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const STATUS_NAMES = ["uninitialized", "started", "syncing", "stopped"];

/**
 * Starts Lodestar's light client from `checkpointRoot` over `transport`.
 *
 * - `clock`: optional ReplayClock (replay mode). Its genesisTime is Lodestar's; every finality or
 *   optimistic update handed to Lodestar first moves it (see replay.js).
 * - `on`: { status(name), finalized(header), head(header), rejected(kind, error), log(level, msg, ctx, err) }
 *
 * Lodestar's gossip handlers throw when it rejects an update (future slot, unknown committee,
 * bad signature); the transport wrapper catches and reports those instead of losing them.
 */
export async function startLightclient({ lodestar, network, transport, checkpointRoot, clock, on }) {
  const { Lightclient, LightclientEvent, chainConfigFromYaml } = lodestar;
  const config = chainConfigFromYaml(network.configYaml);
  const observe = (value) => {
    if (clock) clock.observe(Number(value.signatureSlot));
  };
  const guarded = (kind, handler) => (value) => {
    observe(value);
    try {
      handler(value);
    } catch (error) {
      on.rejected?.(kind, error);
    }
  };
  const wrapped = {
    getBootstrap: (root) => transport.getBootstrap(root),
    getUpdates: (start, count) => transport.getUpdates(start, count),
    async getFinalityUpdate() {
      const update = await transport.getFinalityUpdate();
      observe(update.data);
      return update;
    },
    async getOptimisticUpdate() {
      const update = await transport.getOptimisticUpdate();
      observe(update.data);
      return update;
    },
    onFinalityUpdate: (handler) => transport.onFinalityUpdate(guarded("finality", handler)),
    onOptimisticUpdate: (handler) => transport.onOptimisticUpdate(guarded("optimistic", handler)),
  };
  const logger = {
    error: (msg, ctx, err) => on.log?.("error", msg, ctx, err),
    warn: (msg, ctx, err) => on.log?.("warn", msg, ctx, err),
    info: (msg, ctx, err) => on.log?.("info", msg, ctx, err),
    debug: (msg, ctx, err) => on.log?.("debug", msg, ctx, err),
  };
  let lightclient = null;
  lightclient = await Lightclient.initializeFromCheckpointRoot({
    config,
    logger,
    transport: wrapped,
    genesisData: {
      genesisTime: clock ? clock.genesisTime : Number(network.genesisTime),
      genesisValidatorsRoot: network.genesisValidatorsRoot,
    },
    checkpointRoot: fromHex(checkpointRoot),
  });
  // Lodestar reads `genesisTime` on every clock look-up; a replay shift applies at once (before
  // the update that caused it is processed: observe() runs first in the wrappers above).
  if (clock) clock.onShift(() => (lightclient.genesisTime = clock.genesisTime));
  lightclient.emitter.on(LightclientEvent.statusChange, (code) => on.status?.(STATUS_NAMES[code] ?? String(code)));
  lightclient.emitter.on(LightclientEvent.lightClientFinalityHeader, (header) => on.finalized?.(header));
  lightclient.emitter.on(LightclientEvent.lightClientOptimisticHeader, (header) => on.head?.(header));
  on.status?.(STATUS_NAMES[lightclient.status]);
  on.finalized?.(lightclient.getFinalized());
  on.head?.(lightclient.getHead());
  // start() resolves once it tracks the head; it keeps running (and re-syncing) after that.
  const started = lightclient.start();
  return { lightclient, started };
}

function fromHex(hex) {
  const clean = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not hex: ${hex}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}
