import type { GpuTensor } from "../../buffers.js";
import { f32FromBits } from "../../checks.js";
import { dispatch, FLAT_INDEX, formatIndex, groupsFor, inferOutputs, inputName, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../../kernel.js";
import { checkElements } from "../validate.js";
import { reduceLoss } from "./loss-reduce.js";

/**
 * The elementwise losses of PyTorch 1.13 (mse_loss, binary_cross_entropy, binary_cross_entropy_with_logits)
 * and their fused backward ops, following backend-cpu's kernels formula for formula:
 *
 * | op | ℓ(x, t) | ∂ℓ/∂x | ∂ℓ/∂t |
 * |---|---|---|---|
 * | `mse_loss` | (x − t)² | 2(x − t) | −2(x − t) |
 * | `binary_cross_entropy` | −(t·max(log x, −100) + (1 − t)·max(log(1 − x), −100)) | (x − t) / max(x(1 − x), 1e-12) | log(1 − x) − log x |
 * | `binary_cross_entropy_with_logits` | (1 − t)·x + m + log1p(e^(−\|x\|)), m = max(−x, 0) | σ(x) − t | −x |
 *
 * One thread per element writes ℓ (the `none` result, or the input of the workgroup-tree reduction for
 * `mean` / `sum`, see loss-reduce.ts). The logits form uses log1p(e^(−|x|)), which is the CPU's
 * log(e^(−m) + e^(−x−m)) rearranged so that f32 keeps the tiny tail of a large |x|. binary_cross_entropy
 * and its gradient check that every prediction is a probability in [0, 1] (a check dispatch, ../validate.ts):
 * the first one that is not fails the run with the cpu backend's error once the run completes. The shaders
 * still give NaN there, a result the failed run never returns.
 */

type Reduction = "mean" | "sum" | "none";

interface LossWgsl {
  /** Body of `fn loss(x: f32, t: f32) -> f32`. */
  readonly loss: string;
  /** Body of `fn grad(x: f32, t: f32) -> vec2<f32>` (∂ℓ/∂x, ∂ℓ/∂t). */
  readonly grad: string;
  /** Records the data check of the first input, if the loss has one. */
  readonly check?: (ctx: KernelContext, x: GpuTensor) => void;
}

/** binary_cross_entropy's inputs must be probabilities (message as the cpu backend's). */
function checkProbabilities(ctx: KernelContext, p: GpuTensor): void {
  checkElements(ctx, "probabilities", "probability", p, [], (h) =>
    `${ctx.op}: every element of "${inputName(ctx, 0, "p")}" must be a probability in [0, 1], got ${f32FromBits(h.bits)} at position ${formatIndex(h.index, p.shape)} ` +
      `(use binary_cross_entropy_with_logits on logits)`);
}

const LOSSES: Readonly<Record<string, LossWgsl>> = {
  mse_loss: {
    loss: "let d = x - t; return d * d;",
    grad: "let d = x - t; return vec2<f32>(2.0 * d, -2.0 * d);",
  },
  binary_cross_entropy: {
    loss: `if (!(x >= 0.0 && x <= 1.0)) { return nan(); }
  return -(t * max(safe_log(x), -100.0) + (1.0 - t) * max(safe_log(1.0 - x), -100.0));`,
    grad: `if (!(x >= 0.0 && x <= 1.0)) { return vec2<f32>(nan(), nan()); }
  return vec2<f32>((x - t) / max((1.0 - x) * x, 1e-12), safe_log(1.0 - x) - safe_log(x));`,
    check: checkProbabilities,
  },
  binary_cross_entropy_with_logits: {
    loss: "return (1.0 - t) * x + max(-x, 0.0) + log1p(exp(-abs(x)));",
    grad: "return vec2<f32>(sigmoid(x) - t, -x);",
  },
};

/** log with the CPU's edge values (the WGSL builtin's result at 0 and below is undefined). */
const HELPERS = `${WGSL_FLOAT}
fn safe_log(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan(); }
  if (x == 0.0) { return neg_inf(); }
  return log(x);
}
// log(1 + e) accurate for small e (Goldberg's trick: the rounding error of 1 + e cancels)
fn log1p(e: f32) -> f32 {
  let v = 1.0 + e;
  if (v == 1.0) { return e; }
  return log(v) * e / (v - 1.0);
}
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
`;

function lossShader(body: string): string {
  return `${WGSL_UNIFORMS}${HELPERS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<f32>;
@group(0) @binding(3) var<storage, read_write> L: array<f32>;
fn loss(x: f32, t: f32) -> f32 { ${body} }
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  L[i] = loss(X[i], T[i]);
}`;
}

/** Uniforms: n, then whether dy is per element (`none`), then whether a scalar dy is divided by n (`mean`). */
function gradShader(body: string): string {
  return `${WGSL_UNIFORMS}${HELPERS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<f32>;
@group(0) @binding(3) var<storage, read> DY: array<f32>;
@group(0) @binding(4) var<storage, read_write> DX: array<f32>;
@group(0) @binding(5) var<storage, read_write> DT: array<f32>;
fn grad(x: f32, t: f32) -> vec2<f32> { ${body} }
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  let n = u(0);
  if (i >= n) { return; }
  var w: f32;
  if (u(1u) == 1u) { w = DY[i]; } else if (u(2u) == 1u) { w = DY[0] / f32(n); } else { w = DY[0]; }
  let g = grad(X[i], T[i]);
  DX[i] = w * g.x;
  DT[i] = w * g.y;
}`;
}

function lossKernel(op: string, def: LossWgsl): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ reduction: Reduction }>(ctx, inputs, attrs);
    const [x, t] = inputs as [GpuTensor, GpuTensor];
    const n = x.size;
    def.check?.(ctx, x);
    const per = ctx.pool.tensor("float32", x.shape);
    if (n > 0) dispatch(ctx, `${op}:loss`, () => lossShader(def.loss), [x, t, per], [n], groupsFor(n));
    if (a.reduction === "none") return [per];
    const y = reduceLoss(ctx, per, n, a.reduction, outputs[0].shape);
    ctx.pool.release(per);
    return [y];
  };
}

function lossGradKernel(op: string, def: LossWgsl): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ reduction: Reduction }>(ctx, inputs, attrs);
    const [x, t, dy] = inputs as [GpuTensor, GpuTensor, GpuTensor];
    const n = x.size;
    def.check?.(ctx, x);
    const dx = ctx.pool.tensor("float32", outputs[0].shape);
    const dt = ctx.pool.tensor("float32", outputs[1].shape);
    const uniforms = [n, a.reduction === "none" ? 1 : 0, a.reduction === "mean" ? 1 : 0];
    if (n > 0) dispatch(ctx, `${op}:grad`, () => gradShader(def.grad), [x, t, dy, dx, dt], uniforms, groupsFor(n));
    return [dx, dt];
  };
}

/** mse_loss, binary_cross_entropy, binary_cross_entropy_with_logits and their `_grad` ops, by IR op name. */
export const elementwiseLossKernels: Readonly<Record<string, Kernel>> = Object.fromEntries(
  Object.entries(LOSSES).flatMap(([op, def]) => [
    [op, lossKernel(op, def)],
    [`${op}_grad`, lossGradKernel(op, def)],
  ]),
);
