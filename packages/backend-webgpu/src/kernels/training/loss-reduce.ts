import type { GpuTensor } from "../../buffers.js";
import { dispatch, WGSL_FLOAT, WGSL_UNIFORMS, type KernelContext } from "../../kernel.js";

/**
 * The reduction every loss ends with: one workgroup of {@link RWG} threads sums a per-element (or per-row)
 * loss buffer into one float. Each thread Kahan-sums a strided slice (so a long vector keeps f32 precision
 * without a second pass), then the partial sums meet in a workgroup-memory tree (pairwise, log2(RWG)
 * levels). A loss is reduced once per step, so one workgroup is plenty; the strided slices keep reads
 * coalesced. Modes (uniform 1): 0 sum, 1 sum / n, 2 sum / (number of targets ≠ ignore_index, NaN when 0:
 * cross_entropy's mean), 3 that count alone (cross_entropy_grad's divisor).
 */

/** Threads of the reduction workgroup (a power of two, for the tree). */
export const RWG = 256;

const SHADER = `${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<i32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
var<workgroup> S: array<f32, ${RWG}>;
var<workgroup> K: array<f32, ${RWG}>;
@compute @workgroup_size(${RWG}) fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let n = u(0u); let mode = u(1u); let ignore = bitcast<i32>(u(2u));
  let t = lid.x;
  var s = 0.0; var c = 0.0; var cnt = 0.0;
  for (var i = t; i < n; i += ${RWG}u) {
    if (mode != 3u) {
      // Kahan: c carries the low bits the running sum dropped
      let y = A[i] - c;
      let z = s + y;
      c = (z - s) - y;
      s = z;
    }
    if (mode >= 2u && T[i] != ignore) { cnt += 1.0; }
  }
  S[t] = s; K[t] = cnt;
  workgroupBarrier();
  for (var w = ${RWG / 2}u; w > 0u; w = w / 2u) {
    if (t < w) { S[t] += S[t + w]; K[t] += K[t + w]; }
    workgroupBarrier();
  }
  if (t == 0u) {
    let total = S[0]; let count = K[0];
    if (mode == 0u) { Y[0] = total; }
    else if (mode == 1u) { Y[0] = select(total / f32(n), nan(), n == 0u); }
    else if (mode == 2u) { Y[0] = select(total / count, nan(), count == 0.0); }
    else { Y[0] = count; }
  }
}`;

/** What {@link reduceLoss} computes. */
export type ReduceMode = "sum" | "mean" | "mean_counted" | "count";

const MODES: Record<ReduceMode, number> = { sum: 0, mean: 1, mean_counted: 2, count: 3 };

/**
 * Records the reduction of `values` (n floats) into a new 1-element tensor of `shape` ([] for a loss).
 * `target` and `ignore` are read only by the counting modes (cross-entropy targets, int32).
 */
export function reduceLoss(ctx: KernelContext, values: GpuTensor, n: number, mode: ReduceMode, shape: readonly number[], target?: GpuTensor, ignore = 0): GpuTensor {
  const y = ctx.pool.tensor("float32", shape);
  // the counting modes bind the targets; the others bind `values` twice (an unread, read-only alias)
  dispatch(ctx, "training:reduce", () => SHADER, [values, target ?? values, y], [n, MODES[mode], ignore >>> 0], [1]);
  return y;
}
