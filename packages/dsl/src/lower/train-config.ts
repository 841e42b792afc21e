import type { LossSpec, OptimizerSpec } from "@attn/core";
import type * as A from "../ast/ast.js";
import { Diagnostics, Hints, format } from "../diagnostics/messages.js";
import { suggest } from "../diagnostics/suggest.js";
import { LowerError } from "./lower-error.js";
import { describeVal, type Val } from "./values.js";

/** A learning-rate schedule by name; `warmup` steps ramp linearly from 0. */
export interface ScheduleSpec {
  readonly kind: "constant" | "linear" | "cosine";
  readonly warmup: number;
}

/** What a model's `train { }` section says. Every field may be overridden from the command line. */
export interface TrainConfig {
  readonly loss: LossSpec;
  readonly optimizer: OptimizerSpec;
  readonly schedule?: ScheduleSpec;
  readonly batchSize?: number;
  readonly epochs?: number;
  readonly clipNorm?: number;
  readonly freeze?: readonly string[];
  readonly seed?: number;
  readonly earlyStopping?: { readonly metric: string; readonly mode: "min" | "max"; readonly patience: number };
}

const KEYS = ["loss", "optimizer", "schedule", "batch_size", "epochs", "clip", "freeze", "seed", "early_stopping", "patience"] as const;
const LOSSES: Record<string, LossSpec["kind"]> = { cross_entropy: "cross_entropy", mse: "mse", bce: "bce", bce_with_logits: "bce_with_logits" };
const OPTIMIZERS = ["sgd", "adam", "adamw"] as const;
const SCHEDULES = ["constant", "linear", "cosine"] as const;

/** A call (`adam(lr: 0.01)`) or a bare word (`constant`), with its arguments evaluated. */
interface Choice {
  readonly name: string;
  readonly span: A.SourceSpan;
  readonly positional: readonly A.Expr[];
  readonly named: ReadonlyMap<string, { readonly value: Val; readonly span: A.SourceSpan }>;
}

/**
 * Reads a model's `train { }` section. `evaluate` evaluates an expression in the model's scope (so
 * hyperparameters may be used: `lr: learning_rate`). Throws a LowerError at the offending entry.
 */
