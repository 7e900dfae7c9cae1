// The Lodestar modules decode.mjs --impl lodestar runs, resolved from this directory's
// node_modules (bench/js: the 1.28.1 line the project's test peer and light-client checks use;
// bench/js-latest: the newest @lodestar/types on the registry). LODESTAR_PRESET must be set in
// the environment before this is imported.
import {readFileSync} from "node:fs";
import {createRequire} from "node:module";
const require = createRequire(import.meta.url);

export * as params from "@lodestar/params";
export {ssz, sszTypesFor} from "@lodestar/types";
export {createBeaconConfig} from "@lodestar/config";
export {networksChainConfig, genesisData} from "@lodestar/config/networks";
export const {uncompress} = require("snappyjs");
export const crc32c = require("@chainsafe/fast-crc32c");
export const versions = Object.fromEntries(
  ["@lodestar/types", "@lodestar/config", "@chainsafe/ssz", "@chainsafe/persistent-merkle-tree", "@chainsafe/as-sha256", "snappyjs", "@chainsafe/fast-crc32c"].map(
    (name) => [name, JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url))).version]
  )
);
// Which CRC32C fast-crc32c picked (it tries @node-rs/crc32, then plain JavaScript).
let nodeRs = null;
try {
  nodeRs = require("@node-rs/crc32").crc32c;
} catch {}
export const crcImpl = nodeRs && crc32c.calculate === nodeRs ? "@node-rs/crc32 (native)" : "JavaScript";
