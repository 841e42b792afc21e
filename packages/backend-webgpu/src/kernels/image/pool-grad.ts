/**
 * max_pool2d_grad and avg_pool2d_grad. Windows overlap when the stride is smaller than the kernel, and
 * WGSL has no float atomics, so instead of scattering dy each thread owns one element of dx and gathers
 * from every window that contains it (in row-major window order, as the CPU kernel accumulates):
 *  - max: a first pass records each window's winner (`window_argmax`, the very choice the forward kernel
 *    made: first maximum, NaN wins, padding never) as an int32 flat index; dx[e] sums dy over the windows
 *    whose winner is e.
 *  - avg: dx[e] sums dy / (kh·kw) over the windows containing e (padding counts in the divisor).
 */
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { poolUniforms, WGSL_POOL, WGSL_WINDOW_ARGMAX, type PoolAttrs } from "./pool.js";

/** Pass 1 of max_pool2d_grad: Arg[o] = the winner of window o. */
const ARGMAX_WGSL = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Arg: array<i32>;
${WGSL_POOL}${WGSL_WINDOW_ARGMAX}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  Arg[i] = window_argmax(i / (pl_wo() * pl_ho()), (i / pl_wo()) % pl_ho(), i % pl_wo());
}`;

/** One thread per element e of dx: the windows (oh, ow) whose span covers e. */
function gatherShader(mode: "max" | "avg"): string {
  const take = mode === "max" ? "if (Arg[o] == i32(i)) { s += DY[o]; }" : "s += DY[o] / f32(pl_kh() * pl_kw());";
  return `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read_write> DX: array<f32>;
${mode === "max" ? "@group(0) @binding(3) var<storage, read> Arg: array<i32>;" : ""}
${WGSL_POOL}
// windows o·s − p ≤ e ≤ o·s − p + k − 1 along one axis of length n_out: [first, last] (empty when first > last)
fn covering(e: i32, k: i32, s: i32, p: i32, n_out: i32) -> vec2<i32> {
  let lo = e + p - k + 1;
  var first = 0;
  if (lo > 0) { first = (lo + s - 1) / s; }
  let last = min((e + p) / s, n_out - 1);
  return vec2<i32>(first, last);
}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  let iw = i32(i % u32(pl_w())); let ih = i32((i / u32(pl_w())) % u32(pl_h())); let plane = i / u32(pl_w() * pl_h());
  let rh = covering(ih, pl_kh(), pl_sh(), pl_ph(), i32(pl_ho()));
  let rw = covering(iw, pl_kw(), pl_sw(), pl_pw(), i32(pl_wo()));
  var s = 0.0;
  for (var oh = rh.x; oh <= rh.y; oh++) {
    for (var ow = rw.x; ow <= rw.y; ow++) {
      let o = (plane * pl_ho() + u32(oh)) * pl_wo() + u32(ow);
      ${take}
    }
  }
  DX[i] = s;
}`;
}

function poolGradKernel(mode: "max" | "avg"): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<PoolAttrs>(ctx, inputs, attrs);
    const [x, dy] = inputs;
    const [, , Ho, Wo] = dy!.shape;
    const dx = ctx.pool.tensor("float32", outputs[0].shape);
    if (dx.size === 0) return [dx];
    const gather = poolUniforms(dx.size, x!, Ho, Wo, a);
    if (mode === "avg") {
      dispatch(ctx, "avg_pool2d_grad", () => gatherShader("avg"), [dy!, dx], gather, groupsFor(dx.size));
      return [dx];
    }
    const arg = ctx.pool.tensor("int32", dy!.shape);
    if (arg.size > 0) dispatch(ctx, "max_pool2d_grad:argmax", () => ARGMAX_WGSL, [x!, arg], poolUniforms(arg.size, x!, Ho, Wo, a), groupsFor(arg.size));
    dispatch(ctx, "max_pool2d_grad", () => gatherShader("max"), [dy!, dx, arg], gather, groupsFor(dx.size));
    ctx.pool.release(arg);
    return [dx];
  };
}

/** max_pool2d_grad and avg_pool2d_grad, by IR op name. */
export const poolGradKernels: Readonly<Record<string, Kernel>> = {
  max_pool2d_grad: poolGradKernel("max"),
  avg_pool2d_grad: poolGradKernel("avg"),
};
