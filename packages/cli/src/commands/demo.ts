import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Trainer, type Backend, type Tensor, type TrainerEvent } from "@attn/core";
import { compileFile, trainerOptions } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";
import { createOnnxBackend } from "@attn/backend-onnx";
import {
  DEFAULT_G2P, G2PDataset, G2PModel, bucketedBatches, cmudictSplits, compileZooModel, g2pExamples, listExamples, readWeights, type LexiconEntry, type ZooModel,
} from "@attn/models";
import type { Io } from "../main.js";
import { CliError, writeFileAtomic } from "../io.js";
import { ProgressBar } from "../progress.js";
import { gridSvg } from "../viz/grid.js";
import { loadG2P, pronunciationHeatmap } from "./translate.js";
import { g2pTestMetrics, formatMetrics } from "./zoo.js";

/** Where the demo writes its pictures unless `--out` says otherwise (relative to the working directory). */
export const DEMO_DIR = "attn-demo";
const SHOWCASE = ["attention", "transformer", "pronunciation", "gigabyte", "kubernetes"];

/**
 * `attn demo [WORD...]`: with the shipped weights and our own CPU backend, pronounces a few words and the
 * ones given, draws the attention of each word as an SVG heatmap, scores the model on the CMU dictionary's
 * test split beside Festival's letter-to-sound rules (on onnxruntime, for speed), and fine-tunes the
 * model (an ensemble's first member) briefly with a progress bar.
 */
export async function demo(words: readonly string[], outDir: string | undefined, io: Io): Promise<number> {
  const out = io.out;
  const t0 = performance.now();
  const secs = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const backend = createCpuBackend();

  let ok = 0;
  for (const ex of listExamples()) {
    const r = await compileFile(ex.path);
    if (r.graph && !r.diagnostics.some((d) => d.severity === "error")) ok++;
    else out(`  example ${ex.name}: FAILED: ${r.diagnostics[0]?.message}`);
  }
  out(`attn demo: ${ok} example models check (one per attention mechanism); now the model zoo, on backend-cpu\n`);

  // The shipped G2P model: an ensemble (`a+b`) or one model; the fine-tuning below trains its first member.
  const g2p = await loadG2P(DEFAULT_G2P, backend, undefined);
  const model = g2p.models[0];
  const list = [...SHOWCASE, ...words];
  let said;
  try {
    said = await g2p.pronounce(list, { alignment: true });
  } catch (e) {
    g2p.dispose();
    throw new CliError((e as Error).message);
  }
  g2p.dispose();
  out(`grapheme-to-phoneme (${g2p.name}: ${g2p.models.length > 1 ? `an ensemble of ${g2p.models.length} models, the mean of their log-probabilities` : model.title}):`);
  const w = Math.max(...list.map((x) => x.length));
  for (const r of said) out(`  ${r.word.padEnd(w)}  /${r.phones.join(" ")}/`);

  const dir = outDir ?? DEMO_DIR;
  mkdirSync(dir, { recursive: true });
  const svgPath = join(dir, "attention.svg");
  await writeFileAtomic(svgPath, gridSvg(said.map((r) => pronunciationHeatmap(r.word, r.phones, r.alignment!)), 3));
  out(`  attention heatmaps (phones × letters${g2p.models.length > 1 ? `, ${model.name}'s attention` : ""}): ${svgPath}\n`);

  // Beam search over the whole test split is the slow part; onnxruntime runs these small decoder steps
  // several times faster than backend-cpu (docs/zoo.md), so the scoring runs there.
  const splits = cmudictSplits();
  out(`scoring on the ${splits.test.length.toLocaleString("en-US")} test words of CMUdict 0.4 (greedy and beam search, on onnxruntime)…`);
  const metrics = await g2pTestMetrics(await loadG2P(DEFAULT_G2P, createOnnxBackend({ runtime: "node" }), undefined), { beam: 5 });
  out(formatMetrics(g2p.name, metrics).split("\n").slice(1).join("\n"));
  out(`  (${secs()} so far)\n`);

  // A short fine-tuning pass: the same training step `attn zoo train` runs, from the shipped weights, at a
  // tenth of the learning rate, on every 30th training word; the valid WER before and after, on every 10th
  // valid word (the splits are in alphabetical order, so a stride samples the whole alphabet).
  const valid = splits.valid.filter((_, i) => i % 10 === 0);
  const weights = readWeights(model.weights);
  const before = await validWer(model, backend, weights, valid);
  const { graph, train } = await compileZooModel(model);
  const examples = g2pExamples(splits.train.filter((_, i) => i % 30 === 0));
  const batch = 64;
  const steps = bucketedBatches(examples, batch, 1, 0).length;
  const cfg = { ...train, optimizer: { ...train.optimizer, lr: train.optimizer.lr / 10 }, schedule: undefined };
  const trainer = await Trainer.create(graph, backend, { ...trainerOptions(cfg, steps), weights, seed: 1 });
  out(`fine-tuning ${model.name} for one pass over ${examples.length.toLocaleString("en-US")} training pronunciations (${steps} steps, batch ${batch}, lr ${cfg.optimizer.lr}):`);
  const bar = new ProgressBar(io.rawErr ?? ((s) => io.err(s.replace(/\n$/, ""))), Boolean(io.errIsTTY), 1, steps, 0);
  try {
    await trainer.fit(new G2PDataset(examples), { epochs: 1, batchSize: batch, batchOrder: (e, s) => bucketedBatches(examples, batch, s, e), onEvent: (e: TrainerEvent) => bar.update(e) });
    const after = await validWer(model, backend, await trainer.weights(), valid);
    out(`  valid WER on ${valid.length} words: ${before.toFixed(1)}% before, ${after.toFixed(1)}% after`);
  } finally {
    trainer.dispose();
  }
  out(`\ndone in ${secs()}. Try: pnpm attn translate <word> --svg heat.svg · pnpm attn predict --svg fashion.svg · pnpm attn zoo list`);
  return 0;
}

async function validWer(model: ZooModel, backend: Backend, weights: ReadonlyMap<string, Tensor>, valid: readonly LexiconEntry[]): Promise<number> {
  const g = await G2PModel.load(model, backend, weights);
  try {
    return (await g.evaluate(valid)).wer;
  } finally {
    g.dispose();
  }
}
