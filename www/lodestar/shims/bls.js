// @chainsafe/bls picks its implementation with a top-level `await import()` that includes the
// native blst binding. The browser has only the herumi (bls-eth-wasm) one: use it directly.
import { bls } from "@chainsafe/bls/herumi";

export default bls;
