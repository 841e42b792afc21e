import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { f32Bits } from "./f32-bits.js";
import { checkScalars, WGSL_OPTIMIZER } from "./optimizer-common.js";

/**
 * `sgd_update(param, grad, momentum_buf, step, lr) → param', momentum_buf'`: one torch.optim.SGD step
 * (PyTorch 1.13 single-tensor formula, as backend-cpu's optimizers.ts), one thread per element:
 *
 * ```
 * d = maximize ? −grad : grad;  d += weight_decay·param
 * momentum ≠ 0:  buf = step = 0 ? d : momentum·buf + (1 − dampening)·d;  d = nesterov ? d + momentum·buf : buf
 * param' = param − lr·d
 * ```
 * With momentum 0 the buffer passes through unchanged (a view of the input, no copy), and the shader
 * variant without the buffer bindings runs. The attrs go in the uniforms (f32 bits; 1 − dampening is
 * formed in double on the host): n, momentum, 1 − dampening, weight_decay, nesterov, maximize.
 */

function shader(momentum: boolean): string {
  return `${WGSL_UNIFORMS}${WGSL_OPTIMIZER}
@group(0) @binding(1) var<storage, read> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read> STEP: array<f32>;
@group(0) @binding(4) var<storage, read> LR: array<f32>;
@group(0) @binding(5) var<storage, read_write> OP: array<f32>;
${momentum ? `@group(0) @binding(6) var<storage, read> B: array<f32>;
@group(0) @binding(7) var<storage, read_write> OB: array<f32>;` : ""}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  let step = STEP[0]; let lr = LR[0];
  if (bad_scalars(step, lr)) {
    OP[i] = nan();${momentum ? " OB[i] = nan();" : ""}
    return;
  }
  let p = P[i];
  var d = select(G[i], -G[i], u(5u) == 1u);
  let wd = bitcast<f32>(u(3u));
  if (wd != 0.0) { d += wd * p; }
  ${momentum ? `let mom = bitcast<f32>(u(1u));
  let nb = select(mom * B[i] + bitcast<f32>(u(2u)) * d, d, step == 0.0);
  OB[i] = nb;
  d = select(nb, d + mom * nb, u(4u) == 1u);` : ""}
  OP[i] = p - lr * d;
}`;
}

interface SgdAttrs {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weight_decay: number;
  readonly maximize: boolean;
}

/** sgd_update → [param', momentum_buf']. */
export const sgdUpdateKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<SgdAttrs>(ctx, inputs, attrs);
  const [param, grad, buf, step, lr] = inputs as GpuTensor[];
  const momentum = a.momentum !== 0;
  checkScalars(ctx, step, lr, 3);
  const outP = ctx.pool.tensor("float32", outputs[0].shape);
  const outB = momentum ? ctx.pool.tensor("float32", outputs[1].shape) : buf.view(outputs[1].shape);
  const n = param.size;
  if (n > 0) {
    const uniforms = [n, f32Bits(a.momentum), f32Bits(1 - a.dampening), f32Bits(a.weight_decay), a.nesterov ? 1 : 0, a.maximize ? 1 : 0];
    const tensors = momentum ? [param, grad, step, lr, outP, buf, outB] : [param, grad, step, lr, outP];
    dispatch(ctx, `sgd_update:${momentum ? "momentum" : "plain"}`, () => shader(momentum), tensors, uniforms, groupsFor(n));
  }
  return [outP, outB];
};
