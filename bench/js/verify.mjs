// Chromium side of bench/parts/verify.sh: one fresh page per implementation, each replaying the
// same capture (bench/js/verify-page/page.js), one JSON line per implementation on stdout.
//
//   node bench/js/verify.mjs --data DIR --checkpoint 0xROOT --order FILE --rounds N \
//        --preset minimal|mainnet --impl DIR_OF_WASM_BUILD ... [--impl lodestar]
//
// --order: what `bench-verify order` printed. A wasm build directory holds wasm-pack's
// `--target web` output (beacon_p2p_bench_verify.js); it is served at /<basename>/.
import { readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { capturePage, launchChromium, ROOT, serveStatic } from "../../tests/browser/lib.mjs";

const { values: args } = parseArgs({
  options: {
    data: { type: "string" },
    checkpoint: { type: "string" },
    order: { type: "string" },
    rounds: { type: "string", default: "5" },
    preset: { type: "string" },
    impl: { type: "string", multiple: true, default: [] },
  },
});
for (const name of ["data", "checkpoint", "order", "preset"]) {
  if (!args[name]) {
    console.error(`verify.mjs: --${name} is required`);
    process.exit(2);
  }
}
const data = resolve(args.data);
const meta = JSON.parse(readFileSync(join(data, "meta.json"), "utf8"));
const configYaml = readFileSync(join(data, "config.yaml"), "utf8");
// Lodestar 1.28 reads SECONDS_PER_SLOT; newer configs give SLOT_DURATION_MS only (as
// tests/peer/lodestar-sync.mjs does, the one is derived from the other).
const slotMs = /^SLOT_DURATION_MS:\s*(\d+)/m.exec(configYaml);
const lodestarConfigYaml =
  /^SECONDS_PER_SLOT:/m.test(configYaml) || !slotMs ? configYaml : `${configYaml}\nSECONDS_PER_SLOT: ${Number(slotMs[1]) / 1000}\n`;

const mounts = {
  "/": join(ROOT, "bench/js/verify-page"),
  "/vendor/": join(ROOT, "www/vendor"),
  "/__data/": data,
};
for (const impl of args.impl) if (impl !== "lodestar") mounts[`/${basename(impl)}/`] = resolve(impl);
const server = await serveStatic(mounts);
let browser;
try {
  browser = await launchChromium();
  for (const impl of args.impl) {
    const page = await browser.newPage();
    capturePage(page, `[verify ${basename(impl)}]`);
    await page.goto(`${server.origin}/index.html`);
    await page.waitForFunction(() => window.verifyBenchReady === true, { timeout: 30_000 });
    const result = await page.evaluate((a) => window.runVerifyBench(a), {
      impl: impl === "lodestar" ? "lodestar" : basename(impl),
      order: JSON.parse(readFileSync(args.order, "utf8")),
      rounds: Number(args.rounds),
      preset: args.preset,
      configYaml,
      lodestarConfigYaml,
      gvr: meta.genesis_validators_root ?? meta.genesis?.genesis_validators_root,
      checkpoint: args.checkpoint,
    });
    console.log(JSON.stringify(result));
    await page.close();
  }
} finally {
  await browser?.close();
  await server.close();
}
