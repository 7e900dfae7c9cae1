// The hashing experiment (bench/decode-wasm/src/hashing.rs) in the wasm build, run in Node:
//   node hashing.mjs --dir DIR [--reps R]      prints one JSON line
// Same measurements, same round-robin timing as `bench-decode hashing` natively.
import {readFileSync} from "node:fs";
import {createRequire} from "node:module";
import {performance} from "node:perf_hooks";
import {parseArgs} from "node:util";

const {values: args} = parseArgs({options: {dir: {type: "string"}, reps: {type: "string", default: "21"}}});
const require = createRequire(import.meta.url);
const {Committee, hashPairChain, updateBounds} = require("../decode-wasm/pkg/beacon_p2p_bench_decode.js");
const reps = Number(args.reps);

function median(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// Round-robin over the cases (see `compare` in bench/decode-wasm/src/main.rs): per case the
// median ns per call and the median of its time relative to the first case.
function compare(batch, cases) {
  for (const [, work] of cases) for (let i = 0; i < batch; i++) work();
  const samples = cases.map(() => []);
  for (let r = 0; r < reps; r++) {
    cases.forEach(([, work], index) => {
      const start = performance.now();
      for (let i = 0; i < batch; i++) work();
      samples[index].push(((performance.now() - start) * 1e6) / batch);
    });
  }
  return Object.fromEntries(cases.map(([name], index) => [
    name,
    {median_ns: median(samples[index]), vs_first: median(samples[index].map((x, r) => x / samples[0][r]))},
  ]));
}

const hex = (b) => "0x" + Buffer.from(b).toString("hex");
// The first update of the workload's stream, written by `bench-decode inputs`.
const committee = new Committee(readFileSync(`${args.dir}/first_update.ssz`));
const today = hex(committee.rootSszRs());
if (hex(committee.rootFlat(false)) !== today || hex(committee.rootFlat(true)) !== today) {
  throw new Error("flat committee root differs");
}
if (hex(hashPairChain(1000, false)) !== hex(hashPairChain(1000, true))) throw new Error("pair hash differs");
console.log(JSON.stringify({
  implementation: "wasm32 in Node",
  hash_pair: compare(1, [
    ["digest_api", () => hashPairChain(100000, false)],
    ["compress256", () => hashPairChain(100000, true)],
  ]),
  sync_committee_root: compare(20, [
    ["ssz_rs_today", () => committee.rootSszRs()],
    ["flat_digest_api", () => committee.rootFlat(false)],
    ["flat_compress256", () => committee.rootFlat(true)],
  ]),
  // updateBounds(n) makes n calls in one wasm call; one "call" here = 20 of them.
  update_ssz_bounds: compare(1, [["ssz_bounds_electra_update_x20", () => updateBounds(20)]]),
  update_root_and_clone: compare(20, [
    ["update_hash_tree_root", () => committee.updateRoot()],
    ["update_clone", () => committee.cloneUpdate()],
  ]),
  pair_chain_length: 100000,
  root: today,
}));
