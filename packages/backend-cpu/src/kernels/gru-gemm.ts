import type { Gemm } from "../gemm/index.js";
import type { GruWeights } from "./gru.js";
import { sigmoid } from "./unary.js";

/**
 * The GRU kernels of the `"wasm-simd"` path: every projection is a GEMM call (`ctx.gemm`) over all the
 * rows it can cover at once, and a fused loop does the gates.
 *
 * - Forward: W_ih x + b_ih for every step of the sequence in one GEMM ([B·S, I] · W_ihᵀ); per step, one
 *   GEMM [B, H] · W_hhᵀ for the recurrent part, then the gate loop over [B, H].
 * - Backward: the incoming states are known from y, so both projections of every step are recomputed in
 *   two GEMMs; the gate gradients run step by step (only dh_prev = dh'⊙z + dgh·W_hh is sequential, one
 *   GEMM per step), and the weight gradients and dx are three GEMMs over all steps at the end.
 *
 * Projections are float32 GEMM results (the portable path keeps them in double); the gate arithmetic is
 * in double, and the state is rounded to float32 each step, as on the portable path.
 */

/** rows × N = A[rows, K] · Wᵀ (+ bias), W [N, K] row-major (PyTorch layout), A read from `aOff`. */
export function project(gemm: Gemm, a: Float32Array, aOff: number, rows: number, K: number, w: Float32Array, bias: Float32Array | null, N: number): Float32Array {
  return gemm.gemm({ M: rows, N, K, a, rsa: K, csa: 1, b: w, rsb: 1, csb: K, bias, count: 1, aOff: [aOff], bOff: [0] });
}

/**
 * One step's gates for B rows: h'[b] = (1 − z) ⊙ n + z ⊙ h[b] with r, z, n from the pre-activations
 * gi (row `giRow(b)` of `gi`) and gh (row b of `gh`). `hOut` may alias `h` (each element is read first).
 */
export function gatesForward(
  B: number, H: number, gi: Float32Array, giRow: (b: number) => number, gh: Float32Array, h: Float32Array, hOff: number, hOut: Float32Array, outOff: number,
): void {
  const H3 = 3 * H;
  for (let b = 0; b < B; b++) {
    const gio = giRow(b) * H3;
    const gho = b * H3;
    const ho = hOff + b * H;
    const oo = outOff + b * H;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gi[gio + j] + gh[gho + j]);
      const z = sigmoid(gi[gio + H + j] + gh[gho + H + j]);
      const n = Math.tanh(gi[gio + 2 * H + j] + r * gh[gho + 2 * H + j]);
      hOut[oo + j] = (1 - z) * n + z * h[ho + j];
    }
  }
}

/**
 * One step's gate gradients for B rows, from dh' (`dh`, [B, H], double) and the recomputed
 * pre-activations: writes dgi (row `dgiRow(b)`) and dgh (row `dghRow(b)`), and dh ← dh'⊙z (the direct
 * part of dh_prev; the caller adds dgh·W_hh).
 */
export function gatesBackward(
  B: number, H: number, gi: Float32Array, giRow: (b: number) => number, gh: Float32Array, ghRow: (b: number) => number,
  h: Float32Array, hRow: (b: number) => number, dh: Float64Array, dgi: Float32Array, dgiRow: (b: number) => number, dgh: Float32Array, dghRow: (b: number) => number,
): void {
  const H3 = 3 * H;
  for (let b = 0; b < B; b++) {
    const gio = giRow(b) * H3;
    const gho = ghRow(b) * H3;
    const ho = hRow(b) * H;
    const dio = dgiRow(b) * H3;
    const dho = dghRow(b) * H3;
    const dbo = b * H;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gi[gio + j] + gh[gho + j]);
      const z = sigmoid(gi[gio + H + j] + gh[gho + H + j]);
      const ghn = gh[gho + 2 * H + j];
      const n = Math.tanh(gi[gio + 2 * H + j] + r * ghn);
      const d = dh[dbo + j];
      const dan = d * (1 - z) * (1 - n * n);
      const dar = dan * ghn * r * (1 - r);
      const daz = d * (h[ho + j] - n) * z * (1 - z);
      dgi[dio + j] = dar;
      dgh[dho + j] = dar;
      dgi[dio + H + j] = daz;
      dgh[dho + H + j] = daz;
      dgi[dio + 2 * H + j] = dan;
      dgh[dho + 2 * H + j] = dan * r;
      dh[dbo + j] = d * z;
    }
  }
}

/** Column sums of a [rows, n] matrix, in double, rounded once. */
export function columnSums(m: Float32Array, rows: number, n: number): Float32Array {
  const acc = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) acc[j] += m[o + j];
  }
  return Float32Array.from(acc);
}

