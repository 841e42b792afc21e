import { GraphError } from "../errors.js";
import { buildGradientGraph, gradName } from "../autodiff/backward.js";
import type { Graph, ValueId } from "../ir/graph.js";
import type { GraphBuilder } from "../ir/builder.js";
import { replayGraph } from "../ir/replay.js";
import { clipGradNorm } from "./clip.js";
import type { DType } from "../dtype.js";

/** The loss of a training run: which model output it reads and the target it compares with. */
export interface LossSpec {
  readonly kind: "cross_entropy" | "mse" | "bce" | "bce_with_logits";
  /** The model output holding logits / predictions. */
  readonly output: string;
  /** Name of the graph input that receives the targets (default `target`). */
  readonly target?: string;
  /** Cross-entropy: targets equal to this index do not count (PyTorch `ignore_index`). */
  readonly ignoreIndex?: number;
  /** Cross-entropy label smoothing in [0, 1). */
  readonly labelSmoothing?: number;
}

/** An optimizer with PyTorch's update rule and defaults. */
export type OptimizerSpec =
  | { readonly kind: "sgd"; readonly lr: number; readonly momentum?: number; readonly dampening?: number; readonly nesterov?: boolean; readonly weightDecay?: number }
  | { readonly kind: "adam" | "adamw"; readonly lr: number; readonly betas?: readonly [number, number]; readonly eps?: number; readonly weightDecay?: number };

/** A parameter group: parameters whose full name matches `match` (a glob, `*` any run of characters) train at `lr`. */
export interface ParamGroup {
  readonly match: string;
  readonly lr: number;
}

export interface TrainingGraphOptions {
  readonly loss: LossSpec;
  readonly optimizer: OptimizerSpec;
  /** Clip the global gradient 2-norm to this value (PyTorch `clip_grad_norm_`). */
  readonly clipNorm?: number;
  /** Glob patterns of parameters that do not train (fine-tuning). */
  readonly freeze?: readonly string[];
  /** Per-group learning rates; the first matching group wins, others use `optimizer.lr`. */
  readonly groups?: readonly ParamGroup[];
}

/** The compiled shape of a training step. */
export interface TrainingGraph {
  /** Forward, loss, backward, optimizer updates; outputs `loss` (and `grad_norm` when clipping). */
  readonly graph: Graph;
  /** Loss only (evaluation): the model plus the loss, no backward, no updates. */
  readonly lossGraph: Graph;
  readonly trainable: readonly string[];
  readonly frozen: readonly string[];
  /** The graph input that takes the step's base learning rate (a float32 scalar; schedules set it). */
  readonly lrInput: string;
  readonly targetInput: string;
  /** Present when the model has dropout: the step's int32 scalar input that seeds the masks. */
  readonly dropoutInput?: string;
}

/** Step counter state (float32 scalar, number of steps taken). */
export const STEP_STATE = "optimizer.step";
export const LR_INPUT = "lr";
/** The int32 scalar input of a training step that seeds its dropout masks (the step number). */
export const DROPOUT_STEP_INPUT = "dropout_step";

/**
 * Training-mode dropout: every top-level `dropout(x)` becomes `x · dropout_mask(x, step)`, with the step
 * fed as the input {@link DROPOUT_STEP_INPUT} and one salt per node. Dropout inside a scan body is
 * rejected (its masks would need the step inside the loop).
 */
export function withTrainingDropout(model: Graph): Graph {
  if (!model.nodes.some((n) => n.op === "dropout")) {
    for (const n of model.nodes) {
      const body = n.attrs.body as Graph | undefined;
      if (n.op === "scan" && body?.nodes.some((m) => m.op === "dropout")) {
        throw new GraphError("dropout inside a scan body is not supported in training yet; move it outside the scan", n.span);
      }
    }
    return model;
  }
  const { builder: b, map } = replayGraph({ ...model, nodes: [], outputs: [] }, model.name);
  const step = b.input(DROPOUT_STEP_INPUT, { dtype: "int32", shape: [] });
  let salt = 0;
  for (const n of model.nodes) {
    const ins = n.inputs.map((i) => (i === null ? null : map.get(i)!));
    if (n.op === "dropout" && (n.attrs.p as number) > 0) {
      const mask = b.add1("dropout_mask", [ins[0], step], { p: n.attrs.p, salt: salt++ }, { span: n.span });
      map.set(n.outputs[0], b.add1("mul", [ins[0], mask], {}, { span: n.span, name: model.values[n.outputs[0]].name }));
      continue;
    }
    const outs = b.add(n.op, ins, n.attrs, { span: n.span, names: n.outputs.map((o) => model.values[o].name) });
    n.outputs.forEach((o, i) => map.set(o, outs[i]));
  }
  for (const o of model.outputs) b.output(o.name, map.get(o.value)!, o.role);
  return b.build(model.span);
}

