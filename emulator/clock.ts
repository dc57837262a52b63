// The emulator's one clock: real time plus an offset that tests move forward. Every `created`
// timestamp and every scheduled thing reads it. (Webhook signatures use real wall-clock time,
// because receivers check them against their own clock.)
export class Clock {
  constructor(public offsetSeconds = 0) {}
  /** Unix seconds. */
  now(): number {
    return Math.floor(this.nowMs() / 1000);
  }
  /** Milliseconds on the emulator's clock (for scheduling). */
  nowMs(): number {
    return Date.now() + this.offsetSeconds * 1000;
  }
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError("seconds must be > 0");
    this.offsetSeconds += Math.floor(seconds);
  }
}
