import type { Backend, Executable } from "../backend.js";
import { BackendError, WeightsError } from "../errors.js";
import type { Graph } from "../ir/graph.js";
import { validateGraph } from "../ir/validate.js";
import { dce } from "../passes/dce.js";
import { hoistScanInvariants } from "../passes/hoist-scan-invariants.js";
import { Tensor } from "../tensor.js";
import { bindParams } from "../weights/bind-params.js";
import { decodeCheckpoint, encodeCheckpoint, type TrainingProgress } from "./checkpoint.js";
import { batchesOf, epochOrder, type Dataset } from "./dataset.js";
import { accuracy, mergeAccuracy } from "./metrics.js";
import { buildTrainingGraph, STEP_STATE, type TrainingGraph, type TrainingGraphOptions } from "./training-graph.js";

export interface TrainerOptions extends TrainingGraphOptions {
  /** Learning-rate multiplier for a step (0-based), e.g. a warm-up/decay schedule; default constant 1. */
  readonly schedule?: (step: number) => number;
  /** Starting weights (PyTorch names); parameters not given are initialised from `seed`. */
  readonly weights?: ReadonlyMap<string, Tensor>;
  /** Seed for initialisation and shuffling (default 0). */
  readonly seed?: number;
}

export interface StepResult {
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm?: number;
}

/** Progress events of `fit`, for progress bars and logs. */
export type TrainerEvent =
  | ({ readonly type: "step"; readonly epoch: number; readonly batch: number; readonly batches: number; readonly examples: number } & StepResult)
  | { readonly type: "epoch"; readonly epoch: number; readonly trainLoss: number; readonly metrics: Readonly<Record<string, number>> }
  | { readonly type: "checkpoint"; readonly step: number }
  | { readonly type: "early_stop"; readonly epoch: number; readonly best: number };

export interface FitOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly shuffle?: boolean;
  /**
   * The batches of an epoch, as example indices, in place of shuffling and cutting (e.g. length-bucketed
   * batches, which waste less on padding). Must be deterministic in (seed, epoch) so a resumed run sees the
   * same batches.
   */
  readonly batchOrder?: (epoch: number, seed: number) => number[][];
  /** Metrics after each epoch (e.g. validation loss or accuracy); `validation` adds `valid_loss`. */
  readonly validation?: Dataset;
  readonly evaluate?: (trainer: Trainer) => Promise<Record<string, number>>;
  /** Stop when `metric` has not improved for `patience` epochs. */
  readonly earlyStopping?: { readonly metric: string; readonly mode: "min" | "max"; readonly patience: number };
  readonly onEvent?: (e: TrainerEvent) => void;
  /** Save a checkpoint every this many steps, and at the end of each epoch. */
  readonly checkpointEvery?: number;
  readonly saveCheckpoint?: (bytes: Uint8Array, step: number) => Promise<void>;
  /** Stops after the current step when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Trains a model graph on any backend: the whole step (forward, loss, backward, clipping, optimizer
 * update) is one compiled graph whose parameters and optimizer state stay resident on the backend;
 * each step moves in a batch and the learning rate, and reads back the loss.
 */
export class Trainer {
  private progress: TrainingProgress;

  private constructor(
    readonly model: Graph,
    readonly plan: TrainingGraph,
    private readonly exe: Executable,
    private readonly lossExe: Executable,
    private readonly opts: TrainerOptions,
    progress: TrainingProgress,
  ) {
    this.progress = progress;
  }

