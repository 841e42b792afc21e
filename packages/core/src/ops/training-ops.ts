import type { Dim } from "../dim.js";
import type { TensorType } from "../types.js";
import { formatType } from "../types.js";
import { attr, type AttrSchema } from "./attrs.js";
import { defineOp, type InferContext, type OpDef } from "./op.js";
import { dropoutMaskOp } from "./dropout-mask.js";

/**
 * Losses and optimizer updates, as IR ops so a training step runs on any backend (docs/ir.md, "Losses and
 * optimizers"). Semantics are PyTorch 1.13's (`F.cross_entropy`, `F.mse_loss`, `F.binary_cross_entropy`,
 * `F.binary_cross_entropy_with_logits`, `torch.optim.SGD`, `torch.optim.Adam` / `AdamW` single-tensor
 * formulas); the conformance fixtures (`fixtures/ops/loss.json`, `fixtures/optim/`) hold PyTorch's numbers.
 *
 * Each loss has a fused backward op (`*_grad`, used by the gradient functions in autodiff/grads/loss.ts):
 * the divisor of a `mean` reduction is the element count of a run, which may be symbolic when the graph is
 * built, so the gradient is one kernel rather than a chain of elementwise nodes.
 */

export const REDUCTIONS = ["mean", "sum", "none"] as const;
export type Reduction = (typeof REDUCTIONS)[number];

const reduction = () => attr.oneOf("how per-element losses are combined: mean, sum or none", REDUCTIONS, "mean");

/** Requires `b` to have exactly the shape of `a` (binding symbols); returns the resolved shape. */
function sameShape(ctx: InferContext, a: TensorType, b: TensorType, an: string, bn: string): Dim[] {
  if (a.shape.length !== b.shape.length) ctx.fail(`${bn} ${formatType(b)} must have the shape of ${an} ${formatType(a)}`);
  return a.shape.map((d, i) => ctx.unify(d, b.shape[i], `dim ${i} of ${an} ${formatType(a)} vs ${bn} ${formatType(b)}`));
}

/** Output type of a loss: the per-element shape for `none`, a scalar otherwise. */
function lossType(shape: readonly Dim[], red: Reduction): TensorType {
  return { dtype: "float32", shape: red === "none" ? [...shape] : [] };
}

/** Checks the upstream gradient of a loss: a scalar when reduced, the per-element shape for `none`. */
function checkDy(ctx: InferContext, dy: TensorType, shape: readonly Dim[], red: Reduction): void {
  if (red === "none") sameShape(ctx, { dtype: "float32", shape: [...shape] }, dy, "the per-element loss", "dy");
  else if (dy.shape.length !== 0) ctx.fail(`dy must be a scalar for reduction "${red}", got ${formatType(dy)}`);
}

const crossEntropyAttrs = {
  ignore_index: attr.int("target value that contributes nothing (and is not counted by mean)", -100),
  label_smoothing: attr.float("ε in [0, 1]: the target distribution is (1 − ε)·one_hot + ε/C", 0),
  reduction: reduction(),
};

/** logits [..., C] and target int32 [...]; returns the target shape. */
function crossEntropyShapes(ctx: InferContext, logits: TensorType, target: TensorType, eps: number): Dim[] {
  ctx.minRank(logits, 1, "logits (class dim last)");
  if (!(eps >= 0 && eps <= 1)) ctx.fail(`label_smoothing must be in [0, 1], got ${eps}`);
  const lead = logits.shape.slice(0, -1);
  if (target.shape.length !== lead.length) {
    ctx.fail(`target ${formatType(target)} must have the shape of logits ${formatType(logits)} without its last (class) dim`);
  }
  return lead.map((d, i) => ctx.unify(d, target.shape[i], `dim ${i} of logits ${formatType(logits)} vs target ${formatType(target)}`));
}

const crossEntropy = defineOp({
  name: "cross_entropy",
  summary: "softmax cross-entropy over the last (class) dim with int32 class targets (PyTorch F.cross_entropy)",
  inputs: [{ name: "logits" }, { name: "target", dtypes: ["int32"] }],
  attrs: crossEntropyAttrs,
  infer: (ctx, [logits, target], a) => [lossType(crossEntropyShapes(ctx, logits!, target!, a.label_smoothing), a.reduction)],
});

const crossEntropyGrad = defineOp({
  name: "cross_entropy_grad",
  summary: "d cross_entropy / d logits given the upstream gradient dy",
  inputs: [{ name: "logits" }, { name: "target", dtypes: ["int32"] }, { name: "dy" }],
  attrs: crossEntropyAttrs,
  infer: (ctx, [logits, target, dy], a) => {
    const shape = crossEntropyShapes(ctx, logits!, target!, a.label_smoothing);
    checkDy(ctx, dy!, shape, a.reduction);
    return [{ dtype: "float32", shape: logits!.shape.map((d) => ctx.env.resolve(d)) }];
  },
});

/** An elementwise loss of two same-shaped float tensors, and its fused backward op (→ d input, d target). */
function elementwiseLoss(name: string, summary: string, inNames: [string, string]): OpDef[] {
  const [x, t] = inNames;
  const fwd = defineOp({
    name,
    summary,
    inputs: [{ name: x }, { name: t }],
    attrs: { reduction: reduction() },
    infer: (ctx, [a, b], { reduction: red }) => [lossType(sameShape(ctx, a!, b!, x, t), red)],
  });
  const bwd = defineOp({
    name: `${name}_grad`,
    summary: `gradients of ${name} w.r.t. ${x} and ${t} given the upstream gradient dy`,
    inputs: [{ name: x }, { name: t }, { name: "dy" }],
    attrs: { reduction: reduction() },
    numOutputs: () => 2,
    infer: (ctx, [a, b, dy], { reduction: red }) => {
      const shape = sameShape(ctx, a!, b!, x, t);
      checkDy(ctx, dy!, shape, red);
      return [
        { dtype: "float32", shape },
        { dtype: "float32", shape },
      ];
    },
  });
  return [fwd as OpDef, bwd as OpDef];
}