/** `*` matches any run of characters (dots included); everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

function lossNode(b: GraphBuilder, spec: LossSpec, pred: ValueId, target: ValueId): ValueId {
  switch (spec.kind) {
    case "cross_entropy":
      return b.add1("cross_entropy", [pred, target], { ignore_index: spec.ignoreIndex ?? -100, label_smoothing: spec.labelSmoothing ?? 0, reduction: "mean" });
    case "mse":
      return b.add1("mse_loss", [pred, target], { reduction: "mean" });
    case "bce":
      return b.add1("binary_cross_entropy", [pred, target], { reduction: "mean" });
    case "bce_with_logits":
      return b.add1("binary_cross_entropy_with_logits", [pred, target], { reduction: "mean" });
  }
}

/** The model plus its loss: the model's inputs, a target input, and the outputs `loss` plus the model's. */
export function buildLossGraph(model: Graph, spec: LossSpec): Graph {
  const out = model.outputs.find((o) => o.name === spec.output);
  if (!out) throw new GraphError(`the loss reads output "${spec.output}", but ${model.name} has ${model.outputs.map((o) => o.name).join(", ")}`);
  const { builder: b, map } = replayGraph(model, model.name);
  const pred = map.get(out.value)!;
  const predType = b.typeOf(pred);
  const targetName = spec.target ?? "target";
  if (model.inputs.some((i) => model.values[i].name === targetName)) throw new GraphError(`the loss target "${targetName}" clashes with an input of ${model.name}`);
  const targetType: { dtype: DType; shape: typeof predType.shape } =
    spec.kind === "cross_entropy" ? { dtype: "int32", shape: predType.shape.slice(0, -1) } : { dtype: "float32", shape: predType.shape };
  const target = b.input(targetName, targetType);
  b.output("loss", lossNode(b, spec, pred, target));
  return b.build(model.span);
}

/**
 * One training step as a graph: forward, loss, reverse-mode gradients of every trainable parameter,
 * optional global-norm clipping, and the optimizer's update of each parameter and its state, all as IR.
 * Optimizer state lives in `role: "state"` parameters (`optimizer.<param>.<slot>`, `optimizer.step`), so
 * it stays resident on the backend and is saved in checkpoints.
 */
export function buildTrainingGraph(model: Graph, opts: TrainingGraphOptions): TrainingGraph {
  const lossGraph = buildLossGraph(model, opts.loss);
  const trainLoss = buildLossGraph(withTrainingDropout(model), opts.loss);
  const frozenRe = (opts.freeze ?? []).map(globToRegExp);
  const weights = model.params.filter((p) => p.role !== "state");
  const trainable = weights.filter((p) => !frozenRe.some((r) => r.test(p.name))).map((p) => p.name);
  const frozen = weights.map((p) => p.name).filter((n) => !trainable.includes(n));
  if (trainable.length === 0) throw new GraphError(`every parameter of ${model.name} is frozen; nothing would train`);

  const grad = buildGradientGraph(trainLoss, { seeds: { loss: "ones" }, params: trainable });
  const { builder: b, map } = replayGraph(grad, `${model.name}_train`);
  const out = (name: string) => map.get(grad.outputs.find((o) => o.name === name)!.value)!;
  const lr = b.input(LR_INPUT, { dtype: "float32", shape: [] });
  const step = b.param(STEP_STATE, { dtype: "float32", shape: [] }, { kind: "zeros" }, undefined, "state");
  let grads = trainable.map((n) => out(gradName(n)));
  if (opts.clipNorm !== undefined) {
    const { clipped, norm } = clipGradNorm(b, grads, opts.clipNorm);
    grads = clipped;
    b.output("grad_norm", norm);
  }
  const scalar = (v: number) => b.add1("constant", [], { value: { dtype: "float32", shape: [], data: [v] } as never });
  const groups = (opts.groups ?? []).map((g) => ({ re: globToRegExp(g.match), scale: g.lr / opts.optimizer.lr }));
  const o = opts.optimizer;
  trainable.forEach((name, i) => {
    const p = map.get(grad.params.find((x) => x.name === name)!.value)!;
    const type = b.typeOf(p);
    const group = groups.find((g) => g.re.test(name));
    const plr = group && group.scale !== 1 ? b.add1("mul", [lr, scalar(group.scale)]) : lr;
    const state = (slot: string) => b.param(`optimizer.${name}.${slot}`, type, { kind: "zeros" }, undefined, "state");
    if (o.kind === "sgd") {
      const buf = state("momentum_buffer");
      const [np, nb] = b.add("sgd_update", [p, grads[i], buf, step, plr], {
        momentum: o.momentum ?? 0, dampening: o.dampening ?? 0, nesterov: o.nesterov ?? false, weight_decay: o.weightDecay ?? 0,
      });
      b.update(name, np);
      b.update(`optimizer.${name}.momentum_buffer`, nb);
    } else {
      const m = state("exp_avg");
      const v = state("exp_avg_sq");
      const [np, nm, nv] = b.add("adam_update", [p, grads[i], m, v, step, plr], {
        beta1: o.betas?.[0] ?? 0.9, beta2: o.betas?.[1] ?? 0.999, eps: o.eps ?? 1e-8,
        weight_decay: o.weightDecay ?? (o.kind === "adamw" ? 0.01 : 0), decoupled: o.kind === "adamw",
      });
      b.update(name, np);
      b.update(`optimizer.${name}.exp_avg`, nm);
      b.update(`optimizer.${name}.exp_avg_sq`, nv);
    }
  });
  b.update(STEP_STATE, b.add1("add", [step, scalar(1)]));
  const graph = b.build(model.span);
  const dropoutInput = graph.inputs.some((i) => graph.values[i].name === DROPOUT_STEP_INPUT) ? DROPOUT_STEP_INPUT : undefined;
  return { graph, lossGraph, trainable, frozen, lrInput: LR_INPUT, targetInput: opts.loss.target ?? "target", ...(dropoutInput ? { dropoutInput } : {}) };
}
