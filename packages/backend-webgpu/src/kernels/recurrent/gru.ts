/**
 * gru and gru_cell forward, PyTorch semantics (gates stacked r, z, n):
 *   gi = W_ih x + b_ih, gh = W_hh h + b_hh,
 *   r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), h' = (1 − z) ⊙ n + z ⊙ h.
 *
 * The input projection does not depend on the state, so it is one `linear` over every (batch, step)
 * row up front. The recurrence is sequential: one fused step dispatch per time step and direction,
 * recorded back to back into the run's encoder (no readback), one thread per (batch row, hidden unit)
 * computing that unit's three W_hh dot products and its gates. Each step reads the previous state
 * straight from y (or h0 / zeros for a direction's first step) and writes its state into y, so no
 * separate state buffer exists; h_n is copied out of y at the end.
 */
import { BackendError } from "@attn/core";
import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../../kernel.js";
import { linearKernel } from "../matmul.js";
import { copyRows, fillZero } from "./copy.js";

/** Numerically safe gate functions shared by the forward and backward GRU shaders. */
export const WGSL_GATES = `
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
// tanh saturates to ±1 in f32 well before |x| = 20; clamping keeps exp-based implementations finite.
fn tanh_(x: f32) -> f32 { return tanh(clamp(x, -20.0, 20.0)); }
`;

/** Where a direction's first step reads its incoming state from. */
export const HSource = { Zeros: 0, H0: 1, Y: 2 } as const;

/**
 * One step for one direction. Uniforms: 0 B, 1 S, 2 H, 3 dirs, 4 d, 5 t, 6 tPrev, 7 source (HSource),
 * 8 has b_hh. GI is [B, S, 3H] (b_ih included), H0 is [dirs, B, H], Y is [B, S, dirs·H].
 */
const STEP = `${WGSL_UNIFORMS}${WGSL_GATES}
@group(0) @binding(1) var<storage, read> GI: array<f32>;
@group(0) @binding(2) var<storage, read> WHH: array<f32>;
@group(0) @binding(3) var<storage, read> BHH: array<f32>;
@group(0) @binding(4) var<storage, read> H0: array<f32>;
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;
fn h_prev(b: u32, k: u32) -> f32 {
  let src = u(7u);
  if (src == ${HSource.Zeros}u) { return 0.0; }
  if (src == ${HSource.H0}u) { return H0[(u(4u) * u(0u) + b) * u(2u) + k]; }
  return Y[((b * u(1u) + u(6u)) * u(3u) + u(4u)) * u(2u) + k];
}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  let H = u(2u);
  if (i >= u(0u) * H) { return; }
  let b = i / H;
  let j = i % H;
  var gr = 0.0; var gz = 0.0; var gn = 0.0;
  if (u(8u) != 0u) { gr = BHH[j]; gz = BHH[H + j]; gn = BHH[2u * H + j]; }
  for (var k = 0u; k < H; k++) {
    let h = h_prev(b, k);
    gr += WHH[j * H + k] * h;
    gz += WHH[(H + j) * H + k] * h;
    gn += WHH[(2u * H + j) * H + k] * h;
  }
  let row = b * u(1u) + u(5u);
  let g = row * 3u * H;
  let r = sigmoid_(GI[g + j] + gr);
  let z = sigmoid_(GI[g + H + j] + gz);
  let n = tanh_(GI[g + 2u * H + j] + r * gn);
  Y[(row * u(3u) + u(4u)) * H + j] = (1.0 - z) * n + z * h_prev(b, j);
}`;

/** One direction's weights (biases may be absent). */
export interface DirWeights {
  readonly wih: GpuTensor;
  readonly whh: GpuTensor;
  readonly bih: GpuTensor | null;
  readonly bhh: GpuTensor | null;
}

