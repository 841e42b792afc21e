import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

/** Mean and 1/√(biased variance + eps) of x[base, base + D), in double (shared with layer_norm_grad). */
export function rowStats(xd: Float32Array, base: number, D: number, eps: number): { mean: number; rstd: number } {
  let mean = 0;
  for (let j = 0; j < D; j++) mean += xd[base + j];
  mean /= D;
  let v = 0;
  for (let j = 0; j < D; j++) {
    const d = xd[base + j] - mean;
    v += d * d;
  }
  return { mean, rstd: 1 / Math.sqrt(v / D + eps) };
}

/**
 * LayerNorm over the last dim (PyTorch): y = (x − mean)/√(var + eps)·weight + bias with the biased
 * variance, both moments computed in double with two passes.
 */
export const layerNormKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ eps: number }>(ctx, inputs, attrs);
  const [x, w, b] = inputs;
  const xd = x!.data as Float32Array;
  const wd = w ? (w.data as Float32Array) : null;
  const bd = b ? (b.data as Float32Array) : null;
  const D = x!.shape[x!.rank - 1];
  const rows = D === 0 ? 0 : xd.length / D;
  const out = new Float32Array(xd.length);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const { mean, rstd } = rowStats(xd, base, D, a.eps);
    for (let j = 0; j < D; j++) {
      let y = (xd[base + j] - mean) * rstd;
      if (wd) y *= wd[j];
      if (bd) y += bd[j];
      out[base + j] = y;
    }
  }
  return [new Tensor("float32", outputs[0].shape, out)];
};
