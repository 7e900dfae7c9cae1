// Loaded by tests/browser/lodestar-bundle.mjs in headless Chromium, from a loopback server that
// mounts www/ at / and the devnet capture at /__capture/. It checks the two Lodestar bundles and
// the page's Lodestar/replay logic (www/lc.js, www/replay.js) without the wasm client: a
// transport that replays the capture's files drives the real light client, which must verify the
// bootstrap and follow the head.
import { headerRoot, loadLodestar, startLightclient, toHex } from "/lc.js";
import { ReplayClock } from "/replay.js";

const getJson = async (path) => {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return response.json();
};
const getText = async (path) => {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return response.text();
};
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/**
 * `capture`: {bootstraps: {root: file}, arrivals: [...], mainnetConfigYaml, devnet: {configYaml,
 * genesisValidatorsRoot, genesisTime, secondsPerSlot}}; `stepMs`: replay step.
 */
export async function run({ capture, stepMs, steps }) {
  const report = { presets: {} };

  // 1. Both bundles load, run the preset their name says, and parse a config.yaml.
  const mainnet = await loadLodestar("mainnet", new URL("/vendor/", location.href));
  const mainnetConfig = mainnet.chainConfigFromYaml(capture.mainnetConfigYaml);
  report.presets.mainnet = {
    active: mainnet.ACTIVE_PRESET,
    SECONDS_PER_SLOT: mainnetConfig.SECONDS_PER_SLOT,
    ELECTRA_FORK_EPOCH: mainnetConfig.ELECTRA_FORK_EPOCH,
    TERMINAL_TOTAL_DIFFICULTY: String(mainnetConfig.TERMINAL_TOTAL_DIFFICULTY),
    syncCommitteeSize: mainnet.ssz.altair.SyncCommittee.fields.pubkeys.length,
  };
  const lodestar = await loadLodestar("minimal", new URL("/vendor/", location.href));
  const devnetConfig = lodestar.chainConfigFromYaml(capture.devnet.configYaml);
  report.presets.minimal = {
    active: lodestar.ACTIVE_PRESET,
    SECONDS_PER_SLOT: devnetConfig.SECONDS_PER_SLOT,
    DENEB_FORK_EPOCH: devnetConfig.DENEB_FORK_EPOCH,
    ELECTRA_FORK_EPOCH: devnetConfig.ELECTRA_FORK_EPOCH,
    syncCommitteeSize: lodestar.ssz.altair.SyncCommittee.fields.pubkeys.length,
  };
  let wrongPreset = null;
  try {
    mainnet.chainConfigFromYaml(capture.devnet.configYaml);
  } catch (error) {
    wrongPreset = error.message;
  }
  report.mainnetBundleRefusesMinimalConfig = wrongPreset;

  // 2. A transport over the capture files, replaying arrivals one step per `stepMs`.
  const arrivals = capture.arrivals;
  const latest = { finality: null, optimistic: null };
  const handlers = { finality: [], optimistic: [] };
  const load = async (arrival) => {
    const dir = arrival.kind === "finality_update" ? "finality_update" : "optimistic_update";
    return getJson(`/__capture/${dir}/${arrival.file}.json`);
  };
  const typed = (name, { version, data }) => ({ version, data: lodestar.ssz[version][name].fromJson(data) });
  const transport = {
    async getBootstrap(root) {
      const file = capture.bootstraps[root];
      if (!file) throw new Error(`no bootstrap for ${root}`);
      return typed("LightClientBootstrap", await getJson(`/__capture/bootstrap/${file}`));
    },
    async getUpdates(start, count) {
      const out = [];
      for (let period = start; period < start + count; period++) {
        const items = await getJson(`/__capture/updates/period_${String(period).padStart(4, "0")}.json`);
        out.push(...items.map((item) => typed("LightClientUpdate", item)));
      }
      return out;
    },
    async getFinalityUpdate() {
      return typed("LightClientFinalityUpdate", latest.finality);
    },
    async getOptimisticUpdate() {
      return typed("LightClientOptimisticUpdate", latest.optimistic);
    },
    onFinalityUpdate: (handler) => handlers.finality.push(handler),
    onOptimisticUpdate: (handler) => handlers.optimistic.push(handler),
  };

  // Start like the demo page: the first finality and optimistic updates are "latest".
  let index = 0;
  while (!latest.finality || !latest.optimistic) {
    const arrival = arrivals[index++];
    const update = await load(arrival);
    if (arrival.kind === "finality_update") latest.finality = update;
    else latest.optimistic = update;
  }
  const newest = Math.max(Number(latest.finality.data.signature_slot), Number(latest.optimistic.data.signature_slot));
  const clock = new ReplayClock(Number(capture.devnet.genesisTime), Number(capture.devnet.secondsPerSlot), newest);
  const checkpointRoot = headerRoot(lodestar, latest.finality.data.finalized_header.beacon);
  report.checkpoint = { root: checkpointRoot, slot: Number(latest.finality.data.finalized_header.beacon.slot) };
  report.replayClock = { genesisTime: clock.genesisTime, newestSignatureSlot: newest, currentSlot: clock.currentSlot() };

  const events = { status: [], finalized: [], head: [], rejected: [], errors: [] };
  const { lightclient, started } = await startLightclient({
    lodestar,
    network: capture.devnet,
    transport,
    checkpointRoot,
    clock,
    on: {
      status: (name) => events.status.push(name),
      finalized: (header) => events.finalized.push(Number(header.beacon.slot)),
      head: (header) => events.head.push(Number(header.beacon.slot)),
      rejected: (kind, error) => events.rejected.push(`${kind}: ${error.message}`),
      log: (level, message, context, error) => {
        if (level === "error") events.errors.push(`${message} ${JSON.stringify(context ?? {})} ${error?.message ?? ""}`);
      },
    },
  });
  await started;
  report.startedAfterSteps = index;

  // Replay `steps` arrivals (grouping < 0.5 s apart like the test peer), one group per stepMs.
  let replayed = 0;
  while (replayed < steps && index < arrivals.length) {
    const t = arrivals[index].t;
    while (index < arrivals.length && arrivals[index].t - t < 0.5) {
      const arrival = arrivals[index++];
      const update = await load(arrival);
      const kind = arrival.kind === "finality_update" ? "finality" : "optimistic";
      latest[kind] = update;
      const value = typed(kind === "finality" ? "LightClientFinalityUpdate" : "LightClientOptimisticUpdate", update).data;
      for (const handler of handlers[kind]) handler(value);
    }
    replayed++;
    await sleep(stepMs);
  }
  lightclient.stop();
  report.replayedSteps = replayed;
  report.lastArrivalAttestedSlot = arrivals[index - 1].attested_slot;
  report.clockShifts = clock.shifts;
  report.head = toHex(lodestar.ssz.phase0.BeaconBlockHeader.hashTreeRoot(lightclient.getHead().beacon));
  report.headSlot = lightclient.getHead().beacon.slot;
  report.finalizedSlot = lightclient.getFinalized().beacon.slot;
  report.events = events;
  return report;
}