  /** Builds the training step for `model` and compiles it (and the loss-only graph) on `backend`. */
  static async create(model: Graph, backend: Backend, opts: TrainerOptions, resume?: { tensors: ReadonlyMap<string, Tensor>; progress: TrainingProgress }): Promise<Trainer> {
    validateGraph(model);
    // Work that a scan would repeat every step runs once (e.g. an attention's key projection); the
    // gradient of a hoisted value accumulates over the steps, so training is unchanged but faster.
    const plan = buildTrainingGraph(dce(hoistScanInvariants(model)), opts);
    const seed = opts.seed ?? 0;
    const start = resume?.tensors ?? opts.weights ?? new Map<string, Tensor>();
    // Checkpoints hold optimizer state too; weights files only model parameters.
    const params = bindParams(plan.graph, start, { seed, rejectUnknown: resume !== undefined, source: resume ? "checkpoint" : "weights" });
    if (resume) {
      const missing = plan.graph.params.filter((p) => !resume.tensors.has(p.name)).map((p) => p.name);
      if (missing.length) throw new WeightsError(`checkpoint: missing ${missing.length} tensor(s) of this training setup: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""} (was it written with another optimizer?)`);
    }
    const exe = await backend.compile(plan.graph, { params });
    const lossParams = new Map([...params].filter(([k]) => plan.lossGraph.params.some((p) => p.name === k)));
    const lossExe = await backend.compile(plan.lossGraph, { params: lossParams });
    const progress = resume?.progress ?? { step: 0, epoch: 0, batchInEpoch: 0, seed };
    return new Trainer(model, plan, exe, lossExe, opts, progress);
  }

  /** Continues a run from checkpoint bytes (weights, optimizer state, step, position in the epoch). */
  static async resume(model: Graph, backend: Backend, opts: TrainerOptions, bytes: Uint8Array, source = "checkpoint"): Promise<Trainer> {
    const { tensors, progress } = decodeCheckpoint(bytes, source);
    return Trainer.create(model, backend, { ...opts, seed: progress.seed }, { tensors, progress });
  }

  get state(): TrainingProgress {
    return this.progress;
  }

  get trainable(): readonly string[] {
    return this.plan.trainable;
  }

  get frozen(): readonly string[] {
    return this.plan.frozen;
  }

  /** The learning rate of step `step` (base rate × schedule). */
  lrAt(step: number): number {
    return this.opts.optimizer.lr * (this.opts.schedule ? this.opts.schedule(step) : 1);
  }

  /** One optimizer step on `batch` (model inputs and the target). Returns the loss before the update. */
  async step(batch: Readonly<Record<string, Tensor>>): Promise<StepResult> {
    const lr = this.lrAt(this.progress.step);
    const want = ["loss", ...(this.opts.clipNorm !== undefined ? ["grad_norm"] : [])];
    const feeds: Record<string, Tensor> = { ...batch, [this.plan.lrInput]: Tensor.scalar(lr) };
    if (this.plan.dropoutInput) feeds[this.plan.dropoutInput] = Tensor.scalar(this.progress.step, "int32");
    const out = await this.exe.run(feeds, { outputs: want });
    const loss = out.loss.data[0];
    if (!Number.isFinite(loss)) throw new BackendError(`the loss became ${loss} at step ${this.progress.step} (learning rate ${lr}); lower the learning rate or clip gradients`);
    this.progress = { ...this.progress, step: this.progress.step + 1 };
    return { step: this.progress.step, loss, lr, ...(out.grad_norm ? { gradNorm: out.grad_norm.data[0] } : {}) };
  }

  /** Mean loss over a dataset (weighted by batch size), with the current weights, no update. */
  async evaluateLoss(data: Dataset, batchSize: number): Promise<number> {
    await this.syncLossWeights();
    let sum = 0;
    for (const idx of batchesOf(epochOrder(data.size, 0, 0, false), batchSize)) {
      const out = await this.lossExe.run(data.batch(idx), { outputs: ["loss"] });
      sum += out.loss.data[0] * idx.length;
    }
    return sum / Math.max(1, data.size);
  }

  /**
   * Accuracy of the loss's output against the targets (cross-entropy losses only): the argmax over the
   * last axis, with the loss's `ignore_index` not counted.
   */
  async evaluateAccuracy(data: Dataset, batchSize: number): Promise<number> {
    const spec = this.opts.loss;
    if (spec.kind !== "cross_entropy") throw new BackendError(`accuracy needs a cross-entropy loss, this run uses ${spec.kind}`);
    await this.syncLossWeights();
    const target = spec.target ?? "target";
    const parts = [];
    for (const idx of batchesOf(epochOrder(data.size, 0, 0, false), batchSize)) {
      const batch = data.batch(idx);
      const out = await this.lossExe.run(batch, { outputs: [spec.output] });
      parts.push(accuracy(out[spec.output], batch[target], { ignoreIndex: spec.ignoreIndex ?? -100 }));
    }
    return mergeAccuracy(parts).accuracy;
  }

