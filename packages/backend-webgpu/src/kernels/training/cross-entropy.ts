import type { GpuTensor } from "../../buffers.js";
import { i32FromBits } from "../../checks.js";
import { dispatch, FLAT_INDEX, formatIndex, groupsFor, inferOutputs, inputName, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../../kernel.js";
import { checkIndices } from "../validate.js";
import { f32Bits } from "./f32-bits.js";
import { reduceLoss } from "./loss-reduce.js";

/**
 * `cross_entropy` and `cross_entropy_grad` (PyTorch 1.13 `F.cross_entropy`, int32 class targets, class dim
 * last), as backend-cpu computes them: per row r with target y ≠ ignore_index
 *
 *   lse = logsumexp(x_r),  loss_r = (1 − ε)·(lse − x_y) + (ε / C)·Σ_c (lse − x_c)
 *
 * Ignored rows give 0 and are not counted; `mean` divides by the counted rows (NaN when none, as PyTorch).
 * The gradient of a counted row is w·(softmax_c − (1 − ε)·[c = y] − ε/C), w = dy / count, dy or dy_r.
 *
 * Layout: the forward runs one thread per row (the row's max, then Σ exp(x − max), as the softmax kernel),
 * writing per-row losses that loss-reduce.ts's workgroup tree sums (and counts) for mean / sum. The backward
 * first writes each row's lse (one thread per row), then one thread per logit, so the C² work of a per-row
 * loop over per-element softmax never happens and writes stay coalesced. The count for `mean` comes from
 * the same reduction kernel in counting mode, on the device, so no readback is needed.
 *
 * A target outside [0, C) that is not ignore_index fails the run with the cpu backend's error (first
 * offending row, its value, the range), found by a check dispatch (../validate.ts) and reported once the
 * run completes; the shaders below still give such a row NaN, a result the failed run never returns.
 *
 * Uniforms: rows, C, ignore_index (i32 bits), 1 − ε and ε / C (f32 bits), then the gradient's dy mode.
 */

interface CeAttrs {
  readonly ignore_index: number;
  readonly label_smoothing: number;
  readonly reduction: "mean" | "sum" | "none";
}

const COMMON = `${WGSL_UNIFORMS}${WGSL_FLOAT}
fn params_rows() -> u32 { return u(0u); }
fn params_c() -> u32 { return u(1u); }
fn params_ignore() -> i32 { return bitcast<i32>(u(2u)); }
fn one_minus_eps() -> f32 { return bitcast<f32>(u(3u)); }
fn eps_over_c() -> f32 { return bitcast<f32>(u(4u)); }
`;

/** log Σ exp over row `off .. off + C` of X: −inf for an all −inf row, NaN when a NaN is present (as the CPU). */
const LSE = `
fn row_lse(off: u32, C: u32) -> f32 {
  var m = neg_inf();
  var nan_seen = false;
  for (var c = 0u; c < C; c++) {
    let v = X[off + c];
    if (is_nan(v)) { nan_seen = true; }
    m = max(m, v);
  }
  if (nan_seen) { return nan(); }
  if (m == neg_inf()) { return neg_inf(); }
  var s = 0.0;
  for (var c = 0u; c < C; c++) { s += exp(X[off + c] - m); }
  return m + log(s);
}`;

const FORWARD = `${COMMON}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<i32>;
@group(0) @binding(3) var<storage, read_write> L: array<f32>;
${LSE}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= params_rows()) { return; }
  let C = params_c();
  let y = T[i];
  if (y == params_ignore()) { L[i] = 0.0; return; }
  if (y < 0 || u32(y) >= C) { L[i] = nan(); return; }
  let off = i * C;
  let lse = row_lse(off, C);
  var loss = one_minus_eps() * (lse - X[off + u32(y)]);
  if (eps_over_c() != 0.0) {
    var smoothing = 0.0;
    for (var c = 0u; c < C; c++) { smoothing += lse - X[off + c]; }
    loss += eps_over_c() * smoothing;
  }
  L[i] = loss;
}`;

const ROW_LSE = `${COMMON}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> R: array<f32>;
${LSE}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= params_rows()) { return; }
  R[i] = row_lse(i * params_c(), params_c());
}`;

/** Uniform 5: 0 dy per row (none), 1 dy / count (mean, count in W[0]), 2 dy (sum). */
const BACKWARD = `${COMMON}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<i32>;
@group(0) @binding(3) var<storage, read> DY: array<f32>;
@group(0) @binding(4) var<storage, read> R: array<f32>;
@group(0) @binding(5) var<storage, read> W: array<f32>;
@group(0) @binding(6) var<storage, read_write> DX: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  let C = params_c();
  if (i >= params_rows() * C) { return; }
  let r = i / C; let c = i % C;
  let y = T[r];
  if (y == params_ignore()) { DX[i] = 0.0; return; }
  if (y < 0 || u32(y) >= C) { DX[i] = nan(); return; }
  let mode = u(5u);
  var w: f32;
  if (mode == 0u) { w = DY[r]; } else if (mode == 1u) { w = DY[0] / W[0]; } else { w = DY[0]; }
  let p = exp(X[i] - R[r]);
  DX[i] = w * (p - eps_over_c() - select(0.0, one_minus_eps(), u32(y) == c));
}`;

/** Records the check of the targets: each in [0, C) or ignore_index (message as the cpu backend's). */
function checkTargets(ctx: KernelContext, target: GpuTensor, C: number, ignore: number): void {
  checkIndices(ctx, "target", target, C, ignore, (h) =>
    `${ctx.op}: target ${i32FromBits(h.bits)} at position ${formatIndex(h.index, target.shape)} of "${inputName(ctx, 1, "target")}" is out of range [0, ${C}) ` +
      `(and is not ignore_index ${ignore})`);
}

function uniforms(rows: number, C: number, a: CeAttrs): number[] {
  return [rows, C, a.ignore_index >>> 0, f32Bits(1 - a.label_smoothing), f32Bits(a.label_smoothing / C)];
}

/** cross_entropy(logits [..., C], target int32 [...]) → per-row losses (`none`) or their mean / sum. */
export const crossEntropyKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<CeAttrs>(ctx, inputs, attrs);
  const [logits, target] = inputs as [GpuTensor, GpuTensor];
  const C = logits.shape[logits.shape.length - 1];
  const rows = target.size;
  checkTargets(ctx, target, C, a.ignore_index);
  const per = ctx.pool.tensor("float32", target.shape);
  if (rows > 0) dispatch(ctx, "cross_entropy", () => FORWARD, [logits, target, per], uniforms(rows, C, a), groupsFor(rows));
  if (a.reduction === "none") return [per];
  const y = reduceLoss(ctx, per, rows, a.reduction === "mean" ? "mean_counted" : "sum", outputs[0].shape, target, a.ignore_index);
  ctx.pool.release(per);
  return [y];
};

/** cross_entropy_grad(logits, target, dy) → d loss / d logits. */
export const crossEntropyGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<CeAttrs>(ctx, inputs, attrs);
  const [logits, target, dy] = inputs as [GpuTensor, GpuTensor, GpuTensor];
  const C = logits.shape[logits.shape.length - 1];
  const rows = target.size;
  checkTargets(ctx, target, C, a.ignore_index);
  const dx = ctx.pool.tensor("float32", outputs[0].shape);
  if (dx.size === 0) return [dx];
  const u = uniforms(rows, C, a);
  const lse = ctx.pool.tensor("float32", [rows]);
  dispatch(ctx, "cross_entropy:lse", () => ROW_LSE, [logits, lse], u, groupsFor(rows));
  const count = a.reduction === "mean" ? reduceLoss(ctx, lse, rows, "count", [], target, a.ignore_index) : null;
  const mode = a.reduction === "none" ? 0 : a.reduction === "mean" ? 1 : 2;
  dispatch(ctx, "cross_entropy_grad", () => BACKWARD, [logits, target, dy, lse, count ?? dy, dx], [...u, mode], groupsFor(dx.size));
  ctx.pool.release(lse);
  if (count) ctx.pool.release(count);
  return [dx];
};
