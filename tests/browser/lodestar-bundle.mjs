// Checks the Lodestar bundles (www/vendor/lodestar-<preset>.js, built by scripts/www.sh) in
// headless Chromium, without the wasm client: both load and run their preset, parse a config.yaml,
// and the minimal one, driven through the demo page's own www/lc.js and www/replay.js by a transport
// replaying the devnet capture's files, verifies the bootstrap and follows the head.
//   node tests/browser/lodestar-bundle.mjs        (env STEPS=60 STEP_MS=150)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { capturePage, launchChromium, ROOT, serveStatic } from "./lib.mjs";

const CAPTURE = join(ROOT, "tests/data/devnet-capture");
const steps = Number(process.env.STEPS ?? 60);
const stepMs = Number(process.env.STEP_MS ?? 150);

function fail(message) {
  console.error(`lodestar-bundle: FAIL: ${message}`);
  process.exitCode = 1;
}

for (const preset of ["minimal", "mainnet"]) {
  if (!existsSync(join(ROOT, `www/vendor/lodestar-${preset}.js`))) {
    console.error(`lodestar-bundle: www/vendor/lodestar-${preset}.js is missing: run scripts/www.sh`);
    process.exit(1);
  }
}

const bootstraps = {};
for (const file of readdirSync(join(CAPTURE, "bootstrap"))) {
  const match = /^\d+_(0x[0-9a-f]{64})\.json$/.exec(file);
  if (match) bootstraps[match[1]] = file;
}
const meta = JSON.parse(readFileSync(join(CAPTURE, "meta.json"), "utf8"));
const configYaml = readFileSync(join(CAPTURE, "config.yaml"), "utf8");
const capture = {
  bootstraps,
  arrivals: JSON.parse(readFileSync(join(CAPTURE, "arrivals.json"), "utf8")),
  mainnetConfigYaml: readFileSync(join(ROOT, "src/chain/networks/mainnet/config.yaml"), "utf8"),
  devnet: {
    name: "devnet-capture",
    preset: "minimal",
    configYaml,
    genesisValidatorsRoot: meta.genesis.genesis_validators_root,
    genesisTime: Number(meta.genesis.genesis_time),
    secondsPerSlot: Number(/^SECONDS_PER_SLOT:\s*(\d+)/m.exec(configYaml)[1]),
  },
};

const server = await serveStatic({
  "/": join(ROOT, "www"),
  "/__test/": join(ROOT, "tests/browser/pages"),
  "/__capture/": CAPTURE,
});
let browser;
try {
  browser = await launchChromium();
  const page = await browser.newPage();
  capturePage(page, "[bundle page]");
  const started = Date.now();
  await page.goto(`${server.origin}/__test/lodestar-bundle.html`);
  await page.waitForFunction(() => window.bundleCheckReady === true, { timeout: 30_000 });
  const report = await page.evaluate((args) => window.runBundleCheck(args), { capture, stepMs, steps });
  const { events } = report;
  console.log(JSON.stringify({ ...report, events: undefined }, null, 1));
  console.log(`status changes: ${events.status.join(" → ")}`);
  console.log(`verified heads: ${events.head.join(", ")}`);
  console.log(`verified finalized: ${events.finalized.join(", ")}`);
  console.log(`rejected updates (${events.rejected.length}): ${events.rejected.slice(0, 5).join(" | ")}`);
  console.log(`Lodestar errors (${events.errors.length}): ${events.errors.slice(0, 5).join(" | ")}`);

  if (report.presets.minimal.active !== "minimal") fail(`minimal bundle runs ${report.presets.minimal.active}`);
  if (report.presets.mainnet.active !== "mainnet") fail(`mainnet bundle runs ${report.presets.mainnet.active}`);
  if (report.presets.minimal.syncCommitteeSize !== 32) fail("minimal bundle: sync committee is not 32");
  if (report.presets.mainnet.syncCommitteeSize !== 512) fail("mainnet bundle: sync committee is not 512");
  if (report.presets.minimal.SECONDS_PER_SLOT !== capture.devnet.secondsPerSlot) fail("devnet config.yaml not parsed");
  if (report.presets.mainnet.SECONDS_PER_SLOT !== 12) fail("mainnet config.yaml not parsed");
  if (report.presets.mainnet.TERMINAL_TOTAL_DIFFICULTY !== "58750000000000000000000") fail("TTD lost precision");
  if (!report.mainnetBundleRefusesMinimalConfig) fail("the mainnet bundle accepted a minimal config");
  if (!events.status.includes("started")) fail("Lodestar never reached 'started'");
  const heads = events.head.filter((slot, i, all) => i === 0 || slot > all[i - 1]);
  if (heads.length < 3) fail(`Lodestar's verified head advanced ${heads.length - 1} times (want ≥ 2)`);
  if (!(report.finalizedSlot > report.checkpoint.slot)) fail(`verified finalized slot ${report.finalizedSlot} did not pass the checkpoint ${report.checkpoint.slot}`);
  console.log(`lodestar-bundle: ${process.exitCode ? "FAILED" : "ok"} in ${Date.now() - started} ms ` +
    `(checkpoint slot ${report.checkpoint.slot}, verified head ${report.headSlot}, finalized ${report.finalizedSlot}, ${report.clockShifts} replay clock shifts)`);
} catch (error) {
  fail(error.stack ?? String(error));
} finally {
  await browser?.close();
  await server.close();
}
