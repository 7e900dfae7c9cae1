// @lodestar/api imports the Node "eventsource" package only when there is no global EventSource;
// browsers have one.
export default globalThis.EventSource;
