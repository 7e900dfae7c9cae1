// `Buffer` for the code that calls it unconditionally (@chainsafe/ssz's merkleize, @lodestar/utils).
export { Buffer } from "buffer";
