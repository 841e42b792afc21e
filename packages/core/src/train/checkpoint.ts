import { WeightsError } from "../errors.js";
import type { Tensor } from "../tensor.js";
import { readSafetensors, writeSafetensors } from "../weights/safetensors.js";

/** Where a run stands, saved with the tensors so a resumed run continues exactly. */
export interface TrainingProgress {
  /** Optimizer steps taken. */
  readonly step: number;
  /** Epoch in progress (0-based) and how many of its batches are done. */
  readonly epoch: number;
  readonly batchInEpoch: number;
  /** The run's seed: shuffling (and any randomness) derives from (seed, epoch, step). */
  readonly seed: number;
  /** Best validation metric so far and epochs without improvement (early stopping). */
  readonly best?: number;
  readonly badEpochs?: number;
}

const FORMAT = "attn-checkpoint";
const VERSION = "1";

/**
 * A checkpoint is a safetensors file: every resident tensor of the training step (model weights by their
 * PyTorch names, optimizer state under `optimizer.`), plus metadata holding the progress as JSON. Model
 * weights can be read from it by any safetensors reader.
 */
export function encodeCheckpoint(tensors: ReadonlyMap<string, Tensor>, progress: TrainingProgress, extra: Record<string, string> = {}): Uint8Array {
  return writeSafetensors(tensors, { ...extra, format: FORMAT, version: VERSION, progress: JSON.stringify(progress) });
}

export interface DecodedCheckpoint {
  readonly tensors: Map<string, Tensor>;
  readonly progress: TrainingProgress;
  readonly metadata: Record<string, string>;
}

/** Reads a checkpoint; a plain weights file or a damaged one is a WeightsError naming `source`. */
export function decodeCheckpoint(bytes: Uint8Array, source = "checkpoint"): DecodedCheckpoint {
  const { tensors, metadata } = readSafetensors(bytes, source);
  if (metadata.format !== FORMAT) throw new WeightsError(`${source}: not an attn checkpoint (a weights file? use it as --weights instead)`);
  if (metadata.version !== VERSION) throw new WeightsError(`${source}: checkpoint version ${metadata.version} is not supported (this build reads ${VERSION})`);
  let progress: TrainingProgress;
  try {
    progress = JSON.parse(metadata.progress ?? "");
  } catch {
    throw new WeightsError(`${source}: checkpoint progress record is damaged`);
  }
  for (const k of ["step", "epoch", "batchInEpoch", "seed"] as const) {
    if (!Number.isInteger(progress[k]) || progress[k] < 0) throw new WeightsError(`${source}: checkpoint progress has an invalid "${k}"`);
  }
  return { tensors, progress, metadata };
}