export function readTrainConfig(section: A.TrainSection, model: string, outputs: readonly string[], evaluate: (e: A.Expr) => Val): TrainConfig {
  const entries = new Map<string, A.TrainEntry>();
  for (const e of section.entries) {
    if (!(KEYS as readonly string[]).includes(e.key.name)) {
      const guess = suggest(e.key.name, KEYS);
      throw new LowerError(Diagnostics.UnknownTrainKey, { name: e.key.name }, e.key.span, guess ? format(Hints.DidYouMean, { name: guess }) : `settings: ${KEYS.join(", ")}`);
    }
    if (entries.has(e.key.name)) throw new LowerError(Diagnostics.DuplicateDeclaration, { what: "setting", name: e.key.name }, e.key.span);
    entries.set(e.key.name, e);
  }
  const bad = (key: string, expected: string, found: string, span: A.SourceSpan): never => {
    throw new LowerError(Diagnostics.TrainValue, { key, expected, found }, span);
  };
  const num = (key: string, v: { value: Val; span: A.SourceSpan }, int = false, min = Number.NEGATIVE_INFINITY): number => {
    if (v.value.kind !== "number" || (int && !Number.isInteger(v.value.value)) || v.value.value < min) {
      bad(key, int ? `an integer ≥ ${min}` : `a number ≥ ${min}`, describeVal(v.value), v.span);
    }
    return (v.value as { value: number }).value;
  };
  const choice = (key: string, options: readonly string[], what: string): Choice | undefined => {
    const e = entries.get(key);
    if (!e) return undefined;
    const ex = e.value;
    const name = ex.kind === "Name" ? ex.name : ex.kind === "Call" ? ex.callee.name : undefined;
    const nameSpan = ex.kind === "Call" ? ex.callee.span : ex.span;
    if (name === undefined) return bad(key, `a ${what} such as \`${options[0]}(...)\``, "an expression", ex.span);
    if (!options.includes(name)) {
      const guess = suggest(name, options);
      throw new LowerError(Diagnostics.UnknownTrainChoice, { what, name }, nameSpan, guess ? format(Hints.DidYouMean, { name: guess }) : `choose one of ${options.join(", ")}`);
    }
    const named = new Map<string, { value: Val; span: A.SourceSpan }>();
    if (ex.kind === "Call") for (const n of ex.named) named.set(n.name.name, { value: evaluate(n.value), span: n.value.span });
    return { name, span: ex.span, positional: ex.kind === "Call" ? ex.args : [], named };
  };
  const only = (c: Choice, allowed: readonly string[]) => {
    for (const [k, v] of c.named) {
      if (!allowed.includes(k)) {
        const guess = suggest(k, allowed);
        throw new LowerError(Diagnostics.UnknownArgument, { callee: `\`${c.name}\``, name: k }, v.span, guess ? format(Hints.DidYouMean, { name: guess }) : undefined);
      }
    }
  };

  // loss: cross_entropy(logits, ignore_index: 0, label_smoothing: 0.1, target: "tgt")
  const lossC = choice("loss", Object.keys(LOSSES), "loss");
  if (!lossC) throw new LowerError(Diagnostics.MissingArgument, { callee: "`train`", name: "loss" }, section.span);
  only(lossC, lossC.name === "cross_entropy" ? ["ignore_index", "label_smoothing", "target"] : ["target"]);
  const out = lossC.positional[0];
  if (!out || out.kind !== "Name") return bad("loss", "the model output it reads as first argument, e.g. `mse(y)`", "none", lossC.span);
  if (!outputs.includes(out.name)) {
    const guess = suggest(out.name, outputs);
    throw new LowerError(Diagnostics.LossOutputNotFound, { name: out.name, model }, out.span, guess ? format(Hints.DidYouMean, { name: guess }) : `its outputs are ${outputs.join(", ")}`);
  }
  const target = lossC.named.get("target");
  if (target && target.value.kind !== "string") bad("loss", "`target:` as a string (the target input's name)", describeVal(target.value), target.span);
  const ign = lossC.named.get("ignore_index");
  const ls = lossC.named.get("label_smoothing");
  const loss: LossSpec = {
    kind: LOSSES[lossC.name],
    output: out.name,
    ...(target ? { target: (target.value as { value: string }).value } : {}),
    ...(ign ? { ignoreIndex: num("loss", ign, true) } : {}),
    ...(ls ? { labelSmoothing: num("loss", ls, false, 0) } : {}),
  };

  // optimizer: adam(lr: 0.001, betas: [0.9, 0.98], eps: 1e-9, weight_decay: 0.01) | sgd(lr:, momentum:, nesterov:, ...)
  const optC = choice("optimizer", OPTIMIZERS, "optimizer") ?? { name: "adam", span: section.span, positional: [], named: new Map() };
  const lrV = optC.named.get("lr");
  const lr = lrV ? num("optimizer", lrV, false, 0) : optC.name === "sgd" ? bad("optimizer", "`lr:` (SGD has no default learning rate)", "none", optC.span) : 0.001;
  let optimizer: OptimizerSpec;
  if (optC.name === "sgd") {
    only(optC, ["lr", "momentum", "dampening", "nesterov", "weight_decay"]);
    const nest = optC.named.get("nesterov");
    if (nest && nest.value.kind !== "bool") bad("optimizer", "`nesterov: true` or `false`", describeVal(nest.value), nest.span);
    const g = (k: string) => (optC.named.has(k) ? num("optimizer", optC.named.get(k)!, false, 0) : undefined);
    optimizer = { kind: "sgd", lr, momentum: g("momentum") ?? 0, dampening: g("dampening") ?? 0, nesterov: nest ? (nest.value as { value: boolean }).value : false, weightDecay: g("weight_decay") ?? 0 };
  } else {
    only(optC, ["lr", "betas", "eps", "weight_decay"]);
    const betasV = optC.named.get("betas");
    let betas: [number, number] | undefined;
    if (betasV) {
      const v = listOf(betasV.value, "number");
      if (!v || v.length !== 2) return bad("optimizer", "`betas: [b1, b2]`", describeVal(betasV.value), betasV.span);
      betas = [v[0], v[1]];
    }
    const g = (k: string) => (optC.named.has(k) ? num("optimizer", optC.named.get(k)!, false, 0) : undefined);
    optimizer = { kind: optC.name as "adam" | "adamw", lr, ...(betas ? { betas } : {}), ...(g("eps") !== undefined ? { eps: g("eps") } : {}), ...(g("weight_decay") !== undefined ? { weightDecay: g("weight_decay") } : {}) };
  }

  const schedC = choice("schedule", SCHEDULES, "schedule");
  if (schedC) only(schedC, ["warmup"]);
  const warm = schedC?.named.get("warmup");
  const schedule: ScheduleSpec | undefined = schedC ? { kind: schedC.name as ScheduleSpec["kind"], warmup: warm ? num("schedule", warm, true, 0) : 0 } : undefined;

  const plain = (key: string) => {
    const e = entries.get(key);
    return e ? { value: evaluate(e.value), span: e.value.span } : undefined;
  };
  const bs = plain("batch_size");
  const ep = plain("epochs");
  const clip = plain("clip");
  const seed = plain("seed");
  const freezeV = plain("freeze");
  let freeze: string[] | undefined;
  if (freezeV) {
    freeze = listOf(freezeV.value, "string") ?? bad("freeze", 'a list of parameter name patterns such as `["encoder.*"]`', describeVal(freezeV.value), freezeV.span);
  }
  // early_stopping: "valid_loss" (lower is better for losses, higher for anything else), patience: 3
  const esV = plain("early_stopping");
  const patV = plain("patience");
  let earlyStopping: TrainConfig["earlyStopping"];
  if (esV) {
    if (esV.value.kind !== "string") bad("early_stopping", 'the metric to watch, e.g. `"valid_loss"`', describeVal(esV.value), esV.span);
    const metric = (esV.value as { value: string }).value;
    earlyStopping = { metric, mode: /loss$/.test(metric) ? "min" : "max", patience: patV ? num("patience", patV, true, 1) : 3 };
  } else if (patV) bad("patience", "an `early_stopping` metric next to it", "no metric", patV.span);
  return {
    loss,
    optimizer,
    ...(schedule ? { schedule } : {}),
    ...(bs ? { batchSize: num("batch_size", bs, true, 1) } : {}),
    ...(ep ? { epochs: num("epochs", ep, true, 1) } : {}),
    ...(clip ? { clipNorm: num("clip", clip, false, 0) } : {}),
    ...(seed ? { seed: num("seed", seed, true, 0) } : {}),
    ...(freeze ? { freeze } : {}),
    ...(earlyStopping ? { earlyStopping } : {}),
  };
}

/** The items of a list value when all are of `kind`, else undefined. */
function listOf(v: Val, kind: "number"): number[] | undefined;
function listOf(v: Val, kind: "string"): string[] | undefined;
function listOf(v: Val, kind: "number" | "string"): (number | string)[] | undefined {
  if (v.kind !== "list") return undefined;
  const out: (number | string)[] = [];
  for (const x of v.items) {
    if (x.kind !== kind) return undefined;
    out.push((x as { value: number | string }).value);
  }
  return out;
}
