import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { f32Bits } from "./f32-bits.js";
import { checkScalars, WGSL_OPTIMIZER } from "./optimizer-common.js";

/**
 * `adam_update(param, grad, exp_avg, exp_avg_sq, step, lr[, max_exp_avg_sq]) → param', exp_avg', exp_avg_sq'[, max']`:
 * one torch.optim.Adam / AdamW step (PyTorch 1.13 single-tensor formula, as backend-cpu's optimizers.ts),
 * one thread per element, with t = step + 1:
 *
 * ```
 * g = maximize ? −grad : grad
 * AdamW (decoupled): param ·= 1 − lr·weight_decay      Adam: g += weight_decay·param
 * m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²;   v̂ = amsgrad ? max(max_exp_avg_sq, v) : v
 * param' = param − (lr / (1 − β1ᵗ)) · m / (sqrt(v̂) / sqrt(1 − β2ᵗ) + eps)
 * ```
 * The step counter lives on the device, so the bias corrections are formed in the shader. 1 − βᵗ in f32
 * by `1 − pow(β, t)` would lose about three digits when β = 0.999 (the 1 cancels); instead it is
 * −expm1(t·ln β) with ln β from the host in double and an expm1 that keeps full relative precision
 * (Kahan's trick), so the correction matches the CPU's double value to a few f32 ulps.
 *
 * Two passes, one thread per element each: the moments, then the parameter (and AMSGrad's max) from the
 * stored moments, because a fused pass would bind more storage buffers than WebGPU guarantees (8). The
 * parameter pass reads the float32 moments, which is what PyTorch's float32 tensors hold too.
 *
 * Uniforms: n, β1, 1 − β1, β2, 1 − β2, ln β1, ln β2, eps, weight_decay (f32 bits), decoupled, maximize.
 */

const HEAD = `${WGSL_UNIFORMS}${WGSL_OPTIMIZER}
fn f(k: u32) -> f32 { return bitcast<f32>(u(k)); }
`;

/** Pass 1: the moments m and v (and the gradient with maximize / L2 decay folded in). */
const MOMENTS = `${HEAD}
@group(0) @binding(1) var<storage, read> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read> M: array<f32>;
@group(0) @binding(4) var<storage, read> V: array<f32>;
@group(0) @binding(5) var<storage, read> STEP: array<f32>;
@group(0) @binding(6) var<storage, read> LR: array<f32>;
@group(0) @binding(7) var<storage, read_write> OM: array<f32>;
@group(0) @binding(8) var<storage, read_write> OV: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  if (bad_scalars(STEP[0], LR[0])) { OM[i] = nan(); OV[i] = nan(); return; }
  var g = select(G[i], -G[i], u(10u) == 1u);
  let wd = f(8u);
  if (u(9u) == 0u && wd != 0.0) { g += wd * P[i]; }
  OM[i] = f(1u) * M[i] + f(2u) * g;
  OV[i] = f(3u) * V[i] + f(4u) * g * g;
}`;

/** Pass 2: the bias-corrected parameter update from the new moments (and the AMSGrad running max). */
function applyShader(amsgrad: boolean): string {
  return `${HEAD}
@group(0) @binding(1) var<storage, read> P: array<f32>;
@group(0) @binding(2) var<storage, read> M: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> STEP: array<f32>;
@group(0) @binding(5) var<storage, read> LR: array<f32>;
@group(0) @binding(6) var<storage, read_write> OP: array<f32>;
${amsgrad ? `@group(0) @binding(7) var<storage, read> MX: array<f32>;
@group(0) @binding(8) var<storage, read_write> OMX: array<f32>;` : ""}
// e^x − 1 without cancellation near 0: the rounding error of exp(x) is divided back out by log(exp(x))
fn expm1(x: f32) -> f32 {
  let e = exp(x);
  if (e == 1.0) { return x; }
  let em1 = e - 1.0;
  if (em1 == -1.0) { return -1.0; }
  return em1 * x / log(e);
}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  let step = STEP[0]; let lr = LR[0];
  if (bad_scalars(step, lr)) { OP[i] = nan();${amsgrad ? " OMX[i] = nan();" : ""} return; }
  let t = step + 1.0;
  let bc1 = -expm1(t * f(5u));
  let bc2_sqrt = sqrt(-expm1(t * f(6u)));
  var p = P[i];
  if (u(9u) == 1u) { p *= 1.0 - lr * f(8u); }
  ${amsgrad ? "let v_hat = max(MX[i], V[i]); OMX[i] = v_hat;" : "let v_hat = V[i];"}
  OP[i] = p - (lr / bc1) * M[i] / (sqrt(v_hat) / bc2_sqrt + f(7u));
}`;
}

interface AdamAttrs {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weight_decay: number;
  readonly decoupled: boolean;
  readonly amsgrad: boolean;
  readonly maximize: boolean;
}

/** adam_update → [param', exp_avg', exp_avg_sq'] (+ max_exp_avg_sq' with amsgrad). */
export const adamUpdateKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<AdamAttrs>(ctx, inputs, attrs);
  const [param, grad, m, v, step, lr, max] = inputs as GpuTensor[];
  checkScalars(ctx, step, lr, 4);
  const outs = outputs.map((o) => ctx.pool.tensor("float32", o.shape));
  const n = param.size;
  if (n > 0) {
    const uniforms = [
      n, f32Bits(a.beta1), f32Bits(1 - a.beta1), f32Bits(a.beta2), f32Bits(1 - a.beta2), f32Bits(Math.log(a.beta1)), f32Bits(Math.log(a.beta2)),
      f32Bits(a.eps), f32Bits(a.weight_decay), a.decoupled ? 1 : 0, a.maximize ? 1 : 0,
    ];
    // two passes: one fused pass would bind 9 storage buffers (11 with AMSGrad), past WebGPU's default limit of 8
    dispatch(ctx, "adam_update:moments", () => MOMENTS, [param, grad, m, v, step, lr, outs[1], outs[2]], uniforms, groupsFor(n));
    const apply = [param, outs[1], outs[2], step, lr, outs[0], ...(a.amsgrad ? [max, outs[3]] : [])];
    dispatch(ctx, `adam_update:${a.amsgrad ? "amsgrad" : "plain"}`, () => applyShader(a.amsgrad), apply, uniforms, groupsFor(n));
  }
  return outs;
};
