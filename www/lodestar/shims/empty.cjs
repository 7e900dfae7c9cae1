// Stand-in for Node built-ins (fs, path, crypto) that bundled packages reference only on their
// Node code paths (bls-eth-wasm's emscripten loader, @lodestar/utils' diff helpers).
module.exports = {};
