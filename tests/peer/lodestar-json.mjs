// Lodestar's Beacon-API JSON of SSZ values, for the Rust tests to compare ours with
// (tests/block_conformance.rs): `@lodestar/types` deserializes the bytes and writes `toJson`.
//
//   node tests/peer/lodestar-json.mjs --preset minimal|mainnet  < requests  > answers
// Each stdin line is {"fork": "electra", "type": "SignedBeaconBlock", "path": "/abs/file.ssz"};
// each stdout line, in the same order, is {"json": …} or {"error": "…"}. A type a fork does not
// redefine is looked up in the forks before it (Lodestar's namespaces hold only what changed).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const FORKS = ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"];

const args = process.argv.slice(2);
const preset = args[0] === "--preset" ? args[1] : null;
if (preset !== "minimal" && preset !== "mainnet") {
  process.stderr.write("usage: node lodestar-json.mjs --preset minimal|mainnet < requests\n");
  process.exit(2);
}
// @lodestar/params fixes the preset when it is first imported.
process.env.LODESTAR_PRESET = preset;
const { ssz } = await import("@lodestar/types");
const { ACTIVE_PRESET } = await import("@lodestar/params");
if (ACTIVE_PRESET !== preset) {
  process.stderr.write(`@lodestar/params runs preset ${ACTIVE_PRESET}, not ${preset}\n`);
  process.exit(1);
}

function typeFor(fork, name) {
  const at = FORKS.indexOf(fork);
  if (at < 0) throw new Error(`unknown fork ${fork}`);
  for (let i = at; i >= 0; i--) {
    const type = ssz[FORKS[i]]?.[name];
    if (type) return type;
  }
  throw new Error(`@lodestar/types has no ${name} at or before ${fork}`);
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  let answer;
  try {
    const { fork, type, path } = JSON.parse(line);
    const sszType = typeFor(fork, type);
    answer = { json: sszType.toJson(sszType.deserialize(readFileSync(path))) };
  } catch (error) {
    answer = { error: String(error?.message ?? error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
