// Stands in for Node built-ins in the browser bundle of Lodestar's light client: the code that
// imports them (native BLS, the Node EventSource, file diffs) is not what a browser runs.
module.exports = {};
