import { BackendError, Tensor } from "@attn/core";
import { wasmElementwiseFor } from "../../elementwise/wasm.js";
import { inferOutputs, inputName, type Kernel, type KernelContext } from "../../kernel.js";

/**
 * Optimizer updates with PyTorch 1.13's single-tensor formulas (`torch/optim/sgd.py`, `adam.py`,
 * `adamw.py`), element by element in double precision, each output rounded once to float32. `step` is the
 * number of steps already taken (a float32 scalar holding a non-negative integer), `lr` the learning rate
 * of this step (a float32 scalar, so a schedule can change it between runs).
 */

/** Reads the `step` and `lr` scalars, checking their values. */
function scalars(ctx: KernelContext, step: Tensor, lr: Tensor, stepIndex: number): { step: number; lr: number } {
  const s = step.data[0];
  if (!Number.isInteger(s) || s < 0) {
    throw new BackendError(`${ctx.op}: "${inputName(ctx, stepIndex, "step")}" must hold the number of steps already taken (an integer ≥ 0), got ${s}`);
  }
  const l = lr.data[0];
  if (!Number.isFinite(l)) throw new BackendError(`${ctx.op}: the learning rate "${inputName(ctx, stepIndex + 1, "lr")}" is ${l}`);
  return { step: s, lr: l };
}

interface SgdAttrs {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weight_decay: number;
  readonly maximize: boolean;
}

/**
 * `sgd_update(param, grad, momentum_buf, step, lr) → param', momentum_buf'`:
 *
 * ```
 * d = maximize ? −grad : grad
 * d = d + weight_decay·param                          (if weight_decay ≠ 0)
 * if momentum ≠ 0:
 *   buf = step = 0 ? d : momentum·buf + (1 − dampening)·d   (PyTorch starts the buffer at d)
 *   d   = nesterov ? d + momentum·buf : buf
 * param' = param − lr·d
 * ```
 * With momentum 0 the buffer passes through unchanged.
 */
export const sgdUpdateKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<SgdAttrs>(ctx, inputs, attrs);
  const [param, grad, buf] = inputs as Tensor[];
  const { step, lr } = scalars(ctx, inputs[3]!, inputs[4]!, 3);
  const p = param.data as Float32Array;
  const g = grad.data as Float32Array;
  const b = buf.data as Float32Array;
  const n = p.length;
  const outP = new Float32Array(n);
  const outB = a.momentum !== 0 ? new Float32Array(n) : null;
  const sign = a.maximize ? -1 : 1;
  const wd = a.weight_decay;
  const mom = a.momentum;
  const damp = 1 - a.dampening;
  const nesterov = a.nesterov;
  const first = step === 0;
  for (let i = 0; i < n; i++) {
    let d = sign * g[i];
    if (wd !== 0) d += wd * p[i];
    if (outB) {
      const nb = first ? d : mom * b[i] + damp * d;
      outB[i] = nb;
      d = nesterov ? d + mom * nb : nb;
    }
    outP[i] = p[i] - lr * d;
  }
  return [new Tensor("float32", outputs[0].shape, outP), outB ? new Tensor("float32", outputs[1].shape, outB) : buf];
};

interface AdamAttrs {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weight_decay: number;
  readonly decoupled: boolean;
  readonly amsgrad: boolean;
  readonly maximize: boolean;
}

/**
 * `adam_update(param, grad, exp_avg, exp_avg_sq, step, lr[, max_exp_avg_sq]) → param', exp_avg', exp_avg_sq'[, max_exp_avg_sq']`,
 * with t = step + 1:
 *
 * ```
 * g = maximize ? −grad : grad
 * decoupled (AdamW): param = param·(1 − lr·weight_decay)      else if weight_decay ≠ 0: g = g + weight_decay·param
 * m = β1·m + (1 − β1)·g
 * v = β2·v + (1 − β2)·g²
 * v̂ = amsgrad ? max(max_exp_avg_sq, v) : v
 * param' = param − (lr / (1 − β1ᵗ)) · m / (sqrt(v̂) / sqrt(1 − β2ᵗ) + eps)
 * ```
 * eps is added after the bias correction of the second moment, exactly where PyTorch adds it.
 */
export const adamUpdateKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<AdamAttrs>(ctx, inputs, attrs);
  const [param, grad, expAvg, expAvgSq] = inputs as Tensor[];
  const { step, lr } = scalars(ctx, inputs[4]!, inputs[5]!, 4);
  const maxIn = a.amsgrad ? (inputs[6]!.data as Float32Array) : null;
  const p = param.data as Float32Array;
  const g = grad.data as Float32Array;
  const m0 = expAvg.data as Float32Array;
  const v0 = expAvgSq.data as Float32Array;
  const n = p.length;
  const t = step + 1;
  const bc1 = 1 - a.beta1 ** t;
  const bc2Sqrt = Math.sqrt(1 - a.beta2 ** t);
  const stepSize = lr / bc1;
  const decay = a.decoupled ? 1 - lr * a.weight_decay : 1;
  // Attributes in locals: the loop then reads no object properties.
  const beta1 = a.beta1;
  const beta2 = a.beta2;
  const eps = a.eps;
  const wd = a.weight_decay;
  const decoupled = a.decoupled;
  const sign = a.maximize ? -1 : 1;
  const plain = !decoupled && wd === 0 && !maxIn;
  // On a wasm kernel path, plain Adam runs the same loop in WebAssembly (same results, bit for bit).
  const wasm = plain ? wasmElementwiseFor(ctx, n)?.adam(p, g, m0, v0, { beta1, beta2, stepSize, bc2Sqrt, eps, sign }) : null;
  if (wasm) return wasm.map((d, i) => new Tensor("float32", outputs[i].shape, d));
  const outP = new Float32Array(n);
  const outM = new Float32Array(n);
  const outV = new Float32Array(n);
  const outMax = maxIn ? new Float32Array(n) : null;
  if (plain) {
    // The common case (plain Adam): one fused loop, the same arithmetic as the general one below.
    for (let i = 0; i < n; i++) {
      const gi = sign * g[i];
      const m = beta1 * m0[i] + (1 - beta1) * gi;
      const v = beta2 * v0[i] + (1 - beta2) * gi * gi;
      outP[i] = p[i] - (stepSize * m) / (Math.sqrt(v) / bc2Sqrt + eps);
      outM[i] = m;
      outV[i] = v;
    }
  } else {
    for (let i = 0; i < n; i++) {
      let gi = sign * g[i];
      let pi = p[i];
      if (decoupled) pi *= decay;
      else if (wd !== 0) gi += wd * pi;
      const m = beta1 * m0[i] + (1 - beta1) * gi;
      const v = beta2 * v0[i] + (1 - beta2) * gi * gi;
      let vHat = v;
      if (outMax) {
        vHat = Math.max(maxIn![i], Math.fround(v)); // PyTorch takes the max of the stored (float32) values
        outMax[i] = vHat;
      }
      outP[i] = pi - (stepSize * m) / (Math.sqrt(vHat) / bc2Sqrt + eps);
      outM[i] = m;
      outV[i] = v;
    }
  }
  const out = [new Tensor("float32", outputs[0].shape, outP), new Tensor("float32", outputs[1].shape, outM), new Tensor("float32", outputs[2].shape, outV)];
  if (outMax) out.push(new Tensor("float32", outputs[3].shape, outMax));
  return out;
};
