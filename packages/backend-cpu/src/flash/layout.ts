/**
 * How the heads of a flash-attention operand lie in its array.
 *
 * Attention reads q [..., H, T, D] one head at a time, but multi-head attention computes its operands as
 * [..., T, H, D] (the projection's rows split into heads) and transposes them; the cpu backend can skip that
 * copy and hand the untransposed array to the flash kernel, which then reads each head's rows with a stride.
 * Heads come in groups of `perGroup` (the H heads of one batch element); group g of an operand with rows of
 * W floats is the contiguous range [g·size, (g + 1)·size), size = perGroup·T·W, in either layout.
 */
export interface FlashLayout {
  /** Heads per group (H); 1 treats every head as its own group (the dense layout). */
  readonly perGroup: number;
  /**
   * Which operands are stored interleaved ([..., T, H, W]: row t of head j at t·H·W + j·W in its group)
   * rather than dense ([..., H, T, W]: at j·T·W + t·W). `out` is the forward output, `dOut` the backward's
   * incoming gradient; absent entries are dense.
   */
  readonly interleaved: Readonly<Partial<Record<FlashOperand, boolean>>>;
}

/** The operands of the forward (q, k, v, out) and backward (q, k, v, dOut, dq, dk, dv) calls. */
export type FlashOperand = "q" | "k" | "v" | "out" | "dOut" | "dq" | "dk" | "dv";

/** One operand's strides (floats) within its group. */
export interface HeadStrides {
  /** Floats of one group (perGroup·T·W). */
  readonly group: number;
  /** Offset of head j within the group: j·head. */
  readonly head: number;
  /** Distance between consecutive rows of a head. */
  readonly row: number;
}

/** Every head its own group, every operand dense: the layout of a call that names none. */
export const DENSE_LAYOUT: FlashLayout = { perGroup: 1, interleaved: {} };

/** The strides of `operand` (rows of `width` floats, `rows` per head) under `layout`. */
export function headStrides(layout: FlashLayout, operand: FlashOperand, rows: number, width: number): HeadStrides {
  const g = layout.perGroup;
  return layout.interleaved[operand]
    ? { group: g * rows * width, head: width, row: g * width }
    : { group: g * rows * width, head: rows * width, row: width };
}
