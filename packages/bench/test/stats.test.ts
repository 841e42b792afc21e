import { describe, expect, it } from "vitest";
import { median, speedRatio, summarize } from "../src/stats.js";

describe("statistics", () => {
  it("takes the median of odd and even counts without reordering the input", () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it("summarizes n, median, min and max", () => {
    expect(summarize([10, 30, 20, 50, 40])).toEqual({ n: 5, median: 30, min: 10, max: 50 });
  });

  it("rejects empty lists and non-finite timings", () => {
    expect(() => median([])).toThrow(/empty/);
    expect(() => summarize([])).toThrow(/empty/);
    expect(() => summarize([1, Number.NaN])).toThrow(/not finite/);
  });

  it("gives ratios as how many times faster ours is (peer ÷ ours)", () => {
    expect(speedRatio(10, 25)).toBe(2.5);
    expect(speedRatio(40, 10)).toBe(0.25);
    expect(speedRatio(undefined, 10)).toBeUndefined();
    expect(speedRatio(10, undefined)).toBeUndefined();
    expect(speedRatio(0, 10)).toBeUndefined();
  });
});
