import { ShapeError } from "../errors.js";
import { formatShape } from "../dim.js";
import type { Tensor } from "../tensor.js";

/**
 * Classification metrics on host tensors (no IR): the prediction is the argmax of the logits over the
 * last axis (first index on ties and NaN counting as the maximum, exactly as the `argmax` op), compared with int32 class
 * targets. Results carry the counts so batches can be summed ({@link mergeAccuracy}).
 */
export interface AccuracyResult {
  /** Positions whose prediction equals the target. */
  readonly correct: number;
  /** Positions counted (targets equal to `ignoreIndex` are not). */
  readonly total: number;
  /** correct / total, or 0 when nothing was counted. */
  readonly accuracy: number;
}

export interface AccuracyOptions {
  /** Targets equal to this value are skipped (PyTorch's `ignore_index`); default: none for `accuracy`, −100 for `tokenAccuracy`. */
  readonly ignoreIndex?: number;
}

const result = (correct: number, total: number): AccuracyResult => ({ correct, total, accuracy: total > 0 ? correct / total : 0 });

/** Index of the largest of `n` values at `data[off..off+n)`: first index on ties, NaN counts as the maximum (as the `argmax` op). */
function argmaxRow(data: ArrayLike<number>, off: number, n: number): number {
  let best = data[off];
  let bi = 0;
  for (let j = 1; j < n && best === best; j++) {
    const v = data[off + j];
    if (v > best || v !== v) {
      best = v;
      bi = j;
    }
  }
  return bi;
}

function checkClassification(logits: Tensor, targets: Tensor, fn: string): number {
  if (logits.dtype !== "float32") throw new ShapeError(`${fn}: logits must be float32, got ${logits.dtype}`);
  if (targets.dtype !== "int32") throw new ShapeError(`${fn}: targets must be int32 class indices, got ${targets.dtype}`);
  const lead = logits.shape.slice(0, -1);
  if (logits.rank < 1 || targets.rank !== lead.length || targets.shape.some((d, i) => d !== lead[i])) {
    throw new ShapeError(`${fn}: targets ${formatShape(targets.shape)} must have the shape of logits ${formatShape(logits.shape)} without its last (class) dim`);
  }
  return logits.shape[logits.rank - 1];
}

/**
 * Fraction of positions whose argmax over the last axis of `logits` ([N, C], or [..., C]) equals the int32
 * target ([N] / [...]). Targets equal to `opts.ignoreIndex` are not counted.
 */
export function accuracy(logits: Tensor, targets: Tensor, opts: AccuracyOptions = {}): AccuracyResult {
  const C = checkClassification(logits, targets, "accuracy");
  const t = targets.data;
  let correct = 0;
  let total = 0;
  for (let r = 0; r < t.length; r++) {
    if (opts.ignoreIndex !== undefined && t[r] === opts.ignoreIndex) continue;
    total++;
    if (C > 0 && argmaxRow(logits.data, r * C, C) === t[r]) correct++;
  }
  return result(correct, total);
}

/**
 * Token accuracy of a sequence model: logits [B, T, V], targets int32 [B, T]; padding targets equal to
 * `ignoreIndex` (default −100, PyTorch's cross-entropy default) are not counted.
 */
export function tokenAccuracy(logits: Tensor, targets: Tensor, opts: AccuracyOptions = {}): AccuracyResult {
  return accuracy(logits, targets, { ignoreIndex: opts.ignoreIndex ?? -100 });
}

/**
 * Accuracy of binary predictions: `logits > threshold` (default 0, i.e. probability 0.5 for logits fed to
 * `binary_cross_entropy_with_logits`) against float targets of the same shape read as `target ≥ 0.5`.
 */
export function binaryAccuracy(logits: Tensor, targets: Tensor, opts: { readonly threshold?: number } = {}): AccuracyResult {
  if (logits.dtype !== "float32") {
    throw new ShapeError(`binaryAccuracy: logits must be float32, got ${logits.dtype}`);
  }
  if (logits.rank !== targets.rank || logits.shape.some((d, i) => d !== targets.shape[i])) {
    throw new ShapeError(`binaryAccuracy: targets ${formatShape(targets.shape)} must have the shape of logits ${formatShape(logits.shape)}`);
  }
  const th = opts.threshold ?? 0;
  let correct = 0;
  for (let i = 0; i < logits.size; i++) if (logits.data[i] > th === targets.data[i] >= 0.5) correct++;
  return result(correct, logits.size);
}

/** Sums the counts of several results (e.g. one per batch). */
export function mergeAccuracy(results: readonly AccuracyResult[]): AccuracyResult {
  let correct = 0;
  let total = 0;
  for (const r of results) {
    correct += r.correct;
    total += r.total;
  }
  return result(correct, total);
}
