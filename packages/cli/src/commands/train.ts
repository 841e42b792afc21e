import {
  JsonlDataset, Trainer, decodeCheckpoint, writeSafetensors, globToRegExp,
  type ExampleSchema, type Graph, type OptimizerSpec, type TrainerEvent, type ParamGroup,
} from "@attn/core";
import { trainerOptions, type TrainConfig } from "@attn/dsl";
import { compileOrFail, type CompileFlags } from "../compile.js";
import { CliError, loadWeights, readInput, writeFileAtomic } from "../io.js";
import { ProgressBar } from "../progress.js";
import { backendByName } from "./run.js";
import { appendFileSync } from "node:fs";

export interface TrainFlags extends CompileFlags {
  data?: string;
  valid?: string;
  backend: string;
  weights?: string;
  resume?: string;
  checkpoint?: string;
  checkpointEvery?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: string;
  clip?: number;
  seed?: number;
  freeze: string[];
  lrGroups: string[];
  log?: string;
  weightsOut?: string;
  live: boolean;
}

/** The fields a training example needs: the model's inputs and the loss target. */
export function exampleSchema(graph: Graph, cfg: TrainConfig): ExampleSchema {
  // Axis 0 is the batch; concrete sizes must match exactly, symbolic ones (sequence lengths) may vary.
  const axes = (shape: readonly (number | string)[]) => shape.slice(1).map((d) => (typeof d === "number" ? d : null));
  const schema: Record<string, { dtype: "float32" | "int32" | "bool"; rank: number; shape: (number | null)[] }> = {};
  for (const id of graph.inputs) {
    const v = graph.values[id];
    schema[v.name] = { dtype: v.type.dtype, rank: v.type.shape.length - 1, shape: axes(v.type.shape) };
  }
  const out = graph.outputs.find((o) => o.name === cfg.loss.output)!;
  const shape = axes(graph.values[out.value].type.shape);
  schema[cfg.loss.target ?? "target"] = cfg.loss.kind === "cross_entropy" ? { dtype: "int32", rank: shape.length - 1, shape: shape.slice(0, -1) } : { dtype: "float32", rank: shape.length, shape };
  return schema;
}

