#!/usr/bin/env node
// Reference runner: replays a light-client capture directory OFFLINE through Lodestar's own
// light-client sync protocol (`@lodestar/light-client` 1.28.1, `spec/`: LightclientSpec, i.e.
// processLightClientUpdate + validateLightClientUpdate + isBetterUpdate, and
// validateLightClientBootstrap) and prints what Lodestar made of every object, so a Rust test can
// compare our verifier with Lodestar's result. No network, no wall clock.
//
//   node tests/peer/lodestar-sync.mjs --data DIR --checkpoint 0xROOT [--current-slot-mode signature|clock]
//
// DIR has the layout of tests/data/devnet-capture or tests/data/synthnet (see their READMEs):
// config.yaml, meta.json, bootstrap/<slot>_<root>.ssz|json, updates/period_NNNN.json (+ .ssz),
// finality_update/<file>.ssz|json, optimistic_update/<file>.ssz|json, arrivals.json.
//
// Steps: (1) the bootstrap whose file name carries the checkpoint root: Lodestar's
// validateLightClientBootstrap (header root == checkpoint, current sync committee branch), then
// `new LightclientSpec(config, {allowForcedUpdates: true}, bootstrap)` as Lodestar's `Lightclient`
// does; (2) every updates/period_NNNN.json in period order (onUpdate); (3) every entry of
// arrivals.json in file order (= arrival order; onFinalityUpdate / onOptimisticUpdate).
// SSZ files are decoded when present, else the Beacon-API JSON (fromJson). The SSZ type comes from
// the fork of the object's slot (file-name prefix: bootstrap header / attested header), for
// per-period updates from the JSON `version`.
//
// current_slot passed to Lodestar: `signature` (default) = each object's signature_slot + 1;
// `clock` = one fixed slot for every object, the capture's clock: synthnet meta.json `clock.start`,
// devnet capture the time of its last arrival placed as tests/peer/README.md "Replay clock" does
// (t + max(signature_slot * slot duration - t) seconds after genesis). Lodestar's own Lightclient
// adds 10 s of clock tolerance (MAX_CLOCK_DISPARITY_SEC); this runner does not.
//
// The chain config is built from DIR/config.yaml (js-yaml failsafe schema, so every scalar stays a
// string, then @lodestar/config chainConfigFromJson + createBeaconConfig with meta.json's
// genesis_validators_root); Lodestar's built-in mainnet config predates Electra/Fulu. Keys this
// Lodestar does not know (BLOB_SCHEDULE, GLOAS_*, ...) are ignored: BPO steps change only the fork
// digest, never the fork version that signing domains use. SLOT_DURATION_MS stands in for a missing
// SECONDS_PER_SLOT. LODESTAR_PRESET is set from meta.json `preset` / config.yaml PRESET_BASE before
// any @lodestar import (the preset is fixed when @lodestar/params loads).
//
// stdout, one JSON object per line:
//   {"kind":"bootstrap"|"update"|"finality_update"|"optimistic_update", "file":"<path in DIR>",
//    "result":"accepted"|"ignored"|"rejected", "reason"?, "error"?, "changed"?}
//   ... and last {"event":"final", "finalized":{"slot","root"}, "optimistic":{"slot","root"},
//    "counts":{kind:{accepted,ignored,rejected}}, "ms_per_update", "ms_by_kind", "verified", "bls",
//    "current_slot_mode", "current_slot"?}
// Slots are JSON numbers, roots 0x-hex hash_tree_root(BeaconBlockHeader) of the store's headers.
// `ms_per_update`: mean wall time (performance.now) of Lodestar's processing call over the objects
// it verified completely (those that did not throw: every check incl. the BLS aggregate signature
// ran), decoding excluded, no warm-up; `ms_by_kind` the same mean per kind (a per-period update
// that brings a new period also pays for deserializing that committee's pubkeys); `verified` is
// their number; `bls` the @chainsafe/bls backend: blst-native (the @chainsafe/blst tarball ships
// prebuilt linux-x64 bindings, no install script needed), else its herumi wasm fallback.
//
// What `result` means. Lodestar's processLightClientUpdate returns nothing and either throws
// (an Error with a message only, no code) or returns; it has no ignore/reject distinction and no
// spec "relevance" check (attested slot > finalized slot or has next sync committee). Mapping:
//   accepted              returned, and the store changed; `changed` lists what: "optimistic",
//                         "finalized" (headers advanced), "best_update" (stored as the best sync
//                         committee update of its signature period), "sync_committee" (a period's
//                         committee was taken from the previous period's best update).
//   ignored  no_change    returned (fully valid, signature included), store unchanged: an older or
//                         equal header, or a sync committee update that is not better.
//   ignored  unknown_sync_committee_period
//                         threw "No SyncCommittee for period N": the committee of the signature
//                         period is not in the store (older than the 2 periods Lodestar keeps, or
//                         more than one period ahead); nothing about the object was checked.
//   ignored  future_signature_slot
//                         threw "... must not be in the future": signature_slot > current_slot.
//   rejected <reason>     threw on a check of the object itself: insufficient_participants,
//                         invalid_attested_header / invalid_finalized_header (execution branch or
//                         pre-fork execution fields), signature_slot_not_after_attested,
//                         attested_before_finalized, nonzero_finalized_header,
//                         nonzero_next_sync_committee, invalid_finality_branch,
//                         invalid_next_sync_committee_branch, invalid_signature, bad_bls_encoding,
//                         or `error` for anything else. `error` carries Lodestar's message.
//   bootstrap: accepted, or rejected (reason invalid_bootstrap / decode_error), then exit 1.
//   An object that does not decode: rejected, reason decode_error.
//
// Exit codes: 0 done (whatever the results), 1 bad data / bootstrap rejected, 2 bad arguments,
// 3 node_modules missing (run `npm ci` in tests/peer).

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

