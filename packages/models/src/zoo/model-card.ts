import { cpus, totalmem } from "node:os";
import type { ZooModel } from "./registry.js";
import type { ZooTrainResult } from "./train.js";

/** Test-split figures for a card: G2P WER/PER (greedy and beam) beside Festival's, or Fashion-MNIST accuracy. */
export type CardMetrics =
  | { readonly task: "g2p"; readonly words: number; readonly greedy: { wer: number; per: number }; readonly beam?: { width: number; wer: number; per: number }; readonly festival: { wer: number; per: number } }
  | { readonly task: "fashion"; readonly images: number; readonly accuracy: number; readonly perClass: readonly { readonly name: string; readonly accuracy: number }[] };

/** What the machine that trained a model was (the card reports it beside the time). */
export function machineSummary(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
}

const pct = (x: number) => `${x.toFixed(2)}%`;

/** A model card in Markdown: what the model is, its data and split, test metrics, how it was trained and how long it took. */
export function modelCard(model: ZooModel, run: ZooTrainResult, metrics: CardMetrics, opts: { command: string; backend: string; machine?: string; date?: string }): string {
  const c = run.config;
  const lines = [
    `# ${model.name}: ${model.title}`,
    "",
    `Model file: \`packages/models/zoo/${model.file.split("/").pop()}\` (${run.parameters.toLocaleString("en-US")} parameters). Weights: \`${model.name}.safetensors\` (PyTorch parameter names).`,
    "",
    "## Data",
    "",
  ];
  if (model.task === "g2p") {
    lines.push(
      "The CMU pronouncing dictionary 0.4 from Debian's `festlex-cmu` (packages/models/data/cmudict, with its licence): 105,538 words, stress dropped, Festival's CMU phone set.",
      "Split by word: FNV-1a-32(word) mod 100, test < 5 (5,283 words), valid 5–9 (5,288), train the rest (94,967 words, 95,121 pronunciations).",
      "A word is correct if the output equals any of its reference pronunciations; PER is the edit distance to the closest reference over its length, summed over words.",
    );
  } else {
    lines.push("Fashion-MNIST (Zalando, MIT) from Debian's `dataset-fashion-mnist`: trained on all 60,000 training images, evaluated once on the 10,000 test images. Pixels scaled to 0…1 and normalised (mean 0.286, std 0.353); no augmentation.");
  }
  lines.push("", "## Test results", "");
  if (metrics.task === "g2p") {
    lines.push("| decoder | WER | PER |", "| --- | ---: | ---: |", `| greedy | ${pct(metrics.greedy.wer)} | ${pct(metrics.greedy.per)} |`);
    if (metrics.beam) lines.push(`| beam ${metrics.beam.width} | ${pct(metrics.beam.wer)} | ${pct(metrics.beam.per)} |`);
    lines.push(`| Festival letter-to-sound rules (peer) | ${pct(metrics.festival.wer)} | ${pct(metrics.festival.per)} |`, "", `On the ${metrics.words.toLocaleString("en-US")} test words. Festival's rules were trained on this whole dictionary, test words included, which flatters them.`);
  } else {
    lines.push(`Accuracy on the ${metrics.images.toLocaleString("en-US")} test images: **${pct(metrics.accuracy)}**.`, "", "| class | accuracy |", "| --- | ---: |", ...metrics.perClass.map((p) => `| ${p.name} | ${pct(p.accuracy)} |`));
  }
  const best = run.best;
  lines.push(
    "",
    "## Training",
    "",
    "```sh",
    opts.command,
    "```",
    "",
    `- ${c.optimizer.kind} lr ${c.optimizer.lr}${c.schedule ? `, ${c.schedule.kind} schedule (warm-up ${c.schedule.warmup} steps)` : ""}, batch ${c.batchSize ?? 64}, ${run.history.length} epochs${c.clipNorm !== undefined ? `, gradient norm clipped at ${c.clipNorm}` : ""}, loss ${c.loss.kind}${c.loss.kind === "cross_entropy" && c.loss.labelSmoothing ? ` (label smoothing ${c.loss.labelSmoothing})` : ""}, seed ${c.seed ?? 0}; settings from the model file's \`train { }\` section.`,
    `- Backend: ${opts.backend}. Time: **${(run.seconds / 60).toFixed(1)} min** for ${run.examples.toLocaleString("en-US")} examples × ${run.history.length} epochs${model.task === "g2p" ? ", validation included" : ""}, on ${opts.machine ?? machineSummary()}${opts.date ? `, ${opts.date}` : ""}.`,
    model.task === "g2p" ? `- Kept: epoch ${best.epoch} (best valid WER ${pct(best.valid_wer)}, PER ${pct(best.valid_per)}).` : `- Kept: the last epoch (${best.epoch}).`,
    "",
    "| epoch | train loss | " + (model.task === "g2p" ? "valid WER | valid PER | " : "") + "minutes |",
    "| ---: | ---: | " + (model.task === "g2p" ? "---: | ---: | " : "") + "---: |",
    ...run.history.map((r) => `| ${r.epoch} | ${r.train_loss.toFixed(4)} | ` + (model.task === "g2p" ? `${pct(r.valid_wer)} | ${pct(r.valid_per)} | ` : "") + `${(r.seconds / 60).toFixed(1)} |`),
    "",
  );
  return lines.join("\n");
}
