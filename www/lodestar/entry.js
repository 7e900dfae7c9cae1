// What the demo page (www/app.js) needs from Lodestar, as one browser ES module.
import "./shims/preset.js";

import { chainConfigFromJson, createChainForkConfig } from "@lodestar/config";
import yaml from "js-yaml";

export { Lightclient, LightclientEvent, RunStatusCode } from "@lodestar/light-client";
export { ssz } from "@lodestar/types";
export { ACTIVE_PRESET } from "@lodestar/params";
export { chainConfigFromJson, createBeaconConfig, createChainForkConfig } from "@lodestar/config";
// The sync protocol on its own (no transport, no clock), for bench/parts/verify.sh's page.
export { LightclientSpec } from "@lodestar/light-client/spec";

/**
 * A ChainForkConfig from a network's config.yaml text (as the bridge's GET /network returns it).
 * Every scalar is read as a string (YAML failsafe schema), which is what chainConfigFromJson
 * expects: numbers too large for a double (TERMINAL_TOTAL_DIFFICULTY, FAR_FUTURE epochs) stay
 * exact. Keys this Lodestar version does not know (e.g. BLOB_SCHEDULE) are ignored.
 */
export function chainConfigFromYaml(text) {
  const parsed = yaml.load(text, { schema: yaml.FAILSAFE_SCHEMA });
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error("config.yaml is not a mapping");
  }
  return createChainForkConfig(chainConfigFromJson(parsed));
}
