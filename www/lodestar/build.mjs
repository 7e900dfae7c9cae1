// Bundles entry.js into ../vendor/lodestar-<preset>.js, one file per preset, for the browser.
//   node build.mjs [minimal|mainnet ...]     (default: both)
// Lodestar's presets are fixed at import time, so each preset is its own bundle.
import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "vendor");
const presets = process.argv.slice(2).length ? process.argv.slice(2) : ["minimal", "mainnet"];

// Resolutions that differ from what a Node bundle would get.
const browserResolutions = {
  name: "browser-resolutions",
  setup(build) {
    // The herumi (wasm) BLS implementation instead of the runtime switch that may load blst-native.
    build.onResolve({ filter: /^@chainsafe\/bls$/ }, () => ({ path: join(here, "shims/bls.js") }));
    // bls-eth-wasm's browser entry (window.crypto for randomness) instead of its Node one.
    build.onResolve({ filter: /^bls-eth-wasm$/ }, () => ({
      path: join(here, "node_modules/bls-eth-wasm/browser/src/index-browser.js"),
    }));
    // @lodestar/api falls back to the Node "eventsource" package only without a global EventSource.
    build.onResolve({ filter: /^eventsource$/ }, () => ({ path: join(here, "shims/eventsource.js") }));
    // Node built-ins referenced only on Node code paths.
    build.onResolve({ filter: /^(node:)?(fs|path|crypto)$/ }, () => ({ path: join(here, "shims/empty.cjs") }));
  },
};

mkdirSync(out, { recursive: true });
for (const preset of presets) {
  if (!["minimal", "mainnet"].includes(preset)) {
    console.error(`unknown preset ${preset} (minimal or mainnet)`);
    process.exit(2);
  }
  const outfile = join(out, `lodestar-${preset}.js`);
  const result = await esbuild.build({
    entryPoints: [join(here, "entry.js")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "eof",
    metafile: true,
    logLevel: "warning",
    define: {
      "process.env.LODESTAR_PRESET": JSON.stringify(preset),
      global: "globalThis",
    },
    inject: [join(here, "shims/buffer.js")],
    plugins: [browserResolutions],
  });
  const inputs = Object.keys(result.metafile.inputs);
  const native = inputs.filter((p) => /blst|\.node$/.test(p));
  if (native.length) {
    console.error(`native code in the browser bundle: ${native.join(", ")}`);
    process.exit(1);
  }
  console.log(`${outfile}: ${statSync(outfile).size} bytes, ${inputs.length} modules, preset ${preset}`);
}
