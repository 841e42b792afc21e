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

type G2PMetrics = Extract<CardMetrics, { task: "g2p" }>;

const G2P_DATA = [
  "The CMU pronouncing dictionary 0.4 from Debian's `festlex-cmu` (packages/models/data/cmudict, with its licence): 105,538 words, stress dropped, Festival's CMU phone set.",
  "Split by word: FNV-1a-32(word) mod 100, test < 5 (5,283 words), valid 5–9 (5,288), train the rest (94,967 words, 95,121 pronunciations).",
  "A word is correct if the output equals any of its reference pronunciations; PER is the edit distance to the closest reference over its length, summed over words.",
];

/** The test table of a G2P card: greedy and beam rows (`rows` adds more, e.g. an ensemble's members), then Festival's. */
function g2pResults(m: G2PMetrics, rows: readonly string[] = []): string[] {
  return [
    "| decoder | WER | PER |",
    "| --- | ---: | ---: |",
    `| greedy | ${pct(m.greedy.wer)} | ${pct(m.greedy.per)} |`,
    ...(m.beam ? [`| beam ${m.beam.width} | ${pct(m.beam.wer)} | ${pct(m.beam.per)} |`] : []),
    ...rows,
    `| Festival letter-to-sound rules (peer) | ${pct(m.festival.wer)} | ${pct(m.festival.per)} |`,
    "",
    `On the ${m.words.toLocaleString("en-US")} test words. Festival's rules were trained on this whole dictionary, test words included, which flatters them.`,
  ];
}

/**
 * What `attn zoo train` records of a run beside its card (`NAME.json`): the figures the comparison tables in
 * docs/zoo.md are made from.
 */
export interface ZooRunSummary {
  readonly model: string;
  readonly parameters: number;
  readonly examples: number;
  readonly epochs: number;
  readonly keptEpoch: number;
  /** Training time, validation included; test evaluation excluded. */
  readonly minutes: number;
  readonly backend: string;
  readonly threads?: number;
  readonly machine: string;
  readonly command: string;
  readonly test: CardMetrics;
}

/** What `attn zoo train A+B` records of an ensemble: its members' runs and its own test figures. */
export interface EnsembleSummary {
  /** The ensemble's name, `a+b`. */
  readonly model: string;
  readonly members: readonly ZooRunSummary[];
  /** The members' together. */
  readonly parameters: number;
  /** The members' training times together. */
  readonly minutes: number;
  readonly backend: string;
  readonly threads?: number;
  readonly machine: string;
  readonly command: string;
  readonly test: G2PMetrics;
}

/**
 * The model card of a G2P ensemble (`a+b`): each output phone is chosen by the mean of its members'
 * log-probabilities. It lists the members' own figures beside the ensemble's, and the one command that trains
 * them all from scratch. `opts.backend` names the backend as {@link modelCard}'s does (with any thread count).
 */
export function ensembleCard(e: EnsembleSummary, opts: { backend: string; date?: string }): string {
  const memberRows = e.members.flatMap((m) => {
    if (m.test.task !== "g2p") return [];
    const beam = m.test.beam;
    return [`| ${m.model} alone, greedy | ${pct(m.test.greedy.wer)} | ${pct(m.test.greedy.per)} |`, ...(beam ? [`| ${m.model} alone, beam ${beam.width} | ${pct(beam.wer)} | ${pct(beam.per)} |`] : [])];
  });
  return [
    `# ${e.model}: an ensemble of ${e.members.length} grapheme-to-phoneme models`,
    "",
    `Each output phone is chosen by the mean of the members' log-probabilities (greedy or beam search over the mean; \`G2PModel.ensemble\`). ${e.parameters.toLocaleString("en-US")} parameters in all. Members, each with its own card and weights:`,
    "",
    ...e.members.map((m) => `- \`${m.model}\` (${m.parameters.toLocaleString("en-US")} parameters): \`${m.model}.safetensors\`, card \`${m.model}.md\`.`),
    "",
    "## Data",
    "",
    ...G2P_DATA,
    "",
    "## Test results",
    "",
    ...g2pResults(e.test, memberRows),
    "",
    "## Training",
    "",
    "One command trains the members from scratch, one after the other, then scores the ensemble:",
    "",
    "```sh",
    e.command,
    "```",
    "",
    `- Backend: ${opts.backend}, on ${e.machine}${opts.date ? `, ${opts.date}` : ""}.`,
    `- Time: **${e.minutes.toFixed(1)} min** of training in all (validation included, test scoring not):`,
    ...e.members.map((m) => `  - ${m.model}: ${m.minutes.toFixed(1)} min, ${m.epochs} epoch${m.epochs === 1 ? "" : "s"}, epoch ${m.keptEpoch} kept (its card has the settings and the curve).`),
    "",
  ].join("\n");
}

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
    lines.push(...G2P_DATA);
  } else {
    lines.push("Fashion-MNIST (Zalando, MIT) from Debian's `dataset-fashion-mnist`: trained on all 60,000 training images, evaluated once on the 10,000 test images. Pixels scaled to 0…1 and normalised (mean 0.286, std 0.353); no augmentation.");
  }
  lines.push("", "## Test results", "");
  if (metrics.task === "g2p") {
    lines.push(...g2pResults(metrics));
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