/** dW [N, K] = Gᵀ · A over `rows` rows (G [rows, N], A [rows, K]). */
export function weightGrad(gemm: Gemm, g: Float32Array, N: number, a: Float32Array, K: number, rows: number): Float32Array {
  return gemm.gemm({ M: N, N: K, K: rows, a: g, rsa: 1, csa: N, b: a, rsb: K, csb: 1 });
}

/** [rows, K] = G [rows, N] · W [N, K] (the gradient through a projection), G read from `gOff`. */
export function backProject(gemm: Gemm, g: Float32Array, gOff: number, rows: number, N: number, w: Float32Array, K: number): Float32Array {
  return gemm.gemm({ M: rows, N: K, K: N, a: g, rsa: N, csa: 1, b: w, rsb: K, csb: 1, count: 1, aOff: [gOff], bOff: [0] });
}

/** Forward of one direction of `gru` over x [B, S, I]; writes y[:, t, d·H:(d+1)·H] and the final state into h [B, H]. */
export function gruForwardGemm(
  gemm: Gemm, xd: Float32Array, B: number, S: number, I: number, H: number, w: GruWeights, d: number, dirs: number, h: Float32Array, y: Float32Array,
): void {
  const gi = project(gemm, xd, 0, B * S, I, w.wih, w.bih, 3 * H);
  for (let s = 0; s < S; s++) {
    const t = d === 1 ? S - 1 - s : s;
    const gh = project(gemm, h, 0, B, H, w.whh, w.bhh, 3 * H);
    gatesForward(B, H, gi, (b) => b * S + t, gh, h, 0, h, 0);
    for (let b = 0; b < B; b++) y.set(h.subarray(b * H, (b + 1) * H), ((b * S + t) * dirs + d) * H);
  }
}

/** What the backward of one direction returns (float32, PyTorch shapes) and adds into dx / dh0. */
export interface GruDirGrads {
  readonly wih: Float32Array;
  readonly whh: Float32Array;
  readonly bih: Float32Array;
  readonly bhh: Float32Array;
}

/**
 * Backward of one direction of `gru`. `yd` holds every step's output state, `h0` [B, H] the initial one;
 * `dyd` (or null) the gradient of y, `dh` [B, H] starts as dh_n and ends as dh0. dx is added into `dx`.
 */
export function gruBackwardGemm(
  gemm: Gemm, xd: Float32Array, B: number, S: number, I: number, H: number, w: GruWeights, d: number, dirs: number,
  h0: Float32Array, h0Off: number, yd: Float32Array, dyd: Float32Array | null, dh: Float64Array, dx: Float64Array,
): GruDirGrads {
  const H3 = 3 * H;
  // Incoming state of every step, in step order k (row k·B + b).
  const hPrev = new Float32Array(S * B * H);
  for (let k = 0; k < S; k++) {
    const t = d === 1 ? S - 1 - k : k;
    const tPrev = d === 1 ? t + 1 : t - 1;
    for (let b = 0; b < B; b++) {
      const dst = (k * B + b) * H;
      if (k === 0) hPrev.set(h0.subarray(h0Off + b * H, h0Off + (b + 1) * H), dst);
      else {
        const src = ((b * S + tPrev) * dirs + d) * H;
        hPrev.set(yd.subarray(src, src + H), dst);
      }
    }
  }
  const gi = project(gemm, xd, 0, B * S, I, w.wih, w.bih, H3); // rows b·S + t
  const gh = project(gemm, hPrev, 0, S * B, H, w.whh, w.bhh, H3); // rows k·B + b
  const dgi = new Float32Array(B * S * H3); // rows b·S + t (as x)
  const dgh = new Float32Array(S * B * H3); // rows k·B + b (as hPrev)
  for (let k = S - 1; k >= 0; k--) {
    const t = d === 1 ? S - 1 - k : k;
    if (dyd) {
      for (let b = 0; b < B; b++) {
        const yo = ((b * S + t) * dirs + d) * H;
        const o = b * H;
        for (let j = 0; j < H; j++) dh[o + j] += dyd[yo + j];
      }
    }
    gatesBackward(B, H, gi, (b) => b * S + t, gh, (b) => k * B + b, hPrev, (b) => k * B + b, dh, dgi, (b) => b * S + t, dgh, (b) => k * B + b);
    const back = backProject(gemm, dgh, k * B * H3, B, H3, w.whh, H);
    for (let i = 0; i < B * H; i++) dh[i] += back[i];
  }
  const dxd = backProject(gemm, dgi, 0, B * S, H3, w.wih, I);
  for (let i = 0; i < dxd.length; i++) dx[i] += dxd[i];
  return {
    wih: weightGrad(gemm, dgi, H3, xd, I, B * S),
    whh: weightGrad(gemm, dgh, H3, hPrev, H, S * B),
    bih: columnSums(dgi, B * S, H3),
    bhh: columnSums(dgh, S * B, H3),
  };
}
