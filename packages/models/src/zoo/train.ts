import { AttnError, Trainer, decodeCheckpoint, sizeOf, type Backend, type Dataset, type Graph, type Tensor, type TrainerEvent } from "@attn/core";
import { compileFile, trainerOptions, type TrainConfig } from "@attn/dsl";
import { cmudictSplits } from "../g2p/cmudict.js";
import { G2PDataset, bucketedBatches, g2pExamples } from "../g2p/dataset.js";
import { FASHION_MNIST_DEBIAN_DIR, FashionDataset, loadFashionMnist } from "../fashion/fashion-mnist.js";
import { G2PModel } from "../g2p/g2p-model.js";
import type { ZooModel } from "./registry.js";

/** One line of a zoo training log: the epoch's mean training loss and validation metrics. */
export interface EpochRecord {
  readonly epoch: number;
  readonly train_loss: number;
  /** Seconds since training started (evaluation included). */
  readonly seconds: number;
  readonly [metric: string]: number;
}

export interface ZooTrainOptions {
  /** Epochs (default: the `.attn` file's `train { epochs }`). */
  readonly epochs?: number;
  /** Train on the first `limit` examples only (quick checks; the shipped weights use all). */
  readonly limit?: number;
  /** Validate on the first `validLimit` examples only. */
  readonly validLimit?: number;
  /** Folder with the Fashion-MNIST IDX files (default Debian's). */
  readonly fashionDir?: string;
  /** Starting weights (fine-tuning); others are initialised from the seed. */
  readonly weights?: ReadonlyMap<string, Tensor>;
  /** Learning rate instead of the file's (fine-tuning usually wants a smaller one). */
  readonly lr?: number;
  readonly onEvent?: (e: TrainerEvent) => void;
  /** Called after each epoch with its record, whether it is the best so far, and the weights (logs, keeping the best). */
  readonly onEpoch?: (r: EpochRecord, best: boolean, weights: Map<string, Tensor>) => Promise<void> | void;
  /** Called after each epoch, after `onEpoch`, with a checkpoint (weights, optimizer state, position) to resume from. */
  readonly saveCheckpoint?: (bytes: Uint8Array) => Promise<void>;
  /** Continue an interrupted run: its last checkpoint, the epochs already logged and the best weights so far. */
  readonly resume?: { readonly checkpoint: Uint8Array; readonly history: readonly EpochRecord[]; readonly best: Map<string, Tensor> };
  readonly signal?: AbortSignal;
}

export interface ZooTrainResult {
  /** Weights of the best epoch by the validation metric (G2P: valid WER; Fashion-MNIST: the last epoch). */
  readonly weights: Map<string, Tensor>;
  readonly history: EpochRecord[];
  readonly best: EpochRecord;
  readonly seconds: number;
  readonly parameters: number;
  readonly examples: number;
  readonly config: TrainConfig;
}

/** Compiles a zoo model's `.attn` file; throws with the diagnostics if it does not compile. */
export async function compileZooModel(model: ZooModel): Promise<{ graph: Graph; train: TrainConfig }> {
  const r = await compileFile(model.file);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.graph || !r.train || errors.length) throw new AttnError(`${model.file}: ${errors.map((d) => d.message).join("; ") || "no train { } section"}`);
  return { graph: r.graph, train: r.train };
}

/** Number of scalar parameters of a graph (parameter shapes are concrete). */
export function parameterCount(graph: Graph): number {
  return graph.params.reduce((n, p) => n + sizeOf(graph.values[p.value].type.shape as number[]), 0);
}

/**
 * Trains a zoo model from its `.attn` file's `train { }` settings on `backend`: G2P on the CMU dictionary's
 * train split with length-bucketed batches, validated by greedy WER/PER on the valid split after each epoch
 * (the best epoch's weights are kept); Fashion-MNIST on the 60k training images (its test set is only read
 * by {@link evaluateFashion} afterwards).
 */
