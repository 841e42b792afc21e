/**
 * gru_grad and gru_cell_grad: backpropagation through time, as the cpu backend's gru-grad kernel.
 *
 * Per direction, the state entering every step is gathered once into hprev [B, S, H] (h0 / zeros at the
 * direction's first step, else y at its previous step), and the input projection gi is recomputed with
 * one `linear`. Then the steps are walked in reverse with two dispatches each, since step t's gate
 * gradients for a batch row must all exist before dh_prev of that row can be summed from them:
 *
 *   A, per (b, j): recompute gh_j and the gates; with d = dh + dy[t],
 *      dn = d(1 − z), da_n = dn(1 − n²), da_r = da_n·gh_n·r(1 − r), da_z = d(h − n)·z(1 − z);
 *      dgi[t] = [da_r, da_z, da_n], dgh[t] = [da_r, da_z, da_n·r], and d·z kept for B;
 *   B, per (b, k): dh_prev = d·z + Σ_g dgh[t, g] W_hh[g, k].
 *
 * dgi / dgh of every step are kept ([B, S, 3H], and [B, S, 4H] with the d·z column block), so the
 * weight gradients are one reduction each afterwards instead of S racing accumulations:
 * dW_ih = Σ_rows dgiᵀ x, dW_hh = Σ_rows dghᵀ hprev, db = Σ_rows dg (Kahan-summed over the B·S rows),
 * and dx = dgi W_ih through the shared matmul kernel (summed over directions).
 */
import { BackendError } from "@attn/core";
import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../../kernel.js";
import { binaryKernels } from "../binary.js";
import { matmulKernel } from "../matmul.js";
import { copyRows, fillZero } from "./copy.js";
import { dirWeights, HSource, inputProjection, WGSL_GATES, type DirWeights, type GruDims } from "./gru.js";

/**
 * hprev[b, t, :] of direction d. Uniforms: 0 B, 1 S, 2 H, 3 dirs, 4 d, 5 first-step source (HSource
 * Zeros or H0). Y is [B, S, dirs·H], H0 [dirs, B, H].
 */
const HPREV = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> Y: array<f32>;
@group(0) @binding(2) var<storage, read> H0: array<f32>;
@group(0) @binding(3) var<storage, read_write> HP: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  let B = u(0u); let S = u(1u); let H = u(2u); let dirs = u(3u); let d = u(4u);
  if (i >= B * S * H) { return; }
  let j = i % H;
  let row = i / H;
  let t = row % S;
  let b = row / S;
  // The reverse direction's first step is t = S − 1; the forward one's is t = 0.
  let first = select(t == 0u, t == S - 1u, d == 1u);
  if (first) {
    HP[i] = select(0.0, H0[(d * B + b) * H + j], u(5u) == ${HSource.H0}u);
  } else {
    let tp = select(t - 1u, t + 1u, d == 1u);
    HP[i] = Y[((b * S + tp) * dirs + d) * H + j];
  }
}`;

/**
 * Kernel A for step t of direction d. Uniforms: 0 B, 1 S, 2 H, 3 dirs, 4 d, 5 t, 6 has b_hh, 7 has dy.
 * DY is [B, S, dirs·H] (y's layout); DGI [B, S, 3H]; DGHZ [B, S, 4H] = dgh then d·z.
 */
const STEP_GATES = `${WGSL_UNIFORMS}${WGSL_GATES}
@group(0) @binding(1) var<storage, read> GI: array<f32>;
@group(0) @binding(2) var<storage, read> WHH: array<f32>;
@group(0) @binding(3) var<storage, read> BHH: array<f32>;
@group(0) @binding(4) var<storage, read> HP: array<f32>;
@group(0) @binding(5) var<storage, read> DH: array<f32>;
@group(0) @binding(6) var<storage, read> DY: array<f32>;
@group(0) @binding(7) var<storage, read_write> DGI: array<f32>;
@group(0) @binding(8) var<storage, read_write> DGHZ: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  let H = u(2u);
  if (i >= u(0u) * H) { return; }
  let b = i / H;
  let j = i % H;
  let row = b * u(1u) + u(5u);
  let hp = row * H;
  var gr = 0.0; var gz = 0.0; var gn = 0.0;
  if (u(6u) != 0u) { gr = BHH[j]; gz = BHH[H + j]; gn = BHH[2u * H + j]; }
  for (var k = 0u; k < H; k++) {
    let h = HP[hp + k];
    gr += WHH[j * H + k] * h;
    gz += WHH[(H + j) * H + k] * h;
    gn += WHH[(2u * H + j) * H + k] * h;
  }
  let g = row * 3u * H;
  let r = sigmoid_(GI[g + j] + gr);
  let z = sigmoid_(GI[g + H + j] + gz);
  let n = tanh_(GI[g + 2u * H + j] + r * gn);
  var d = DH[b * H + j];
  if (u(7u) != 0u) { d += DY[(row * u(3u) + u(4u)) * H + j]; }
  let dan = d * (1.0 - z) * (1.0 - n * n);
  let dar = dan * gn * r * (1.0 - r);
  let daz = d * (HP[hp + j] - n) * z * (1.0 - z);
  DGI[g + j] = dar;
  DGI[g + H + j] = daz;
  DGI[g + 2u * H + j] = dan;
  let o = row * 4u * H;
  DGHZ[o + j] = dar;
  DGHZ[o + H + j] = daz;
  DGHZ[o + 2u * H + j] = dan * r;
  DGHZ[o + 3u * H + j] = d * z;
}`;

/** Kernel B for step t: dh_prev[b, k]. Uniforms: 0 B, 1 S, 2 H, 3 t. */
const STEP_STATE = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> DGHZ: array<f32>;
@group(0) @binding(2) var<storage, read> WHH: array<f32>;
@group(0) @binding(3) var<storage, read_write> DH: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  let H = u(2u);
  if (i >= u(0u) * H) { return; }
  let b = i / H;
  let k = i % H;
  let o = (b * u(1u) + u(3u)) * 4u * H;
  var acc = DGHZ[o + 3u * H + k];
  for (var g = 0u; g < 3u * H; g++) { acc += DGHZ[o + g] * WHH[g * H + k]; }
  DH[b * H + k] = acc;
}`;

