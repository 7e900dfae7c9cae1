// bench/parts/verify.sh, in Chromium: replays one capture through beacon-p2p's light-client store
// (`impl`: the directory of a wasm build) or through Lodestar's (`impl` "lodestar": the demo
// page's bundle, www/vendor/lodestar-<preset>.js, herumi BLS as browsers run it), in the order
// `bench-verify order` gave, each object at its signature slot + 1, `rounds` times from a fresh
// store. Timed: one processing call (performance.now), JSON decoding before the clock. Reported
// per kind: the median over rounds of the mean over calls that verified completely (beacon-p2p:
// a "+" outcome; Lodestar: the call did not throw), as tests/peer/lodestar-sync.mjs counts.

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round3 = (x) => Number(x.toFixed(3));

/** Runs `rounds` replays; `step(index)` processes one object and says whether it verified. */
function timeRounds(kinds, rounds, start, step) {
  const samples = {};
  const counts = {};
  let verified = 0;
  for (let round = 0; round < rounds; round++) {
    start();
    const sums = {};
    verified = 0;
    kinds.forEach((kind, index) => {
      const t0 = performance.now();
      const { ok, verdict } = step(index);
      const ms = performance.now() - t0;
      if (ok) {
        sums[kind] ??= { ms: 0, n: 0 };
        sums[kind].ms += ms;
        sums[kind].n++;
        verified++;
      }
      if (round === 0) {
        counts[kind] ??= {};
        counts[kind][verdict] = (counts[kind][verdict] ?? 0) + 1;
      }
    });
    for (const [kind, { ms, n }] of Object.entries(sums)) (samples[kind] ??= []).push(ms / n);
  }
  const ms_by_kind = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round3(median(v))]));
  return { ms_by_kind, counts, verified, rounds };
}

async function oursIn(build, data) {
  const module = await import(`/${build}/beacon_p2p_bench_verify.js`);
  const loadStarted = performance.now();
  await module.default();
  const instantiateMs = performance.now() - loadStarted;
  const replay = new module.Replay(data.configYaml, data.gvr, data.checkpoint, data.bootstrap);
  data.objects.forEach(([kind, text]) => replay.push(kind, text));
  const result = timeRounds(
    data.objects.map(([kind]) => kind),
    data.rounds,
    () => replay.reset(),
    (index) => {
      const outcome = replay.process(index);
      return { ok: outcome.startsWith("+"), verdict: outcome.replace(/^\+/, "").split(":")[0] };
    },
  );
  const [finalized, optimistic] = replay.heads();
  return { impl: `beacon-p2p wasm (${build})`, build, ...result, finalized, optimistic, instantiate_ms: round3(instantiateMs) };
}

async function lodestarIn(data) {
  const L = await import(`/vendor/lodestar-${data.preset}.js`);
  if (L.ACTIVE_PRESET !== data.preset) throw new Error(`the Lodestar bundle runs ${L.ACTIVE_PRESET}, not ${data.preset}`);
  const gvr = Uint8Array.from(data.gvr.slice(2).match(/../g), (byte) => parseInt(byte, 16));
  const config = L.createBeaconConfig(L.chainConfigFromYaml(data.lodestarConfigYaml), gvr);
  const decode = (typeName, text) => {
    let json = JSON.parse(text);
    if (Array.isArray(json)) json = json[0];
    const type = L.ssz[json.version]?.[typeName];
    if (!type) throw new Error(`Lodestar has no ${json.version} ${typeName}`);
    return type.fromJson(json.data);
  };
  const TYPES = { update: "LightClientUpdate", finality_update: "LightClientFinalityUpdate", optimistic_update: "LightClientOptimisticUpdate" };
  const bootstrap = decode("LightClientBootstrap", data.bootstrap);
  const values = data.objects.map(([kind, text]) => decode(TYPES[kind], text));
  let lc;
  const result = timeRounds(
    data.objects.map(([kind]) => kind),
    data.rounds,
    () => {
      lc = new L.LightclientSpec(config, { allowForcedUpdates: true }, bootstrap);
    },
    (index) => {
      const [kind] = data.objects[index];
      const value = values[index];
      const currentSlot = value.signatureSlot + 1;
      const before = [lc.store.finalizedHeader, lc.store.optimisticHeader];
      try {
        if (kind === "update") lc.onUpdate(currentSlot, value);
        else if (kind === "finality_update") lc.onFinalityUpdate(currentSlot, value);
        else lc.onOptimisticUpdate(currentSlot, value);
      } catch {
        return { ok: false, verdict: "rejected_or_ignored" };
      }
      const moved = lc.store.finalizedHeader !== before[0] || lc.store.optimisticHeader !== before[1];
      return { ok: true, verdict: moved || kind === "update" ? "accepted" : "ignored" };
    },
  );
  return {
    impl: "Lodestar (Chromium)",
    ...result,
    finalized: lc.store.finalizedHeader.beacon.slot,
    optimistic: lc.store.optimisticHeader.beacon.slot,
  };
}

window.runVerifyBench = async (args) => {
  const text = async (path) => {
    const response = await fetch(`/__data/${path}`);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.text();
  };
  const data = {
    ...args,
    bootstrap: await text(args.order.bootstrap),
    objects: await Promise.all(args.order.objects.map(async ([kind, path]) => [kind, await text(path)])),
  };
  const result = args.impl === "lodestar" ? await lodestarIn(data) : await oursIn(args.impl, data);
  return { userAgent: navigator.userAgent, ...result };
};
window.verifyBenchReady = true;
