// The `?replay` clock. A replayed capture (tests/peer) serves old, validly signed data; Lodestar's
// light client checks every update against its wall clock (`slot = floor((now - genesisTime) /
// SECONDS_PER_SLOT)`, signature slot not in the future, sync committee of the current period), so
// it only follows a replay whose newest signature slot is "now". In replay mode the page therefore
// replaces the network's genesisTime by one that makes the newest signature slot seen the current
// slot, and moves it earlier again whenever a newer update arrives (the replay publishes one step
// per slot but skips slots where the capture had no update, so it runs a little faster than the
// clock). It never moves genesis later: the clock never runs backwards. Every shift is recorded
// and shown on the page.

/** Slot of `genesisTime` (seconds) at `nowMs`, as Lodestar computes it. */
export function slotAt(nowMs, genesisTime, secondsPerSlot) {
  return Math.floor((nowMs / 1000 - genesisTime) / secondsPerSlot);
}

/** The genesisTime (whole seconds) at which `signatureSlot` is the current slot at `nowMs`. */
export function genesisForSlot(nowMs, signatureSlot, secondsPerSlot) {
  return Math.floor(nowMs / 1000) - signatureSlot * secondsPerSlot;
}

export class ReplayClock {
  /**
   * @param networkGenesisTime the network's real genesis time (kept for display)
   * @param secondsPerSlot SECONDS_PER_SLOT of the network
   * @param newestSignatureSlot the newest signature slot known when the page starts
   */
  constructor(networkGenesisTime, secondsPerSlot, newestSignatureSlot, nowMs = Date.now()) {
    this.networkGenesisTime = networkGenesisTime;
    this.secondsPerSlot = secondsPerSlot;
    this.genesisTime = genesisForSlot(nowMs, newestSignatureSlot, secondsPerSlot);
    this.initialGenesisTime = this.genesisTime;
    this.newestSignatureSlot = newestSignatureSlot;
    this.shifts = 0;
    this.listeners = [];
  }

  /** The slot this clock says it is now. */
  currentSlot(nowMs = Date.now()) {
    return slotAt(nowMs, this.genesisTime, this.secondsPerSlot);
  }

  /**
   * Records an update's signature slot; if it is ahead of the clock, moves genesis earlier so that
   * it is the current slot. Returns true when the clock moved.
   */
  observe(signatureSlot, nowMs = Date.now()) {
    if (!Number.isFinite(signatureSlot)) return false;
    this.newestSignatureSlot = Math.max(this.newestSignatureSlot, signatureSlot);
    const current = this.currentSlot(nowMs);
    if (signatureSlot <= current) return false;
    this.genesisTime -= (signatureSlot - current) * this.secondsPerSlot;
    this.shifts += 1;
    for (const listener of this.listeners) listener(this);
    return true;
  }

  onShift(listener) {
    this.listeners.push(listener);
  }

  /** Seconds between the network's real genesis and the one this clock uses. */
  offsetSeconds() {
    return this.networkGenesisTime - this.genesisTime;
  }
}
