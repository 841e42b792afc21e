import { BackendError, Tensor } from "@attn/core";
import { inferOutputs, inputName, type Kernel, type KernelContext } from "../../kernel.js";
import { formatIndex } from "../../util/strided.js";

/**
 * `cross_entropy` and `cross_entropy_grad` (PyTorch 1.13 `F.cross_entropy` with class-index targets), class
 * dim last. Per row r with target y ≠ ignore_index, in double precision:
 *
 *   logp_c = x_c − logsumexp(x),  loss_r = (1 − ε)·(−logp_y) + (ε / C)·Σ_c (−logp_c)
 *
 * Ignored rows give 0 and are not counted; `mean` divides the sum by the number of counted rows (0/0 = NaN
 * when every target is ignored, as PyTorch; the gradient is then zero). The gradient of a counted row is
 * w·(softmax_c − (1 − ε)·[c = y] − ε/C) with w = dy / count (mean), dy (sum) or dy_r (none).
 */

interface CeAttrs {
  readonly ignore_index: number;
  readonly label_smoothing: number;
  readonly reduction: "mean" | "sum" | "none";
}

/** Validates the targets; returns the number of counted (non-ignored) rows. */
function countTargets(ctx: KernelContext, target: Tensor, C: number, ignore: number): number {
  const t = target.data as Int32Array;
  let count = 0;
  for (let r = 0; r < t.length; r++) {
    const y = t[r];
    if (y === ignore) continue;
    if (y < 0 || y >= C) {
      throw new BackendError(
        `${ctx.op}: target ${y} at position ${formatIndex(r, target.shape)} of "${inputName(ctx, 1, "target")}" is out of range [0, ${C}) ` +
          `(and is not ignore_index ${ignore})`,
      );
    }
    count++;
  }
  return count;
}

/** Max and log-sum-exp of row `x[off .. off + C)`. */
function logSumExp(x: Float32Array, off: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) if (x[off + c] > m) m = x[off + c];
  if (m === -Infinity || m !== m) {
    // all -inf (or a NaN): fall back to the plain formula, which yields -inf / NaN as PyTorch does
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[off + c]);
    return Math.log(s);
  }
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(x[off + c] - m);
  return m + Math.log(s);
}

export const crossEntropyKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<CeAttrs>(ctx, inputs, attrs);
  const [logits, target] = inputs as [Tensor, Tensor];
  const x = logits.data as Float32Array;
  const t = target.data as Int32Array;
  const C = logits.shape[logits.rank - 1];
  const eps = a.label_smoothing;
  const count = countTargets(ctx, target, C, a.ignore_index);
  const none = a.reduction === "none";
  const out = new Float32Array(none ? t.length : 1);
  let total = 0;
  for (let r = 0; r < t.length; r++) {
    const y = t[r];
    if (y === a.ignore_index) continue;
    const off = r * C;
    const lse = logSumExp(x, off, C);
    let loss = (1 - eps) * (lse - x[off + y]);
    if (eps !== 0) {
      let smooth = 0;
      for (let c = 0; c < C; c++) smooth += lse - x[off + c];
      loss += (eps / C) * smooth;
    }
    if (none) out[r] = loss;
    else total += loss;
  }
  if (!none) out[0] = a.reduction === "mean" ? total / count : total;
  return [new Tensor("float32", outputs[0].shape, out)];
};

export const crossEntropyGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<CeAttrs>(ctx, inputs, attrs);
  const [logits, target, dy] = inputs as [Tensor, Tensor, Tensor];
  const x = logits.data as Float32Array;
  const t = target.data as Int32Array;
  const d = dy.data as Float32Array;
  const C = logits.shape[logits.rank - 1];
  const eps = a.label_smoothing;
  const count = countTargets(ctx, target, C, a.ignore_index);
  const out = new Float32Array(x.length);
  for (let r = 0; r < t.length; r++) {
    const y = t[r];
    if (y === a.ignore_index) continue; // ignored rows (and, for mean, count 0) get no gradient
    const w = a.reduction === "none" ? d[r] : a.reduction === "mean" ? d[0] / count : d[0];
    const off = r * C;
    const lse = logSumExp(x, off, C);
    for (let c = 0; c < C; c++) {
      const p = Math.exp(x[off + c] - lse);
      out[off + c] = w * (p - eps / C - (c === y ? 1 - eps : 0));
    }
  }
  return [new Tensor("float32", outputs[0].shape, out)];
};
