// Imported first by entry.js, so it runs before @lodestar/params evaluates its index and freezes
// the preset. @lodestar/params reads `process.env.LODESTAR_PRESET` only when a global `process`
// exists, which a browser does not have, so an esbuild --define alone would not take effect; here
// the define is turned into an explicit setActivePreset(). build.mjs replaces the expression below
// with "minimal" or "mainnet"; the bundle exports ACTIVE_PRESET so the page can check it.
import { setActivePreset } from "@lodestar/params/setPreset";

setActivePreset(process.env.LODESTAR_PRESET);
