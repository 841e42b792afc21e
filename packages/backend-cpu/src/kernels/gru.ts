import { Tensor } from "@attn/core";
import type { Gemm } from "../gemm/index.js";
import { inferOutputs, type Kernel } from "../kernel.js";
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

/**
 * `rows` rows of src (the first at element `off`, `stride` apart) times Wᵀ plus bias, on a GEMM: the
 * projections W_ih x + b_ih or W_hh h + b_hh of a whole batch (or sequence) at once, [rows, 3H] float32.
 */
function project(gemm: Gemm, src: Float32Array, off: number, rows: number, stride: number, I: number, w: Float32Array, bias: Float32Array | null, H: number): Float32Array {
  return gemm.gemm({ M: rows, N: 3 * H, K: I, a: src, rsa: stride, csa: 1, b: w, rsb: 1, csb: I, bias, aOff: [off] });
}

/**
 * The gate arithmetic of `gruStep` for one batch row from precomputed projections: gi at element `gOff`
 * and gh at `hhOff` (each 3H long). `hOut` may alias `h`.
 */
function gates(gi: Float32Array, gOff: number, gh: Float32Array, hhOff: number, h: Float32Array, hOff: number, H: number, hOut: Float32Array, outOff: number): void {
  for (let j = 0; j < H; j++) {
    const r = sigmoid(gi[gOff + j] + gh[hhOff + j]);
    const z = sigmoid(gi[gOff + H + j] + gh[hhOff + H + j]);
    const n = Math.tanh(gi[gOff + 2 * H + j] + r * gh[hhOff + 2 * H + j]);
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
    // Both projections as one GEMM each over the batch (the same arithmetic per row as gru's, bit for bit).
    const gi = project(ctx.gemm, x.data as Float32Array, 0, B, I, I, w.wih, w.bih, H);
    const gh = project(ctx.gemm, h.data as Float32Array, 0, B, H, H, w.whh, w.bhh, H);
    for (let b = 0; b < B; b++) gates(gi, b * 3 * H, gh, b * 3 * H, h.data as Float32Array, b * H, H, out, b * H);
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
  const fast = ctx.gemm.path !== "js";
  for (let d = 0; d < dirs; d++) {
    const w = weightsOf(inputs.slice(1 + 4 * d, 5 + 4 * d));
    const h = hn.subarray(d * B * H, (d + 1) * B * H);
    if (h0) h.set((h0.data as Float32Array).subarray(d * B * H, (d + 1) * B * H));
    if (fast) {
      // The input projection of every (b, t) in one GEMM; the recurrent one per step over the batch.
      const gx = project(ctx.gemm, xd, 0, B * S, I, I, w.wih, w.bih, H);
      for (let s = 0; s < S; s++) {
        const t = d === 1 ? S - 1 - s : s;
        const gr = project(ctx.gemm, h, 0, B, H, H, w.whh, w.bhh, H);
        for (let b = 0; b < B; b++) {
          gates(gx, (b * S + t) * 3 * H, gr, b * 3 * H, h, b * H, H, h, b * H);
          y.set(h.subarray(b * H, (b + 1) * H), ((b * S + t) * dirs + d) * H);
        }
      }
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