function usage(msg) {
  process.stderr.write(
    `${msg}\nusage: node lodestar-sync.mjs --data DIR --checkpoint 0xROOT [--current-slot-mode signature|clock]\n`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { data: null, checkpoint: null, mode: "signature" };
  for (let i = 0; i < argv.length; i++) {
    let [name, value] = argv[i].split(/=(.*)/s);
    const take = () => {
      if (value === undefined) value = argv[++i];
      if (value === undefined) usage(`${name} needs a value`);
      return value;
    };
    if (name === "--data") opts.data = take();
    else if (name === "--checkpoint") opts.checkpoint = take().toLowerCase();
    else if (name === "--current-slot-mode") opts.mode = take();
    else usage(`unknown argument ${argv[i]}`);
  }
  if (!opts.data) usage("--data is required");
  if (!opts.checkpoint || !/^0x[0-9a-f]{64}$/.test(opts.checkpoint)) usage("--checkpoint must be a 0x-hex 32-byte root");
  if (opts.mode !== "signature" && opts.mode !== "clock") usage(`bad --current-slot-mode ${opts.mode}`);
  return opts;
}

function fatal(msg) {
  process.stderr.write(`FATAL: ${msg}\n`);
  process.exit(1);
}

const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const toHex = (bytes) => `0x${Buffer.from(bytes).toString("hex")}`;
const fromHex = (hex) => Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex"));

const opts = parseArgs(process.argv.slice(2));
const DIR = opts.data;
if (!existsSync(join(DIR, "config.yaml")) || !existsSync(join(DIR, "meta.json"))) {
  fatal(`${DIR} has no config.yaml or meta.json`);
}

let yaml;
try {
  yaml = (await import("js-yaml")).default;
} catch {
  process.stderr.write("node_modules is missing: run `npm ci` in tests/peer\n");
  process.exit(3);
}

// --- network: config.yaml + meta.json, preset before any @lodestar import -------------------------
const meta = JSON.parse(readFileSync(join(DIR, "meta.json"), "utf8"));
const configJson = yaml.load(readFileSync(join(DIR, "config.yaml"), "utf8"), { schema: yaml.FAILSAFE_SCHEMA });
if (configJson === null || typeof configJson !== "object" || Array.isArray(configJson)) fatal("config.yaml is not a mapping");
const preset = meta.preset ?? configJson.PRESET_BASE;
if (preset !== "mainnet" && preset !== "minimal") fatal(`unknown preset ${preset}`);
if (configJson.PRESET_BASE !== undefined && configJson.PRESET_BASE !== preset) {
  fatal(`meta.json preset ${preset} != config.yaml PRESET_BASE ${configJson.PRESET_BASE}`);
}
process.env.LODESTAR_PRESET = preset;
if (configJson.SECONDS_PER_SLOT === undefined && configJson.SLOT_DURATION_MS !== undefined) {
  configJson.SECONDS_PER_SLOT = String(Number(configJson.SLOT_DURATION_MS) / 1000);
}
const gvrHex = meta.genesis_validators_root ?? meta.genesis?.genesis_validators_root;
const genesisTime = Number(meta.genesis_time ?? meta.genesis?.genesis_time);
if (!gvrHex || !Number.isFinite(genesisTime)) fatal("meta.json has no genesis_validators_root / genesis_time");

let params, types, lodestarConfig, spec, validateLightClientBootstrap;
try {
  params = await import("@lodestar/params");
  types = await import("@lodestar/types");
  lodestarConfig = await import("@lodestar/config");
  spec = await import("@lodestar/light-client/spec");
  // Not exported by the package's "exports" map, so imported by file URL; the same module instance
  // that Lightclient.initializeFromCheckpointRoot calls.
  ({ validateLightClientBootstrap } = await import(
    new URL("./spec/validateLightClientBootstrap.js", import.meta.resolve("@lodestar/light-client")).href
  ));
} catch (e) {
  if (e?.code === "ERR_MODULE_NOT_FOUND") {
    process.stderr.write(`node_modules is missing or incomplete (${e.message}): run \`npm ci\` in tests/peer\n`);
    process.exit(3);
  }
  throw e;
}
let blsImplementation = "unknown";
try {
  blsImplementation = (await import("@chainsafe/bls")).default.implementation;
} catch {}

const { ssz, sszTypesFor } = types;
const { SLOTS_PER_EPOCH, EPOCHS_PER_SYNC_COMMITTEE_PERIOD, SYNC_COMMITTEE_SIZE } = params;
if (params.ACTIVE_PRESET !== preset) fatal(`@lodestar/params runs preset ${params.ACTIVE_PRESET}, not ${preset}`);
// config.yaml files written by a node (the devnet capture's) repeat preset values: they must agree.
for (const [key, value] of Object.entries({ SLOTS_PER_EPOCH, EPOCHS_PER_SYNC_COMMITTEE_PERIOD, SYNC_COMMITTEE_SIZE })) {
  if (configJson[key] !== undefined && Number(configJson[key]) !== value) {
    fatal(`config.yaml ${key} ${configJson[key]} != ${preset} preset ${value}`);
  }
}
const chainConfig = lodestarConfig.chainConfigFromJson(configJson);
const config = lodestarConfig.createBeaconConfig(chainConfig, fromHex(gvrHex));
const secondsPerSlot = config.SECONDS_PER_SLOT;

// --- loading ---------------------------------------------------------------------------------------
const slotOfName = (name) => Number(name.split("_")[0]);

/** Reads `<sub>/<base>.ssz` (preferred) or `.json` as `typeName` of `fork`. */
function loadObject(sub, base, typeName, fork) {
  const type = sszTypesFor(fork)[typeName];
  if (!type) throw Error(`@lodestar/types has no ${fork} ${typeName}`);
  const sszPath = join(DIR, sub, `${base}.ssz`);
  if (existsSync(sszPath)) return { file: `${sub}/${base}.ssz`, value: type.deserialize(readFileSync(sszPath)) };
  const jsonPath = join(DIR, sub, `${base}.json`);
  let json = JSON.parse(readFileSync(jsonPath, "utf8"));
  if (Array.isArray(json)) json = json[0];
  if (json && json.data !== undefined && json.version !== undefined) json = json.data;
  return { file: `${sub}/${base}.json`, value: type.fromJson(json) };
}

const headerRoot = (header) => toHex(ssz.phase0.BeaconBlockHeader.hashTreeRoot(header.beacon));

// --- bootstrap -------------------------------------------------------------------------------------
const bootName = readdirSync(join(DIR, "bootstrap"))
  .map((f) => f.replace(/\.(ssz|json)$/, ""))
  .find((base) => base.toLowerCase().endsWith(`_${opts.checkpoint}`));
if (!bootName) fatal(`no bootstrap/<slot>_${opts.checkpoint}.ssz|json in ${DIR}`);
let bootstrap;
{
  const bootSlot = slotOfName(bootName);
  let file = `bootstrap/${bootName}`;
  try {
    const loaded = loadObject("bootstrap", bootName, "LightClientBootstrap", config.getForkName(bootSlot));
    file = loaded.file;
    bootstrap = loaded.value;
  } catch (e) {
    out({ kind: "bootstrap", file, result: "rejected", reason: "decode_error", error: e.message });
    process.exit(1);
  }
  try {
    validateLightClientBootstrap(config, fromHex(opts.checkpoint), bootstrap);
  } catch (e) {
    out({ kind: "bootstrap", file, result: "rejected", reason: "invalid_bootstrap", error: e.message });
    process.exit(1);
  }
  out({ kind: "bootstrap", file, result: "accepted" });
}

// --- the objects to replay, decoded up front ----------------------------------------------------------
// Per-period updates: period order.
const items = [];
const updateFiles = readdirSync(join(DIR, "updates"))
  .filter((f) => /^period_\d+\.json$/.test(f))
  .sort((a, b) => Number(a.match(/\d+/)[0]) - Number(b.match(/\d+/)[0]));
for (const f of updateFiles) {
  const base = f.replace(/\.json$/, "");
  const json = JSON.parse(readFileSync(join(DIR, "updates", f), "utf8"));
  const list = Array.isArray(json) ? json : [json];
  list.forEach((entry, i) => {
    const item = { kind: "update", file: `updates/${f}${list.length > 1 ? `#${i}` : ""}` };
    try {
      if (list.length === 1) {
        Object.assign(item, loadObject("updates", base, "LightClientUpdate", entry.version));
      } else {
        item.value = sszTypesFor(entry.version).LightClientUpdate.fromJson(entry.data);
      }
    } catch (e) {
      item.decodeError = e.message;
    }
    items.push(item);
  });
}
// Finality / optimistic updates: arrivals.json order.
const arrivals = JSON.parse(readFileSync(join(DIR, "arrivals.json"), "utf8"));
const TYPE_OF_KIND = { finality_update: "LightClientFinalityUpdate", optimistic_update: "LightClientOptimisticUpdate" };
for (const a of arrivals) {
  if (!TYPE_OF_KIND[a.kind]) fatal(`arrivals.json: unknown kind ${a.kind}`);
  const item = { kind: a.kind, file: `${a.kind}/${a.file}`, t: Number(a.t) };
  try {
    Object.assign(item, loadObject(a.kind, a.file, TYPE_OF_KIND[a.kind], config.getForkName(slotOfName(a.file))));
  } catch (e) {
    item.decodeError = e.message;
  }
  items.push(item);
}

// --- current slot ----------------------------------------------------------------------------------
let clockSlot = null;
if (opts.mode === "clock") {
  if (meta.clock?.start !== undefined) {
    clockSlot = Math.floor((Number(meta.clock.start) - genesisTime) / secondsPerSlot);
  } else {
    // t counts from the start of recording: place the recording as the test peer's clock replay
    // does, at the earliest offset where no arrival comes before its signature slot.
    const timed = items.filter((it) => it.t !== undefined && it.value);
    if (timed.length === 0) fatal("clock mode: no arrivals");
    const offset = Math.max(...timed.map((it) => it.value.signatureSlot * secondsPerSlot - it.t));
    clockSlot = Math.floor((timed[timed.length - 1].t + offset) / secondsPerSlot);
  }
}

// --- replay ----------------------------------------------------------------------------------------
const lc = new spec.LightclientSpec(config, { allowForcedUpdates: true }, bootstrap);
const store = lc.store;

// Lodestar's messages (lib/spec/processLightClientUpdate.js, validateLightClientUpdate.js) -> reason.
const REASONS = [
  [/must not be in the future/, "ignored", "future_signature_slot"],
  [/^No SyncCommittee for period/, "ignored", "unknown_sync_committee_period"],
  [/has not sufficient participants/, "rejected", "insufficient_participants"],
  [/^Attested Header is not Valid/, "rejected", "invalid_attested_header"],
  [/^Finalized Header is not valid/, "rejected", "invalid_finalized_header"],
  [/^signature slot .* must be after attested header slot/, "rejected", "signature_slot_not_after_attested"],
  [/must be after finalized header slot/, "rejected", "attested_before_finalized"],
  [/^finalizedHeader must be zero/, "rejected", "nonzero_finalized_header"],
  [/^nextSyncCommittee must be zero/, "rejected", "nonzero_next_sync_committee"],
  [/^Invalid finality header merkle branch/, "rejected", "invalid_finality_branch"],
  [/^Invalid next sync committee merkle branch/, "rejected", "invalid_next_sync_committee_branch"],
  [/^Invalid aggregate signature/, "rejected", "invalid_signature"],
  [/^Error (aggregating pubkeys|deserializing signature|verifying signature)/, "rejected", "bad_bls_encoding"],
];

function snapshot() {
  return {
    finalized: store.finalizedHeader,
    optimistic: store.optimisticHeader,
    committees: [...store.syncCommittees.keys()].join(","),
    best: new Map([...store.bestValidUpdates].map(([period, best]) => [period, best.update])),
  };
}

function changes(before, after) {
  const changed = [];
  if (after.optimistic !== before.optimistic) changed.push("optimistic");
  if (after.finalized !== before.finalized) changed.push("finalized");
  if ([...after.best].some(([period, update]) => before.best.get(period) !== update)) changed.push("best_update");
  if (after.committees.split(",").some((p) => !before.committees.split(",").includes(p))) changed.push("sync_committee");
  return changed;
}

const counts = {};
const timing = {}; // kind -> {ms, n} over the objects Lodestar verified completely
for (const item of items) {
  const line = { kind: item.kind, file: item.file };
  if (item.decodeError) {
    Object.assign(line, { result: "rejected", reason: "decode_error", error: item.decodeError });
  } else {
    const currentSlot = clockSlot ?? item.value.signatureSlot + 1;
    const before = snapshot();
    const t0 = performance.now();
    try {
      if (item.kind === "update") lc.onUpdate(currentSlot, item.value);
      else if (item.kind === "finality_update") lc.onFinalityUpdate(currentSlot, item.value);
      else lc.onOptimisticUpdate(currentSlot, item.value);
      const ms = performance.now() - t0;
      timing[item.kind] ??= { ms: 0, n: 0 };
      timing[item.kind].ms += ms;
      timing[item.kind].n++;
      const changed = changes(before, snapshot());
      if (changed.length > 0) Object.assign(line, { result: "accepted", changed });
      else Object.assign(line, { result: "ignored", reason: "no_change" });
    } catch (e) {
      const message = String(e?.message ?? e);
      const [, result, reason] = REASONS.find(([re]) => re.test(message)) ?? [null, "rejected", "error"];
      Object.assign(line, { result, reason, error: message });
    }
  }
  counts[item.kind] ??= { accepted: 0, ignored: 0, rejected: 0 };
  counts[item.kind][line.result]++;
  out(line);
}

const round3 = (x) => Number(x.toFixed(3));
const verified = Object.values(timing).reduce((sum, t) => sum + t.n, 0);
const verifiedMs = Object.values(timing).reduce((sum, t) => sum + t.ms, 0);
out({
  event: "final",
  finalized: { slot: store.finalizedHeader.beacon.slot, root: headerRoot(store.finalizedHeader) },
  optimistic: { slot: store.optimisticHeader.beacon.slot, root: headerRoot(store.optimisticHeader) },
  counts,
  ms_per_update: verified > 0 ? round3(verifiedMs / verified) : null,
  ms_by_kind: Object.fromEntries(Object.entries(timing).map(([kind, t]) => [kind, round3(t.ms / t.n)])),
  verified,
  bls: blsImplementation,
  current_slot_mode: opts.mode,
  ...(clockSlot !== null ? { current_slot: clockSlot } : {}),
});
