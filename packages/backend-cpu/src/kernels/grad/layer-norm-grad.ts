import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";
import { rowStats } from "../layer-norm.js";

/**
 * layer_norm_grad: per row of D, with x̂ = (x − mean)·rstd and g = dy ⊙ weight (dy without weight),
 *   dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dweight = Σ_rows dy ⊙ x̂,  dbias = Σ_rows dy.
 * The moments are recomputed in double exactly as the forward kernel does; sums accumulate in double.
 */
export const layerNormGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ eps: number }>(ctx, inputs, attrs);
  const [x, w, dy] = inputs;
  const xd = x!.data as Float32Array;
  const wd = w ? (w.data as Float32Array) : null;
  const gd = dy!.data as Float32Array;
  const D = x!.shape[x!.rank - 1];
  const rows = D === 0 ? 0 : xd.length / D;
  const dx = new Float32Array(xd.length);
  const dw = new Float64Array(D);
  const db = new Float64Array(D);
  const xhat = new Float64Array(D);
  const g = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const { mean, rstd } = rowStats(xd, base, D, a.eps);
    let mg = 0;
    let mgx = 0;
    for (let j = 0; j < D; j++) {
      const h = (xd[base + j] - mean) * rstd;
      const up = gd[base + j];
      xhat[j] = h;
      g[j] = wd ? up * wd[j] : up;
      mg += g[j];
      mgx += g[j] * h;
      dw[j] += up * h;
      db[j] += up;
    }
    mg /= D;
    mgx /= D;
    for (let j = 0; j < D; j++) dx[base + j] = rstd * (g[j] - mg - xhat[j] * mgx);
  }
  return [
    new Tensor("float32", outputs[0].shape, dx),
    new Tensor("float32", outputs[1].shape, Float32Array.from(dw)),
    new Tensor("float32", outputs[2].shape, Float32Array.from(db)),
  ];
};
