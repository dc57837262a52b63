// The sliding-window rule of the delivery API's rate limit (lib/api-keys/rate-limit.ts).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { slidingWindow } from "./rate-limit";

describe("slidingWindow", () => {
  it("counts only this minute when the last one was quiet", () => {
    expect(slidingWindow({ previous: 0, current: 10, secondsIntoWindow: 5, limit: 10 })).toMatchObject({ allowed: true, remaining: 0 });
    expect(slidingWindow({ previous: 0, current: 11, secondsIntoWindow: 5, limit: 10 }).allowed).toBe(false);
  });

  it("refuses a burst right after a full minute (fixed windows would allow twice the limit)", () => {
    // Half a second in, 595 of the last minute's 600 still count: room for 5 more, not 600.
    expect(slidingWindow({ previous: 600, current: 5, secondsIntoWindow: 0.5, limit: 600 }).allowed).toBe(true);
    expect(slidingWindow({ previous: 600, current: 6, secondsIntoWindow: 0.5, limit: 600 }).allowed).toBe(false);
    // Half-way through, half of the last minute still counts.
    expect(slidingWindow({ previous: 600, current: 300, secondsIntoWindow: 30, limit: 600 }).allowed).toBe(true);
    expect(slidingWindow({ previous: 600, current: 301, secondsIntoWindow: 30, limit: 600 }).allowed).toBe(false);
  });

  it("retry-after is when the request would be allowed if no more came", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 3000 }), fc.double({ min: 0, max: 59.99, noNaN: true }), (limit, previous, current, s) => {
        const d = slidingWindow({ previous, current, secondsIntoWindow: s, limit });
        if (d.allowed) return d.retryAfterSeconds === 1 && d.remaining <= limit;
        const t = d.retryAfterSeconds;
        if (t >= 120) return true; // capped
        // A retry `t` seconds later (nothing else in between; the retry counts itself) is allowed.
        const later = s + t;
        const again =
          later < 60
            ? slidingWindow({ previous, current: current + 1, secondsIntoWindow: later, limit })
            : slidingWindow({ previous: later < 120 ? current : 0, current: 1, secondsIntoWindow: later - 60, limit });
        return again.allowed;
      }),
    );
  });
});