  /**
   * Trains for `epochs` over `train` from where the run stands (a resumed run continues mid-epoch),
   * emitting events, evaluating and checkpointing after each epoch, stopping early when asked.
   */
  async fit(train: Dataset, fit: FitOptions): Promise<TrainingProgress> {
    if (!Number.isInteger(fit.batchSize) || fit.batchSize < 1) throw new BackendError(`batch size must be a positive integer, got ${fit.batchSize}`);
    while (this.progress.epoch < fit.epochs) {
      const { epoch, batchInEpoch } = this.progress;
      const batches = fit.batchOrder ? fit.batchOrder(epoch, this.progress.seed) : batchesOf(epochOrder(train.size, this.progress.seed, epoch, fit.shuffle ?? true), fit.batchSize);
      let lossSum = 0;
      let seen = 0;
      for (let k = batchInEpoch; k < batches.length; k++) {
        const r = await this.step(train.batch(batches[k]));
        lossSum += r.loss * batches[k].length;
        seen += batches[k].length;
        this.progress = { ...this.progress, batchInEpoch: k + 1 };
        fit.onEvent?.({ type: "step", epoch, batch: k + 1, batches: batches.length, examples: batches[k].length, ...r });
        if (fit.saveCheckpoint && fit.checkpointEvery && this.progress.step % fit.checkpointEvery === 0 && k + 1 < batches.length) {
          await fit.saveCheckpoint(await this.checkpoint(), this.progress.step);
          fit.onEvent?.({ type: "checkpoint", step: this.progress.step });
        }
        if (fit.signal?.aborted) return this.progress;
      }
      const metrics: Record<string, number> = {};
      if (fit.validation) metrics.valid_loss = await this.evaluateLoss(fit.validation, fit.batchSize);
      if (fit.evaluate) Object.assign(metrics, await fit.evaluate(this));
      fit.onEvent?.({ type: "epoch", epoch, trainLoss: seen ? lossSum / seen : NaN, metrics });
      let { best, badEpochs } = this.progress;
      const es = fit.earlyStopping;
      if (es) {
        const v = metrics[es.metric];
        if (v === undefined) throw new BackendError(`early stopping watches "${es.metric}", but the epoch's metrics are ${Object.keys(metrics).join(", ") || "none"}`);
        const better = best === undefined || (es.mode === "min" ? v < best : v > best);
        best = better ? v : best;
        badEpochs = better ? 0 : (badEpochs ?? 0) + 1;
      }
      this.progress = { ...this.progress, epoch: epoch + 1, batchInEpoch: 0, ...(best !== undefined ? { best, badEpochs } : {}) };
      if (fit.saveCheckpoint) {
        await fit.saveCheckpoint(await this.checkpoint(), this.progress.step);
        fit.onEvent?.({ type: "checkpoint", step: this.progress.step });
      }
      if (es && (badEpochs ?? 0) >= es.patience) {
        fit.onEvent?.({ type: "early_stop", epoch, best: best! });
        break;
      }
    }
    return this.progress;
  }

  /** Every resident tensor (weights and optimizer state) and the progress, as checkpoint bytes. */
  async checkpoint(): Promise<Uint8Array> {
    const tensors = await this.exe.readParams();
    const step = tensors.get(STEP_STATE)?.data[0];
    if (step !== undefined && step !== this.progress.step) throw new BackendError(`internal: optimizer step ${step} disagrees with the trainer's ${this.progress.step}`);
    return encodeCheckpoint(tensors, this.progress, { model: this.model.name });
  }

  /** The model's weights (PyTorch names, no optimizer state), as host tensors. */
  async weights(): Promise<Map<string, Tensor>> {
    const all = await this.exe.readParams();
    return new Map(this.model.params.map((p) => [p.name, all.get(p.name)!]));
  }

  /** The loss graph was compiled with the initial weights; evaluation needs the current ones. */
  private async syncLossWeights(): Promise<void> {
    await this.lossExe.writeParams(await this.weights());
  }

  dispose(): void {
    this.exe.dispose();
    this.lossExe.dispose();
  }
}
