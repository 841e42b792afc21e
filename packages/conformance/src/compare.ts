import type { Tensor } from "@attn/core";
import { formatShape } from "@attn/core";

/** |got − want| ≤ atol + rtol·|want| (DESIGN.md default for float32: atol 1e-5, rtol 1e-4). */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-4 };

/**
 * Compares two tensors. Returns undefined when they agree, else a message naming the first failing
 * element (flat index and multi-index), both values, the largest error and how many elements failed.
 * Non-finite values must match exactly (same infinity, NaN where NaN).
 */
export function compareTensors(got: Tensor, want: Tensor, tol: Tolerance = DEFAULT_TOLERANCE): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, expected ${want.dtype}`;
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
    return `shape ${formatShape(got.shape)}, expected ${formatShape(want.shape)}`;
  }
  let bad = 0;
  let first = -1;
  let maxErr = 0;
  for (let i = 0; i < want.size; i++) {
    const g = got.data[i];
    const w = want.data[i];
    let ok: boolean;
    if (!Number.isFinite(w) || !Number.isFinite(g)) ok = Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w));
    else {
      const err = Math.abs(g - w);
      maxErr = Math.max(maxErr, err);
      ok = err <= tol.atol + tol.rtol * Math.abs(w);
    }
    if (!ok) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad === 0) return undefined;
  const idx: number[] = [];
  let rest = first;
  for (let d = want.shape.length - 1; d >= 0; d--) {
    idx.unshift(rest % want.shape[d]);
    rest = Math.floor(rest / want.shape[d]);
  }
  return `${bad} of ${want.size} elements differ (atol ${tol.atol}, rtol ${tol.rtol}); first at [${idx.join(", ")}]: got ${got.data[first]}, expected ${want.data[first]}; max abs error ${maxErr.toExponential(3)}`;
}