/** The weights of direction `d` from a gru / gru_grad input list (slots 1 + 4d … 4 + 4d). */
export function dirWeights(inputs: readonly (GpuTensor | null)[], d: number, op: string): DirWeights {
  const [wih, whh, bih, bhh] = inputs.slice(1 + 4 * d, 5 + 4 * d);
  if (!wih || !whh) throw new BackendError(`${op}: direction ${d} needs weight_ih and weight_hh`);
  return { wih, whh, bih: bih ?? null, bhh: bhh ?? null };
}

/** gi = x W_ihᵀ + b_ih for every row of x ([..., I] to [..., 3H]), through the shared linear kernel. */
export function inputProjection(ctx: KernelContext, x: GpuTensor, w: DirWeights): GpuTensor {
  return linearKernel([x, w.wih, w.bih], {}, { ...ctx, op: "linear" })[0];
}

/** Geometry of a GRU recording: x [B, S, I], y [B, S, dirs·H]. */
export interface GruDims {
  readonly B: number;
  readonly S: number;
  readonly H: number;
  readonly dirs: number;
}

/**
 * Records direction `d` over all S steps into y (forward order t = 0 … S−1, reverse order S−1 … 0),
 * starting from h0[d] (or zeros when `h0` is null). `gi` is this direction's input projection.
 */
export function recordDirection(ctx: KernelContext, dims: GruDims, d: number, gi: GpuTensor, w: DirWeights, h0: GpuTensor | null, y: GpuTensor): void {
  const { B, S, H, dirs } = dims;
  if (B * H === 0) return;
  for (let k = 0; k < S; k++) {
    const t = d === 1 ? S - 1 - k : k;
    const tPrev = d === 1 ? t + 1 : t - 1;
    const source = k > 0 ? HSource.Y : h0 ? HSource.H0 : HSource.Zeros;
    // Absent b_hh / h0 bind a buffer the shader never reads (a binding must exist; read-only aliases are allowed).
    dispatch(ctx, "gru:step", () => STEP, [gi, w.whh, w.bhh ?? w.whh, h0 ?? gi, y], [B, S, H, dirs, d, t, Math.max(tPrev, 0), source, w.bhh ? 1 : 0], groupsFor(B * H));
  }
}

/** gru over x [B, S, I]: y [B, S, dirs·H] (forward features, then reverse) and h_n [dirs, B, H]. */
export const gruKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ hidden: number; bidirectional: boolean }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const [B, S] = x.shape;
  const H = a.hidden;
  const dirs = a.bidirectional ? 2 : 1;
  const h0 = inputs[9] ?? null;
  const y = ctx.pool.tensor("float32", outputs[0].shape);
  const hn = ctx.pool.tensor("float32", outputs[1].shape);
  for (let d = 0; d < dirs; d++) {
    const w = dirWeights(inputs, d, "gru");
    const gi = inputProjection(ctx, x, w);
    recordDirection(ctx, { B, S, H, dirs }, d, gi, w, h0, y);
    ctx.pool.release(gi);
    // h_n[d] is the state after the direction's last step: y[:, S−1] forward, y[:, 0] reverse.
    const to = { offset: d * B * H, stride: H };
    if (S > 0) copyRows(ctx, y, { offset: ((d === 1 ? 0 : S - 1) * dirs + d) * H, stride: S * dirs * H }, hn, to, B, H);
    else if (h0) copyRows(ctx, h0, { offset: d * B * H, stride: H }, hn, to, B, H);
    else fillZero(ctx, hn, B * H, d * B * H);
  }
  return [y, hn];
};

/** gru_cell: h' [B, H] from x [B, I] and h [B, H]: the step kernel with S = 1 and h as h0. */
export const gruCellKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const [x, h, wih, whh, bih, bhh] = inputs;
  const [B, H] = outputs[0].shape;
  const w: DirWeights = { wih: wih!, whh: whh!, bih: bih ?? null, bhh: bhh ?? null };
  const out = ctx.pool.tensor("float32", outputs[0].shape);
  const gi = inputProjection(ctx, x!, w);
  recordDirection(ctx, { B, S: 1, H, dirs: 1 }, 0, gi, w, h!, out);
  ctx.pool.release(gi);
  return [out];
};
