import { sizeOf, stridesOf, type Tensor } from "@attn/core";
import { broadcastStrides } from "../util/strided.js";

/**
 * How a bool mask (true = masked out) lines up with scores [B, ..., Tq, Tk]: per flattened batch index
 * the offset of its [Tq, Tk] block, and the strides of the query and key dims (0 where broadcast).
 */
export interface MaskLayout {
  readonly data: Uint8Array;
  readonly batch: Float64Array;
  readonly sq: number;
  readonly sk: number;
}

/**
 * A key-padding mask bool[B, Tk] (for scores of rank > 2) broadcasts over every dim between B and Tq;
 * otherwise the mask has the scores' rank and broadcasts NumPy-style. (For rank-2 scores both readings
 * coincide.)
 */
export function maskLayout(mask: Tensor | null, scores: readonly number[]): MaskLayout | null {
  if (!mask) return null;
  const r = scores.length;
  let strides: number[];
  if (mask.rank === 2 && r > 2) {
    const [mb, mk] = mask.shape;
    strides = scores.map((_, i) => (i === 0 ? (mb === 1 ? 0 : mk) : i === r - 1 ? (mk === 1 ? 0 : 1) : 0));
  } else {
    strides = broadcastStrides(mask.shape, scores);
  }
  const batchShape = scores.slice(0, r - 2);
  const nb = sizeOf(batchShape);
  const batch = new Float64Array(nb);
  const bst = stridesOf(batchShape);
  for (let t = 0; t < nb; t++) {
    let off = 0;
    for (let d = 0; d < batchShape.length; d++) off += (Math.floor(t / bst[d]) % batchShape[d]) * strides[d];
    batch[t] = off;
  }
  return { data: mask.data as Uint8Array, batch, sq: strides[r - 2], sk: strides[r - 1] };
}

/**
 * The keys query i may see under `causal` / `window`, as a half-open range [lo, hi): causal hides j > i;
 * window w hides |i − j| > w; both together keep i − w ≤ j ≤ i.
 */
export function keyRange(i: number, Tk: number, causal: boolean, window: number | null): [number, number] {
  let lo = 0;
  let hi = Tk;
  if (causal) hi = Math.min(hi, i + 1);
  if (window !== null) {
    lo = Math.max(lo, i - window);
    if (!causal) hi = Math.min(hi, i + window + 1);
  }
  return lo < hi ? [lo, hi] : [0, 0];
}