/**
 * Weight and bias gradients from per-row gate gradients: DW[g, c] = Σ_r G[r·gs + g]·A[r·K + c] and
 * DB[g] = Σ_r G[r·gs + g], one thread per (g, c) with c = K meaning the bias. Kahan-compensated, since
 * the sums run over every (batch, step) row. Uniforms: 0 rows R, 1 gates NG, 2 G's row stride gs, 3 K.
 */
const WGRAD = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read_write> DW: array<f32>;
@group(0) @binding(4) var<storage, read_write> DB: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  let R = u(0u); let gs = u(2u); let K = u(3u);
  if (i >= u(1u) * (K + 1u)) { return; }
  let g = i / (K + 1u);
  let c = i % (K + 1u);
  var s = 0.0; var comp = 0.0;
  for (var r = 0u; r < R; r++) {
    var v = G[r * gs + g];
    if (c < K) { v *= A[r * K + c]; }
    let y = v - comp;
    let t = s + y;
    comp = (t - s) - y;
    s = t;
  }
  if (c < K) { DW[g * K + c] = s; } else { DB[g] = s; }
}`;

/** What one direction's backward pass reads. */
interface DirBackward {
  readonly x: GpuTensor;
  readonly w: DirWeights;
  /** [B, S, H]: the state entering each step. */
  readonly hprev: GpuTensor;
  /** [B, H]: dL/d(state after the direction's last step), read by the first walked step. */
  readonly dhStart: GpuTensor;
  /** [B, S, dirs·H] upstream gradient of y, or null. */
  readonly dy: GpuTensor | null;
}

/** One direction's gradients; dx_d is [B, S, I] (or x's shape), dh is [B, H] (the gradient of its initial state). */
interface DirGrads {
  dx: GpuTensor;
  dwih: GpuTensor;
  dwhh: GpuTensor;
  dbih: GpuTensor;
  dbhh: GpuTensor;
  dh: GpuTensor;
}

/**
 * Records the backward pass of direction d. The state gradient lives in one [B, H] buffer updated in
 * place step by step (kernel A reads it, kernel B then overwrites it: separate dispatches, in order).
 */
function backwardDirection(ctx: KernelContext, dims: GruDims, I: number, d: number, o: DirBackward): DirGrads {
  const { B, S, H, dirs } = dims;
  const rows = B * S;
  const gi = inputProjection(ctx, o.x, o.w);
  const dgi = ctx.pool.tensor("float32", [rows, 3 * H]);
  const dghz = ctx.pool.tensor("float32", [rows, 4 * H]);
  const dh = ctx.pool.tensor("float32", [B, H]);
  copyRows(ctx, o.dhStart, { offset: 0, stride: B * H }, dh, { offset: 0, stride: B * H }, 1, B * H);
  if (B * H > 0) {
    for (let k = S - 1; k >= 0; k--) {
      const t = d === 1 ? S - 1 - k : k;
      dispatch(
        ctx, "gru_grad:gates", () => STEP_GATES,
        [gi, o.w.whh, o.w.bhh ?? o.w.whh, o.hprev, dh, o.dy ?? gi, dgi, dghz],
        [B, S, H, dirs, d, t, o.w.bhh ? 1 : 0, o.dy ? 1 : 0], groupsFor(B * H),
      );
      dispatch(ctx, "gru_grad:state", () => STEP_STATE, [dghz, o.w.whh, dh], [B, S, H, t], groupsFor(B * H));
    }
  }
  ctx.pool.release(gi);
  const dwih = ctx.pool.tensor("float32", [3 * H, I]);
  const dbih = ctx.pool.tensor("float32", [3 * H]);
  const dwhh = ctx.pool.tensor("float32", [3 * H, H]);
  const dbhh = ctx.pool.tensor("float32", [3 * H]);
  weightGrad(ctx, dgi, 3 * H, o.x, I, rows, 3 * H, dwih, dbih);
  weightGrad(ctx, dghz, 4 * H, o.hprev, H, rows, 3 * H, dwhh, dbhh);
  ctx.pool.release(dghz);
  // dx_d = dgi · W_ih over the B·S rows.
  const dx2 = matmulKernel([dgi, o.w.wih], {}, { ...ctx, op: "matmul" })[0];
  ctx.pool.release(dgi);
  const dx = dx2.view(o.x.shape);
  ctx.pool.release(dx2);
  return { dx, dwih, dwhh, dbih, dbhh, dh };
}

/** Records DW = Σ_rows Gᵀ A and DB = Σ_rows G for the first `ng` columns of G (row stride `gs`). */
function weightGrad(ctx: KernelContext, g: GpuTensor, gs: number, a: GpuTensor, K: number, rows: number, ng: number, dw: GpuTensor, db: GpuTensor): void {
  const n = ng * (K + 1);
  if (n === 0) return;
  dispatch(ctx, "gru_grad:wgrad", () => WGRAD, [g, a, dw, db], [rows, ng, gs, K], groupsFor(n));
}

/**
 * gru_grad: inputs are gru's ten (x, per direction weight_ih, weight_hh, bias_ih, bias_hh, h0), then y,
 * dy and dh_n (both optional); outputs dx, per direction dweight_ih, dweight_hh, dbias_ih, dbias_hh,
 * then dh0 [dirs, B, H].
 */
export const gruGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ hidden: number; bidirectional: boolean }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const [B, S, I] = x.shape;
  const H = a.hidden;
  const dirs = a.bidirectional ? 2 : 1;
  const h0 = inputs[9] ?? null;
  const y = inputs[10];
  if (!y) throw new BackendError("gru_grad: the forward output y is required");
  const dy = inputs[11] ?? null;
  const dhn = inputs[12] ?? null;
  const dims: GruDims = { B, S, H, dirs };
  const dh0 = ctx.pool.tensor("float32", outputs[1 + 4 * dirs].shape);
  const perDir: GpuTensor[] = [];
  let dx: GpuTensor | null = null;
  for (let d = 0; d < dirs; d++) {
    const w = dirWeights(inputs, d, "gru_grad");
    const hprev = ctx.pool.tensor("float32", [B, S, H]);
    if (hprev.size > 0) {
      dispatch(ctx, "gru_grad:hprev", () => HPREV, [y, h0 ?? y, hprev], [B, S, H, dirs, d, h0 ? HSource.H0 : HSource.Zeros], groupsFor(hprev.size));
    }
    const dhStart = ctx.pool.tensor("float32", [B, H]);
    if (dhn) copyRows(ctx, dhn, { offset: d * B * H, stride: B * H }, dhStart, { offset: 0, stride: B * H }, 1, B * H);
    else fillZero(ctx, dhStart, B * H);
    const g = backwardDirection(ctx, dims, I, d, { x, w, hprev, dhStart, dy });
    ctx.pool.release(hprev);
    ctx.pool.release(dhStart);
    copyRows(ctx, g.dh, { offset: 0, stride: B * H }, dh0, { offset: d * B * H, stride: B * H }, 1, B * H);
    ctx.pool.release(g.dh);
    perDir.push(g.dwih, g.dwhh, g.dbih, g.dbhh);
    if (!dx) dx = g.dx;
    else {
      const sum: GpuTensor = binaryKernels.add([dx, g.dx], {}, { ...ctx, op: "add" })[0];
      ctx.pool.release(dx);
      ctx.pool.release(g.dx);
      dx = sum;
    }
  }
  return [dx!, ...perDir, dh0];
};

/**
 * gru_cell_grad: dx, dh, dweight_ih, dweight_hh, dbias_ih, dbias_hh from the cell's inputs and dh'. One
 * step of the above with S = 1: h is hprev and dh' seeds the state gradient.
 */
export const gruCellGradKernel: Kernel = (inputs, attrs, ctx) => {
  inferOutputs(ctx, inputs, attrs);
  const [x, h, wih, whh, bih, bhh, dhNew] = inputs;
  const [B, H] = h!.shape;
  const I = x!.shape[1];
  const w: DirWeights = { wih: wih!, whh: whh!, bih: bih ?? null, bhh: bhh ?? null };
  const g = backwardDirection(ctx, { B, S: 1, H, dirs: 1 }, I, 0, { x: x!, w, hprev: h!, dhStart: dhNew!, dy: null });
  return [g.dx, g.dh, g.dwih, g.dwhh, g.dbih, g.dbhh];
};