export async function trainZooModel(model: ZooModel, backend: Backend, opts: ZooTrainOptions = {}): Promise<ZooTrainResult> {
  const { graph, train } = await compileZooModel(model);
  const config: TrainConfig = { ...train, ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}), ...(opts.lr !== undefined ? { optimizer: { ...train.optimizer, lr: opts.lr } } : {}) };
  const epochs = config.epochs ?? 10;
  const batchSize = config.batchSize ?? 64;
  const task = model.task === "g2p" ? g2pTask(model, backend, batchSize, opts) : fashionTask(batchSize, opts);
  const resumeAt = opts.resume ? decodeCheckpoint(opts.resume.checkpoint).progress.epoch : 0;
  // Epochs logged after the checkpoint was written (a run stopped in between) run again.
  const history: EpochRecord[] = (opts.resume?.history ?? []).filter((r) => r.epoch <= resumeAt);
  // A resumed run's clock continues from the time its log already holds.
  const t0 = performance.now() - 1000 * (history.at(-1)?.seconds ?? 0);
  const prior = history.reduce<EpochRecord | undefined>((b, r) => (!b || task.better(r, b) ? r : b), undefined);
  let best: { record: EpochRecord; weights: Map<string, Tensor> } | undefined = prior && opts.resume ? { record: prior, weights: opts.resume.best } : undefined;
  let lossSum = 0;
  let seen = 0;
  const topts = { ...trainerOptions(config, epochs * task.batchesPerEpoch), ...(opts.weights ? { weights: opts.weights } : {}) };
  const trainer = opts.resume ? await Trainer.resume(graph, backend, topts, opts.resume.checkpoint) : await Trainer.create(graph, backend, topts);
  try {
    await trainer.fit(task.data, {
      epochs,
      batchSize,
      ...(task.batchOrder ? { batchOrder: task.batchOrder } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.saveCheckpoint ? { saveCheckpoint: opts.saveCheckpoint } : {}),
      onEvent: (e) => {
        if (e.type === "step") {
          lossSum += e.loss * e.examples;
          seen += e.examples;
        }
        opts.onEvent?.(e);
      },
      evaluate: async (t) => {
        const weights = await t.weights();
        const metrics = await task.validate(weights);
        const record: EpochRecord = { epoch: t.state.epoch + 1, train_loss: lossSum / Math.max(1, seen), ...metrics, seconds: (performance.now() - t0) / 1000 };
        lossSum = seen = 0;
        history.push(record);
        const isBest = !best || task.better(record, best.record);
        if (isBest) best = { record, weights };
        await opts.onEpoch?.(record, isBest, weights);
        return metrics;
      },
    });
  } finally {
    trainer.dispose();
  }
  if (!best) throw new AttnError(`training ${model.name} stopped before its first epoch ended`);
  return { weights: best.weights, history, best: best.record, seconds: (performance.now() - t0) / 1000, parameters: parameterCount(graph), examples: task.data.size, config };
}

/** What differs between the zoo's tasks: the data, how an epoch is batched, validated and compared. */
interface TaskSetup {
  readonly data: Dataset;
  readonly batchesPerEpoch: number;
  readonly batchOrder?: (epoch: number, seed: number) => number[][];
  validate(weights: ReadonlyMap<string, Tensor>): Promise<Record<string, number>>;
  better(a: EpochRecord, b: EpochRecord): boolean;
}

function g2pTask(model: ZooModel, backend: Backend, batchSize: number, opts: ZooTrainOptions): TaskSetup {
  const splits = cmudictSplits();
  const examples = g2pExamples(splits.train).slice(0, opts.limit);
  const valid = splits.valid.slice(0, opts.validLimit);
  return {
    data: new G2PDataset(examples),
    batchesPerEpoch: bucketedBatches(examples, batchSize, 0, 0).length,
    // Length-bucketed batches: words vary from 1 to 22 letters, and padding to the longest costs time.
    batchOrder: (epoch, seed) => bucketedBatches(examples, batchSize, seed, epoch),
    async validate(weights) {
      const g2p = await G2PModel.load(model, backend, weights);
      try {
        const s = await g2p.evaluate(valid);
        return { valid_wer: s.wer, valid_per: s.per };
      } finally {
        g2p.dispose();
      }
    },
    better: (a, b) => a.valid_wer < b.valid_wer,
  };
}

function fashionTask(batchSize: number, opts: ZooTrainOptions): TaskSetup {
  const set = loadFashionMnist("train", opts.fashionDir ?? FASHION_MNIST_DEBIAN_DIR);
  const limited = opts.limit !== undefined && opts.limit < set.count ? { ...set, count: opts.limit } : set;
  return {
    data: new FashionDataset(limited),
    batchesPerEpoch: Math.ceil(limited.count / batchSize),
    // Fashion-MNIST has no validation split and its test set is for the final figure only: the record holds
    // the training loss, and the last epoch is kept.
    validate: async () => ({}),
    better: () => true,
  };
}
