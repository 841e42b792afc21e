import type { Tensor } from "../tensor.js";
import { Rng } from "../init/rng.js";

/**
 * A dataset the Trainer draws batches from: its size, and the feeds (model inputs and the loss target)
 * for a set of example indices. Real corpora implement it over their own storage.
 */
export interface Dataset {
  readonly size: number;
  batch(indices: readonly number[]): Record<string, Tensor>;
}

/**
 * The order of examples in `epoch`: a Fisher–Yates shuffle from a generator seeded by (seed, epoch), so
 * a resumed run sees exactly the batches an uninterrupted one would.
 */
export function epochOrder(size: number, seed: number, epoch: number, shuffle = true): number[] {
  const order = Array.from({ length: size }, (_, i) => i);
  if (!shuffle) return order;
  return new Rng((Math.imul(seed ^ 0x5bd1e995, 31) + Math.imul(epoch + 1, 0x27d4eb2d)) >>> 0).shuffle(order);
}

/** Batches of `batchSize` indices (the last one may be smaller). */
export function batchesOf(order: readonly number[], batchSize: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}
