import { BackendError, Tensor } from "@attn/core";
import { wasmElementwiseFor } from "../../elementwise/wasm.js";
import { inferOutputs, inputName, type Kernel, type KernelContext } from "../../kernel.js";
import { formatIndex } from "../../util/strided.js";

/**
 * The elementwise losses of PyTorch 1.13 and their fused backward ops, in double precision, rounded once:
 *
 * | op | ℓ(x, t) | ∂ℓ/∂x | ∂ℓ/∂t |
 * |---|---|---|---|
 * | `mse_loss` | (x − t)² | 2(x − t) | −2(x − t) |
 * | `binary_cross_entropy` | −(t·max(log x, −100) + (1 − t)·max(log(1 − x), −100)) | (x − t) / max(x(1 − x), 1e-12) | log(1 − x) − log x |
 * | `binary_cross_entropy_with_logits` | (1 − t)·x + m + log(e^(−m) + e^(−x−m)), m = max(−x, 0) | σ(x) − t | −x |
 *
 * The BCE gradients are PyTorch's backward formulas (not the derivative of the clamped loss): at x = 0 or 1
 * ∂ℓ/∂x is ±(t or 1 − t)·1e12 and ∂ℓ/∂t is ±inf, as PyTorch gives. `binary_cross_entropy` needs x in [0, 1]
 * (a run error otherwise, as PyTorch). `mean` divides by the element count, `sum` sums, `none` keeps the
 * shape; the gradient kernels scale by dy (a scalar, or per element for `none`).
 */

type Reduction = "mean" | "sum" | "none";
type Loss = (x: number, t: number) => number;
type Grad = (x: number, t: number) => [number, number];

interface LossDef {
  readonly loss: Loss;
  readonly grad: Grad;
  /** Validates the first input (BCE: probabilities). */
  readonly check?: (ctx: KernelContext, x: Tensor) => void;
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

function checkProbabilities(ctx: KernelContext, p: Tensor): void {
  const d = p.data as Float32Array;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (!(v >= 0 && v <= 1)) {
      throw new BackendError(
        `${ctx.op}: every element of "${inputName(ctx, 0, "p")}" must be a probability in [0, 1], got ${v} at position ${formatIndex(i, p.shape)} ` +
          `(use binary_cross_entropy_with_logits on logits)`,
      );
    }
  }
}

const LOSSES: Record<string, LossDef> = {
  mse_loss: {
    loss: (x, t) => (x - t) * (x - t),
    grad: (x, t) => [2 * (x - t), -2 * (x - t)],
  },
  binary_cross_entropy: {
    loss: (x, t) => -(t * Math.max(Math.log(x), -100) + (1 - t) * Math.max(Math.log(1 - x), -100)),
    grad: (x, t) => [(x - t) / Math.max((1 - x) * x, 1e-12), Math.log(1 - x) - Math.log(x)],
    check: checkProbabilities,
  },
  binary_cross_entropy_with_logits: {
    loss: (x, t) => {
      const m = Math.max(-x, 0);
      return (1 - t) * x + m + Math.log(Math.exp(-m) + Math.exp(-x - m));
    },
    grad: (x, t) => [sigmoid(x) - t, -x],
  },
};

/**
 * mse_loss with its own loops (same double arithmetic as the table's formulas, no per-element calls). The
 * reduction sums in four interleaved partial sums (element i into sum i mod 4, then (s0 + s1) + (s2 + s3)):
 * four independent additions per step instead of one chain, and the order the wasm loop uses too.
 */
