import type { WasmGruGates } from "../elementwise/gru-gates.js";
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
 * in double, and the state is rounded to float32 each step, as on the portable path. The gate loops run in
 * WebAssembly (assembly/gru.ts, f64x2: `gatesForward` / `gatesBackward` there, given its instance `ew`), where a JavaScript loop spends ~60 ns per element in Math.exp and Math.tanh;
 * the pre-activations of a whole sequence are copied into its memory once, each step's recurrent
 * projection and state per step.
 */

/** rows × N = A[rows, K] · Wᵀ (+ bias), W [N, K] row-major (PyTorch layout), A read from `aOff`. */
export function project(gemm: Gemm, a: Float32Array, aOff: number, rows: number, K: number, w: Float32Array, bias: Float32Array | null, N: number): Float32Array {
  // only the rows it reads (the GEMM copies its whole operands)
  return gemm.gemm({ M: rows, N, K, a: a.subarray(aOff, aOff + rows * K), rsa: K, csa: 1, b: w, rsb: 1, csb: K, bias });
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

/**
 * `gatesBackward` for B contiguous rows (gi, gh, dgi, dgh [B, 3H], h [B, H]; `dh` [B, H] updated in place),
 * on the wasm gate loop when `ew` is given (and fits).
 */
export function stepGatesBackward(
  ew: WasmGruGates | null, B: number, H: number, gi: Float32Array, gh: Float32Array, h: Float32Array, dh: Float64Array, dgi: Float32Array, dgh: Float32Array,
): void {
  const H3 = 3 * H;
  const ws = ew?.workspace([B * H3 * 4, B * H3 * 4, B * H * 4, B * H * 8, B * H3 * 4, B * H3 * 4]) ?? null;
  if (ws) {
    ws.f32(0, B * H3).set(gi);
    ws.f32(1, B * H3).set(gh);
    ws.f32(2, B * H).set(h);
    ws.f64(3, B * H).set(dh);
    const [giAt, ghAt, hAt, dhAt, dgiAt, dghAt] = ws.at;
    ws.backward(giAt, H3, ghAt, H3, hAt, H, dhAt, 0, 0, 0, dgiAt, H3, dghAt, H3, B, H);
    dh.set(ws.f64(3, B * H));
    dgi.set(ws.f32(4, B * H3));
    dgh.set(ws.f32(5, B * H3));
    return;
  }
  const row = (b: number) => b;
  gatesBackward(B, H, gi, row, gh, row, h, row, dh, dgi, row, dgh, row);
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
  // only the rows it reads: a step's dgh, not the whole sequence's (the GEMM copies its whole operands)
  return gemm.gemm({ M: rows, N: K, K: N, a: g.subarray(gOff, gOff + rows * N), rsa: N, csa: 1, b: w, rsb: K, csb: 1 });
}

/**
 * One step's gates for B rows where gi row b is row `giRow0 + b·giRowStride` of `gi`, gh is [B, 3H]:
 * h'[b] into `hOut` (may alias `h`), on the wasm gate loop when `ew` is given (and fits), else in JS.
 */
export function stepGates(
  ew: WasmGruGates | null, B: number, H: number, gi: Float32Array, giRow0: number, giRowStride: number, gh: Float32Array, h: Float32Array, hOut: Float32Array,
): void {
  const H3 = 3 * H;
  const ws = ew?.workspace([B * giRowStride * H3 * 4, B * H3 * 4, B * H * 4]) ?? null;
  if (ws) {
    ws.f32(0, B * giRowStride * H3).set(gi.subarray(giRow0 * H3, (giRow0 + (B - 1) * giRowStride + 1) * H3));
    ws.f32(1, B * H3).set(gh);
    ws.f32(2, B * H).set(h);
    ws.forward(ws.at[0], giRowStride * H3, ws.at[1], H3, ws.at[2], ws.at[2], B, H);
    hOut.set(ws.f32(2, B * H));
    return;
  }
  gatesForward(B, H, gi, (b) => giRow0 + b * giRowStride, gh, h, 0, hOut, 0);
}

/** Forward of one direction of `gru` over x [B, S, I]; writes y[:, t, d·H:(d+1)·H] and the final state into h [B, H]. */
export function gruForwardGemm(
  gemm: Gemm, xd: Float32Array, B: number, S: number, I: number, H: number, w: GruWeights, d: number, dirs: number, h: Float32Array, y: Float32Array,
  ew: WasmGruGates | null = null,
): void {
  const H3 = 3 * H;
  const gi = project(gemm, xd, 0, B * S, I, w.wih, w.bih, H3);
  // The wasm gate loop's workspace: gi (rows b·S + t) copied in once, the step's gh and the state h.
  const ws = ew?.workspace([gi.length * 4, B * H3 * 4, B * H * 4]) ?? null;
  if (ws) {
    ws.f32(0, gi.length).set(gi);
    ws.f32(2, B * H).set(h);
  }
  for (let s = 0; s < S; s++) {
    const t = d === 1 ? S - 1 - s : s;
    const gh = project(gemm, h, 0, B, H, w.whh, w.bhh, H3);
    if (ws) {
      ws.f32(1, B * H3).set(gh);
      ws.forward(ws.at[0] + t * H3 * 4, S * H3, ws.at[1], H3, ws.at[2], ws.at[2], B, H);
      h.set(ws.f32(2, B * H));
    } else {
      gatesForward(B, H, gi, (b) => b * S + t, gh, h, 0, h, 0);
    }
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
  ew: WasmGruGates | null = null,
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
  const nG = B * S * H3;
  // On the wasm gate loop, gi, gh, hPrev and dy are copied into its memory once; dh, dgi, dgh and the
  // step's back-projection live there (each step adds the previous back-projection and its dy into dh
  // itself), the GEMMs read dgi and dgh from it, and the bias gradients are its column sums.
  const nY = dyd ? dyd.length : 0;
  const ws = ew?.workspace([nG * 4, nG * 4, S * B * H * 4, B * H * 8, nG * 4, nG * 4, B * H * 4, nY * 4, H3 * 8, H3 * 8]) ?? null;
  if (ws) {
    const [giAt, ghAt, hAt, dhAt, dgiAt, dghAt, backAt, dyAt] = ws.at;
    ws.f32(0, nG).set(gi);
    ws.f32(1, nG).set(gh);
    ws.f32(2, S * B * H).set(hPrev);
    ws.f64(3, B * H).set(dh);
    if (dyd) ws.f32(7, nY).set(dyd);
    let back: Float32Array | null = null;
    for (let k = S - 1; k >= 0; k--) {
      const t = d === 1 ? S - 1 - k : k;
      ws.backward(
        giAt + t * H3 * 4, S * H3, ghAt + k * B * H3 * 4, H3, hAt + k * B * H * 4, H, dhAt, back ? backAt : 0,
        dyd ? dyAt + (t * dirs + d) * H * 4 : 0, S * dirs * H, dgiAt + t * H3 * 4, S * H3, dghAt + k * B * H3 * 4, H3, B, H,
      );
      back = backProject(gemm, ws.f32(5, nG), k * B * H3, B, H3, w.whh, H);
      ws.f32(6, B * H).set(back);
    }
    const dhw = ws.f64(3, B * H);
    for (let i = 0; i < B * H; i++) dh[i] = dhw[i] + (back ? back[i] : 0);
    const dgi = ws.f32(4, nG);
    const dgh = ws.f32(5, nG);
    const dxd = backProject(gemm, dgi, 0, B * S, H3, w.wih, I);
    for (let i = 0; i < dxd.length; i++) dx[i] += dxd[i];
    const grads = { wih: weightGrad(gemm, dgi, H3, xd, I, B * S), whh: weightGrad(gemm, dgh, H3, hPrev, H, S * B) };
    ws.columnSums(4, B * S, H3, 8);
    ws.columnSums(5, S * B, H3, 9);
    return { ...grads, bih: Float32Array.from(ws.f64(8, H3)), bhh: Float32Array.from(ws.f64(9, H3)) };
  }
  const dgi = new Float32Array(nG); // rows b·S + t (as x)
  const dgh = new Float32Array(nG); // rows k·B + b (as hPrev)
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
