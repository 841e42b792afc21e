import { Trainer, type Backend, type Tensor } from "@attn/core";
import { compileSource } from "@attn/dsl";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { compareTensors, type Tolerance } from "./compare.js";
import { FIXTURES_DIR } from "./load.js";
import { decodeTensor, type TensorJson } from "./tensor-json.js";

/** A training run recorded from PyTorch: model, initial weights, data, loss, optimizer, the loss curve. */
export interface TrainingCase {
  readonly name: string;
  readonly kind: "training";
  readonly source: string;
  readonly model?: string;
  readonly hyper?: Record<string, number | boolean | string>;
  readonly loss: { readonly op: string; readonly output: string; readonly reduction: string };
  readonly optimizer: { readonly op: string; readonly lr: number; readonly attrs: Record<string, number | boolean> };
  readonly steps: number;
  readonly initialWeights: Record<string, TensorJson>;
  readonly inputs: Record<string, TensorJson>;
  readonly target: TensorJson;
  /** losses[k]: the loss before update k + 1. */
  readonly losses: TensorJson;
  readonly finalWeights: Record<string, TensorJson>;
}

/** The loss curve must match within this absolute error (issue #3); weights within the default tolerance. */
export const CURVE_ATOL = 1e-4;
const WEIGHTS_TOL: Tolerance = { atol: 1e-5, rtol: 1e-4 };

/** Reads `fixtures/training/*.json`. */
export async function loadTrainingCases(dir: string = FIXTURES_DIR): Promise<TrainingCase[]> {
  const folder = join(dir, "training");
  const files = (await readdir(folder)).filter((f) => f.endsWith(".json")).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(folder, f), "utf8")) as TrainingCase));
}

const LOSSES: Record<string, "mse" | "cross_entropy" | "bce" | "bce_with_logits"> = {
  mse_loss: "mse", cross_entropy: "cross_entropy", binary_cross_entropy: "bce", binary_cross_entropy_with_logits: "bce_with_logits",
};

/**
 * Trains the case's model with the Trainer on `backend`, full batch, and compares the loss of every step
 * and the final weights with PyTorch's. Returns the failures (empty when it matches) and the largest
 * loss deviation.
 */
export async function runTrainingCase(backend: Backend, c: TrainingCase): Promise<{ failures: string[]; maxLossError: number }> {
  const { graph, diagnostics } = await compileSource(c.source, { file: `${c.name}.attn`, model: c.model, hyper: c.hyper });
  if (!graph) throw new Error(`${c.name}: the .attn source does not compile:\n${diagnostics.map((d) => d.message).join("\n")}`);
  const kind = LOSSES[c.loss.op];
  if (!kind || c.optimizer.op !== "adam_update") throw new Error(`${c.name}: unsupported loss ${c.loss.op} or optimizer ${c.optimizer.op}`);
  const a = c.optimizer.attrs;
  const weights = new Map(Object.entries(c.initialWeights).map(([k, t]) => [k, decodeTensor(t, k)]));
  const trainer = await Trainer.create(graph, backend, {
    loss: { kind, output: c.loss.output },
    optimizer: { kind: a.decoupled ? "adamw" : "adam", lr: c.optimizer.lr, betas: [a.beta1 as number, a.beta2 as number], eps: a.eps as number, weightDecay: a.weight_decay as number },
    weights,
  });
  try {
    const batch: Record<string, Tensor> = { ...Object.fromEntries(Object.entries(c.inputs).map(([k, t]) => [k, decodeTensor(t, k)])), target: decodeTensor(c.target, "target") };
    const want = decodeTensor(c.losses, "losses").data;
    const failures: string[] = [];
    let maxLossError = 0;
    for (let k = 0; k < c.steps; k++) {
      const { loss } = await trainer.step(batch);
      const err = Math.abs(loss - want[k]);
      maxLossError = Math.max(maxLossError, err);
      if (err > CURVE_ATOL) failures.push(`step ${k + 1}: loss ${loss}, PyTorch ${want[k]} (|Δ| ${err.toExponential(2)} > ${CURVE_ATOL})`);
    }
    const final = await trainer.weights();
    for (const [k, t] of Object.entries(c.finalWeights)) {
      const diff = compareTensors(final.get(k)!, decodeTensor(t, k), WEIGHTS_TOL);
      if (diff) failures.push(`final ${k}: ${diff}`);
    }
    return { failures, maxLossError };
  } finally {
    trainer.dispose();
  }
}