/** `--set`-style overrides of the model's `train { }` section from the command line. */
export function effectiveConfig(file: string, cfg: TrainConfig | undefined, f: TrainFlags): TrainConfig {
  if (!cfg) throw new CliError(`${file} has no \`train { ... }\` section; add one with at least \`loss: ...\` (see docs/language.md)`);
  let optimizer: OptimizerSpec = cfg.optimizer;
  if (f.optimizer !== undefined) {
    if (!["adam", "adamw", "sgd"].includes(f.optimizer)) throw new CliError(`--optimizer must be adam, adamw or sgd, got "${f.optimizer}"`);
    optimizer = { kind: f.optimizer as OptimizerSpec["kind"], lr: cfg.optimizer.lr } as OptimizerSpec;
  }
  if (f.lr !== undefined) optimizer = { ...optimizer, lr: f.lr };
  return {
    ...cfg,
    optimizer,
    ...(f.epochs !== undefined ? { epochs: f.epochs } : {}),
    ...(f.batchSize !== undefined ? { batchSize: f.batchSize } : {}),
    ...(f.clip !== undefined ? { clipNorm: f.clip } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
    ...(f.freeze.length ? { freeze: [...(cfg.freeze ?? []), ...f.freeze] } : {}),
  };
}

function parseGroups(specs: readonly string[]): ParamGroup[] {
  return specs.map((s) => {
    const eq = s.lastIndexOf("=");
    const lr = Number(s.slice(eq + 1));
    if (eq <= 0 || !Number.isFinite(lr) || lr < 0) throw new CliError(`--lr-group expects PATTERN=LR (e.g. "encoder.*=1e-4"), got "${s}"`);
    return { match: s.slice(0, eq), lr };
  });
}

/** `attn train FILE --data train.jsonl ...`: trains with the model's `train { }` settings (flags override). */
export async function train(path: string, f: TrainFlags, out: (s: string) => void, err: (s: string) => void, rawErr: (s: string) => void): Promise<number> {
  const { graph, result } = await compileOrFail(path, f);
  const cfg = effectiveConfig(path, result.train, f);
  if (!f.data) throw new CliError("attn train needs --data FILE.jsonl (one example per line: the model's inputs and `target`)");
  const schema = exampleSchema(graph, cfg);
  const data = JsonlDataset.parse((await readInput(f.data, "data file")).toString("utf8"), schema, f.data);
  const valid = f.valid ? JsonlDataset.parse((await readInput(f.valid, "validation file")).toString("utf8"), schema, f.valid) : undefined;
  const epochs = cfg.epochs ?? 10;
  const batchSize = cfg.batchSize ?? 32;
  const totalSteps = epochs * Math.ceil(data.size / batchSize);
  const frozenNames = graph.params.filter((p) => (cfg.freeze ?? []).some((g) => globToRegExp(g).test(p.name))).map((p) => p.name);
  const opts = {
    ...trainerOptions(cfg, totalSteps),
    groups: parseGroups(f.lrGroups),
    ...(f.weights ? { weights: await loadWeights(f.weights) } : {}),
  };
  const backend = backendByName(f.backend);
  const trainer = f.resume
    ? await Trainer.resume(graph, backend, opts, new Uint8Array(await readInput(f.resume, "checkpoint")), f.resume)
    : await Trainer.create(graph, backend, opts);
  try {
    const nTrain = trainer.trainable.reduce((n, name) => n + graph.values[graph.params.find((p) => p.name === name)!.value].type.shape.reduce<number>((a, d) => a * (d as number), 1), 0);
    err(`training ${graph.name} on ${f.backend}: ${data.size} examples, batch ${batchSize}, ${epochs} epochs, ${cfg.optimizer.kind} lr ${cfg.optimizer.lr}` +
      `; ${trainer.trainable.length} trainable tensors (${nTrain.toLocaleString("en-US")} parameters)` + (frozenNames.length ? `, ${frozenNames.length} frozen` : "") +
      (f.resume ? `; resumed at step ${trainer.state.step} (epoch ${trainer.state.epoch + 1}, batch ${trainer.state.batchInEpoch})` : ""));
    const bar = new ProgressBar(rawErr, f.live, epochs, totalSteps, trainer.state.step);
    // Synchronous appends: a step is CPU-bound work that does not yield to the event loop, so async writes
    // would queue up until the end (and could land out of order); a log must be readable while training runs.
    const log = (e: TrainerEvent) => {
      if (f.log) appendFileSync(f.log, JSON.stringify({ ...e, time: new Date().toISOString() }) + "\n");
    };
    await trainer.fit(data, {
      epochs,
      batchSize,
      ...(valid ? { validation: valid } : {}),
      ...(cfg.earlyStopping ? { earlyStopping: cfg.earlyStopping } : {}),
      ...(f.checkpointEvery ? { checkpointEvery: f.checkpointEvery } : {}),
      ...(f.checkpoint ? { saveCheckpoint: (bytes: Uint8Array) => writeFileAtomic(f.checkpoint!, bytes) } : {}),
      onEvent: (e) => {
        bar.update(e);
        log(e);
      },
    });
    if (f.weightsOut) {
      await writeFileAtomic(f.weightsOut, writeSafetensors(await trainer.weights(), { format: "pt", producer: "attn train" }));
      err(`wrote weights to ${f.weightsOut}`);
    }
    out(`done: step ${trainer.state.step}`);
    return 0;
  } finally {
    trainer.dispose();
  }
}

/** `attn eval FILE --weights W --data D`: mean loss (and accuracy for cross-entropy) with given weights. */
export async function evaluate(path: string, f: TrainFlags & { json: boolean }, out: (s: string) => void): Promise<number> {
  const { graph, result } = await compileOrFail(path, f);
  const cfg = effectiveConfig(path, result.train, f);
  if (!f.data) throw new CliError("attn eval needs --data FILE.jsonl");
  if (!f.weights) throw new CliError("attn eval needs --weights FILE.safetensors (or a checkpoint)");
  const bytes = new Uint8Array(await readInput(f.weights, "weights file"));
  let weights;
  try {
    weights = decodeCheckpoint(bytes, f.weights).tensors;
  } catch {
    weights = await loadWeights(f.weights);
  }
  const modelWeights = new Map([...weights].filter(([k]) => graph.params.some((p) => p.name === k)));
  const data = JsonlDataset.parse((await readInput(f.data, "data file")).toString("utf8"), exampleSchema(graph, cfg), f.data);
  const trainer = await Trainer.create(graph, backendByName(f.backend), { loss: cfg.loss, optimizer: cfg.optimizer, weights: modelWeights });
  try {
    const loss = await trainer.evaluateLoss(data, cfg.batchSize ?? 32);
    const metrics: Record<string, number> = { loss };
    if (cfg.loss.kind === "cross_entropy") metrics.accuracy = await trainer.evaluateAccuracy(data, cfg.batchSize ?? 32);
    out(f.json ? JSON.stringify({ examples: data.size, ...metrics }) : `${data.size} examples: ${Object.entries(metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join("  ")}`);
    return 0;
  } finally {
    trainer.dispose();
  }
}
