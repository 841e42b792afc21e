/** Summary statistics of a set of timings (milliseconds). */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The median of `xs` (mean of the two middle values for an even count). Throws on an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of an empty list");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** n, median, min and max of `xs`. Throws on an empty list. */
export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) throw new RangeError("summary of an empty list");
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (!Number.isFinite(x)) throw new RangeError(`timing ${x} is not finite`);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { n: xs.length, median: median(xs), min, max };
}

/**
 * How many times faster `ours` is than `peer`, from median times (ms per call): peer / ours. A ratio
 * above 1 means ours is faster. `undefined` when either side is missing.
 */
export function speedRatio(oursMs: number | undefined, peerMs: number | undefined): number | undefined {
  if (oursMs === undefined || peerMs === undefined || !(oursMs > 0) || !(peerMs > 0)) return undefined;
  return peerMs / oursMs;
}