/** param, grad and every state tensor share one shape; step and lr are float32 scalars. */
function optimizerShapes(ctx: InferContext, inputs: readonly (TensorType | null)[], names: readonly string[]): Dim[] {
  const param = inputs[0]!;
  names.forEach((n, i) => {
    const t = inputs[i];
    if (i === 0 || !t) return;
    if (n === "step" || n === "lr") {
      if (t.shape.length !== 0) ctx.fail(`${n} must be a float32 scalar, got ${formatType(t)}`);
      return;
    }
    sameShape(ctx, param, t, "param", n);
  });
  return param.shape.map((d) => ctx.env.resolve(d));
}

const nonNegative = (ctx: InferContext, what: string, v: number) => {
  if (!(v >= 0)) ctx.fail(`${what} must be ≥ 0, got ${v}`);
};

const SGD_INPUTS = ["param", "grad", "momentum_buf", "step", "lr"] as const;

const sgdUpdate = defineOp({
  name: "sgd_update",
  summary: "one torch.optim.SGD step (1.13 single-tensor formula) → param', momentum_buf'",
  inputs: SGD_INPUTS.map((name) => ({ name })),
  attrs: {
    momentum: attr.float("momentum factor (0 = plain SGD; the buffer passes through unchanged)", 0),
    dampening: attr.float("dampening of the momentum update", 0),
    nesterov: attr.bool("Nesterov momentum (needs momentum > 0 and dampening 0)", false),
    weight_decay: attr.float("L2 penalty added to the gradient", 0),
    maximize: attr.bool("maximise the objective (negate the gradient)", false),
  },
  numOutputs: () => 2,
  infer: (ctx, inputs, a) => {
    nonNegative(ctx, "momentum", a.momentum);
    nonNegative(ctx, "weight_decay", a.weight_decay);
    if (a.nesterov && (a.momentum <= 0 || a.dampening !== 0)) ctx.fail("nesterov momentum requires a momentum > 0 and zero dampening");
    const shape = optimizerShapes(ctx, inputs, SGD_INPUTS);
    return [
      { dtype: "float32", shape },
      { dtype: "float32", shape },
    ];
  },
});

const ADAM_INPUTS = ["param", "grad", "exp_avg", "exp_avg_sq", "step", "lr", "max_exp_avg_sq"] as const;

const adamUpdate = defineOp({
  name: "adam_update",
  summary: "one torch.optim.Adam / AdamW step (1.13 single-tensor formula) → param', exp_avg', exp_avg_sq'[, max_exp_avg_sq']",
  inputs: ADAM_INPUTS.map((name) => ({ name, ...(name === "max_exp_avg_sq" ? { optional: true } : {}) })),
  attrs: {
    beta1: attr.float("decay of the first moment", 0.9),
    beta2: attr.float("decay of the second moment", 0.999),
    eps: attr.float("added to the bias-corrected sqrt of the second moment", 1e-8),
    weight_decay: attr.float("L2 penalty (Adam) or decoupled decay (AdamW)", 0),
    decoupled: attr.bool("AdamW: param ← param·(1 − lr·weight_decay) before the update, instead of adding weight_decay·param to the gradient", false),
    amsgrad: attr.bool("AMSGrad: normalise by the running maximum of the second moment (input and output max_exp_avg_sq)", false),
    maximize: attr.bool("maximise the objective (negate the gradient)", false),
  },
  numOutputs: (a) => (a.amsgrad ? 4 : 3),
  infer: (ctx, inputs, a) => {
    for (const [n, v] of [["beta1", a.beta1], ["beta2", a.beta2]] as const) if (!(v >= 0 && v < 1)) ctx.fail(`${n} must be in [0, 1), got ${v}`);
    nonNegative(ctx, "eps", a.eps);
    nonNegative(ctx, "weight_decay", a.weight_decay);
    const hasMax = inputs.length > 6 && inputs[6] !== null;
    if (a.amsgrad && !hasMax) ctx.fail("amsgrad needs the max_exp_avg_sq input");
    if (!a.amsgrad && hasMax) ctx.fail("max_exp_avg_sq is only read with amsgrad: true");
    const shape = optimizerShapes(ctx, inputs, ADAM_INPUTS);
    return Array.from({ length: a.amsgrad ? 4 : 3 }, () => ({ dtype: "float32" as const, shape }));
  },
});

/** Losses and optimizer updates, as IR ops so a training step runs on any backend. */
export const trainingOps: OpDef<AttrSchema>[] = [
  dropoutMaskOp as OpDef,
  crossEntropy as OpDef,
  crossEntropyGrad as OpDef,
  ...elementwiseLoss("mse_loss", "squared error (pred − target)² (PyTorch F.mse_loss)", ["pred", "target"]),
  ...elementwiseLoss(
    "binary_cross_entropy",
    "−(t·log p + (1 − t)·log(1 − p)) with each log clamped at −100; p must lie in [0, 1] (PyTorch F.binary_cross_entropy)",
    ["p", "target"],
  ),
  ...elementwiseLoss(
    "binary_cross_entropy_with_logits",
    "binary cross-entropy of sigmoid(logits), computed stably (PyTorch F.binary_cross_entropy_with_logits)",
    ["logits", "target"],
  ),
  sgdUpdate as OpDef,
  adamUpdate as OpDef,
];
