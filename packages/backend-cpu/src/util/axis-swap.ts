import { Tensor, allocArray, stridesOf } from "@attn/core";
import { gather } from "./strided.js";

/**
 * Swaps of two adjacent axes, the transposes the cpu backend can fold into the kernel that reads or writes
 * the transposed value: the last two axes of a matmul operand ("matrix"), and axes −3 and −2 of an attention
 * operand, [..., H, T, D] ↔ [..., T, H, D] ("heads").
 */
export type AxisSwap = "matrix" | "heads";

/** The first of the two swapped axes, counted from the end (2: axes −2 and −1; 3: axes −3 and −2). */
function fromEnd(swap: AxisSwap): number {
  return swap === "matrix" ? 2 : 3;
}

/** Whether `perm` (entries possibly negative) is exactly `swap` on a tensor of its length. */
export function isAxisSwap(perm: readonly number[], swap: AxisSwap): boolean {
  const r = perm.length;
  const a = r - fromEnd(swap);
  if (a < 0) return false;
  return perm.every((p, i) => {
    const q = p < 0 ? p + r : p;
    return i === a ? q === a + 1 : i === a + 1 ? q === a : q === i;
  });
}

/** `shape` with the two axes of `swap` exchanged (the swap is its own inverse). */
export function swapShape(shape: readonly number[], swap: AxisSwap): number[] {
  const out = [...shape];
  const a = shape.length - fromEnd(swap);
  [out[a], out[a + 1]] = [shape[a + 1], shape[a]];
  return out;
}

/** A contiguous copy of `t` with the two axes of `swap` exchanged (what the folded transpose computed). */
export function swapAxes(t: Tensor, swap: AxisSwap): Tensor {
  const shape = swapShape(t.shape, swap);
  const st = stridesOf(t.shape);
  const a = t.rank - fromEnd(swap);
  [st[a], st[a + 1]] = [st[a + 1], st[a]];
  const out = allocArray(t.dtype, t.size);
  gather(t.data, 0, st, shape, out);
  return new Tensor(t.dtype, shape, out);
}
