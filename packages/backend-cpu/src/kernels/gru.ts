import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { wasmGruGatesFor } from "../elementwise/gru-gates.js";
import { gruForwardGemm, project, stepGates } from "./gru-gemm.js";
import { affineRows } from "./linear.js";
import { sigmoid } from "./unary.js";

/** One direction's weights (PyTorch layout, gates stacked r, z, n). */
export interface GruWeights {
  readonly wih: Float32Array;
  readonly whh: Float32Array;
  readonly bih: Float32Array | null;
  readonly bhh: Float32Array | null;
}

/** The four weight slots of one direction, as typed arrays (biases may be absent). */
export function weightsOf(ts: readonly (Tensor | null)[]): GruWeights {
  const [wih, whh, bih, bhh] = ts;
  return {
    wih: wih!.data as Float32Array,
    whh: whh!.data as Float32Array,
    bih: bih ? (bih.data as Float32Array) : null,
    bhh: bhh ? (bhh.data as Float32Array) : null,
  };
}

/**
 * One GRU step for one batch row, exactly as PyTorch:
 *   gi = W_ih x + b_ih, gh = W_hh h + b_hh (each [3H], gates r, z, n),
 *   r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), h' = (1 − z) ⊙ n + z ⊙ h.
 * Projections accumulate in double; h' is rounded to float32 (it is the stored state). `gi`/`gh` are
 * scratch of length 3H. `hOut` may alias `h` (gh is computed before h is overwritten).
 */
export function gruStep(
  x: Float32Array, xOff: number, I: number, h: Float32Array, hOff: number, H: number, w: GruWeights,
  gi: Float64Array, gh: Float64Array, hOut: Float32Array, outOff: number,
): void {
  affineRows(x, xOff, 1, I, w.wih, w.bih, 3 * H, gi, 0);
  affineRows(h, hOff, 1, H, w.whh, w.bhh, 3 * H, gh, 0);
  for (let j = 0; j < H; j++) {
    const r = sigmoid(gi[j] + gh[j]);
    const z = sigmoid(gi[H + j] + gh[H + j]);
    const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
    hOut[outOff + j] = (1 - z) * n + z * h[hOff + j];
  }
}

/** gru_cell: h' [B, H] from x [B, I] and h [B, H] (PyTorch GRUCell). */
export const gruCellKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const [x, h] = inputs as [Tensor, Tensor];
  const [B, H] = h.shape;
  const I = x.shape[1];
  const w = weightsOf(inputs.slice(2, 6));
  const out = new Float32Array(B * H);
  if (ctx.gemm.path !== "js") {
    // Two GEMMs over the batch, then the fused gate loop.
    const hd = h.data as Float32Array;
    const giAll = project(ctx.gemm, x.data as Float32Array, 0, B, I, w.wih, w.bih, 3 * H);
    const ghAll = project(ctx.gemm, hd, 0, B, H, w.whh, w.bhh, 3 * H);
    stepGates(wasmGruGatesFor(ctx), B, H, giAll, 0, 1, ghAll, hd, out);
    return [new Tensor("float32", outputs[0].shape, out)];
  }
  const gi = new Float64Array(3 * H);
  const gh = new Float64Array(3 * H);
  for (let b = 0; b < B; b++) gruStep(x.data as Float32Array, b * I, I, h.data as Float32Array, b * H, H, w, gi, gh, out, b * H);
  return [new Tensor("float32", outputs[0].shape, out)];
};

/**
 * gru over a batch-first sequence x [B, S, I]: y [B, S, dirs·H] (forward features, then reverse), h_n
 * [dirs, B, H]. The reverse direction runs t = S−1 … 0 from its own h0 and writes y[:, t, H:2H].
 */
export const gruKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ hidden: number; bidirectional: boolean }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const xd = x.data as Float32Array;
  const [B, S, I] = x.shape;
  const H = a.hidden;
  const dirs = a.bidirectional ? 2 : 1;
  const h0 = inputs[9] ?? null;
  const y = new Float32Array(B * S * dirs * H);
  const hn = new Float32Array(dirs * B * H);
  const gi = new Float64Array(3 * H);
  const gh = new Float64Array(3 * H);
  for (let d = 0; d < dirs; d++) {
    const w = weightsOf(inputs.slice(1 + 4 * d, 5 + 4 * d));
    const h = hn.subarray(d * B * H, (d + 1) * B * H);
    if (h0) h.set((h0.data as Float32Array).subarray(d * B * H, (d + 1) * B * H));
    if (ctx.gemm.path !== "js") {
      gruForwardGemm(ctx.gemm, xd, B, S, I, H, w, d, dirs, h, y, wasmGruGatesFor(ctx));
      continue;
    }
    for (let s = 0; s < S; s++) {
      const t = d === 1 ? S - 1 - s : s;
      for (let b = 0; b < B; b++) {
        gruStep(xd, (b * S + t) * I, I, h, b * H, H, w, gi, gh, h, b * H);
        y.set(h.subarray(b * H, (b + 1) * H), ((b * S + t) * dirs + d) * H);
      }
    }
  }
  return [new Tensor("float32", outputs[0].shape, y), new Tensor("float32", outputs[1].shape, hn)];
};