function mseLoss(ctx: KernelContext, xd: Float32Array, td: Float32Array, reduction: Reduction, shape: number[]): Tensor {
  const n = xd.length;
  if (reduction === "none") {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const e = xd[i] - td[i];
      out[i] = e * e;
    }
    return new Tensor("float32", shape, out);
  }
  let s = wasmElementwiseFor(ctx, n)?.sumSquaredDiff(xd, td) ?? null;
  if (s === null) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const e0 = xd[i] - td[i];
      const e1 = xd[i + 1] - td[i + 1];
      const e2 = xd[i + 2] - td[i + 2];
      const e3 = xd[i + 3] - td[i + 3];
      s0 += e0 * e0;
      s1 += e1 * e1;
      s2 += e2 * e2;
      s3 += e3 * e3;
    }
    for (; i < n; i++) {
      const e = xd[i] - td[i];
      const k = i & 3;
      if (k === 0) s0 += e * e;
      else if (k === 1) s1 += e * e;
      else s2 += e * e;
    }
    s = s0 + s1 + (s2 + s3);
  }
  return new Tensor("float32", [], Float32Array.of(reduction === "mean" ? s / n : s));
}

/** mse_loss_grad's loop: dx = w·2(x − t), dt = w·(−2(x − t)), w = dy[i] (`none`) or `scale`. */
function mseGrad(xd: Float32Array, td: Float32Array, d: Float32Array, none: boolean, scale: number, dx: Float32Array, dt: Float32Array): void {
  const n = xd.length;
  for (let i = 0; i < n; i++) {
    const w = none ? d[i] : scale;
    const e = xd[i] - td[i];
    dx[i] = w * (2 * e);
    dt[i] = w * (-2 * e);
  }
}

function lossKernel(def: LossDef): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ reduction: Reduction }>(ctx, inputs, attrs);
    const [x, t] = inputs as [Tensor, Tensor];
    def.check?.(ctx, x);
    const xd = x.data as Float32Array;
    const td = t.data as Float32Array;
    const n = xd.length;
    if (def === LOSSES.mse_loss) return [mseLoss(ctx, xd, td, a.reduction, outputs[0].shape)];
    if (a.reduction === "none") {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = def.loss(xd[i], td[i]);
      return [new Tensor("float32", outputs[0].shape, out)];
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += def.loss(xd[i], td[i]);
    return [new Tensor("float32", [], Float32Array.of(a.reduction === "mean" ? s / n : s))];
  };
}

function lossGradKernel(def: LossDef): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ reduction: Reduction }>(ctx, inputs, attrs);
    const [x, t, dy] = inputs as [Tensor, Tensor, Tensor];
    def.check?.(ctx, x);
    const xd = x.data as Float32Array;
    const td = t.data as Float32Array;
    const d = dy.data as Float32Array;
    const n = xd.length;
    const none = a.reduction === "none";
    const scale = none ? 1 : a.reduction === "mean" ? d[0] / n : d[0];
    // On a wasm kernel path, the reduced mse gradient runs the same loop in WebAssembly (same results).
    const wasm = def === LOSSES.mse_loss && !none ? wasmElementwiseFor(ctx, n)?.mseGrad(xd, td, scale) : null;
    if (wasm) return [new Tensor("float32", outputs[0].shape, wasm[0]), new Tensor("float32", outputs[1].shape, wasm[1])];
    const dx = new Float32Array(n);
    const dt = new Float32Array(n);
    if (def === LOSSES.mse_loss) {
      mseGrad(xd, td, d, none, scale, dx, dt);
      return [new Tensor("float32", outputs[0].shape, dx), new Tensor("float32", outputs[1].shape, dt)];
    }
    for (let i = 0; i < n; i++) {
      const w = none ? d[i] : scale;
      const [gx, gt] = def.grad(xd[i], td[i]);
      dx[i] = w * gx;
      dt[i] = w * gt;
    }
    return [new Tensor("float32", outputs[0].shape, dx), new Tensor("float32", outputs[1].shape, dt)];
  };
}

export const elementwiseLossKernels: Readonly<Record<string, Kernel>> = Object.fromEntries(
  Object.entries(LOSSES).flatMap(([op, def]) => [
    [op, lossKernel(def)],
    [`${op}_grad`, lossGradKernel(def)],
  ]),
);
