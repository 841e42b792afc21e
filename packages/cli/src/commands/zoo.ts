import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Session, writeSafetensors, type Backend, type Tensor, type TrainerEvent } from "@attn/core";
import {
  FASHION_CLASSES, FASHION_MNIST_DEBIAN_DIR, G2PModel, ZOO, cmudictSplits, compileZooModel, evaluateFashion, hasPretrained,
  loadFashionMnist, machineSummary, modelCard, ensembleCard, readWeights, scoreFestival, trainZooModel, type CardMetrics, type EnsembleSummary, type EpochRecord,
  type ZooModel, type ZooRunSummary, type ZooTrainOptions,
} from "@attn/models";
import { CliError, writeFileAtomic } from "../io.js";
import { ProgressBar } from "../progress.js";
import { backendByName } from "./run.js";
import { ENSEMBLE_NEEDS, g2pModel, loadG2P, pretrainedOr, zooModelNamed } from "./translate.js";

/** What `attn zoo SUB` does. */
export const ZOO_COMMANDS = ["list", "train", "eval"] as const;
export type ZooCommand = (typeof ZOO_COMMANDS)[number];

export interface ZooFlags {
  backend: string;
  /** onnxruntime's threads (`--threads`; default: its own choice, one per core). */
  threads?: number;
  weights?: string;
  epochs?: number;
  limit?: number;
  lr?: number;
  beam?: number;
  /** Folder for weights, model card and log (`attn zoo train`; default `.`). */
  out?: string;
  /** Folder with the Fashion-MNIST IDX files. */
  data?: string;
  /** Continue an interrupted run from its checkpoint (`--resume DIR/NAME.ckpt`; its log and best weights are read from `out`). */
  resume?: string;
  json: boolean;
  live: boolean;
}

function modelOf(name: string | undefined): ZooModel {
  if (!name) throw new CliError(`missing the zoo model's name (the zoo has ${ZOO.map((m) => m.name).join(", ")})`);
  return zooModelNamed(name);
}

/** `attn zoo list | train NAME|A+B | eval NAME|A+B`. */
export async function zoo(sub: ZooCommand, name: string | undefined, f: ZooFlags, out: (s: string) => void, err: (s: string) => void, rawErr: (s: string) => void): Promise<number> {
  if (sub === "list") {
    for (const m of ZOO) out(`${m.name.padEnd(24)} ${m.task.padEnd(8)} ${hasPretrained(m) ? "pretrained" : "          "}  ${m.title}`);
    return 0;
  }
  const backend = backendByName(f.backend, f.threads);
  const ensemble = name?.includes("+");
  if (sub === "eval") {
    // A G2P model or ensemble (`a+b`) loads the way `attn translate` loads it.
    const model = ensemble ? undefined : modelOf(name);
    const metrics = model?.task === "fashion" ? await testMetrics(model, backend, pretrainedOr(model, f.weights), f) : await g2pTestMetrics(await loadG2P(name, backend, f.weights), f);
    out(f.json ? JSON.stringify(metrics) : formatMetrics(name!, metrics));
    return 0;
  }
  if (ensemble) return trainEnsemble(name!, backend, f, out, err, rawErr);
  await trainOne(modelOf(name), backend, f, out, err, rawErr);
  return 0;
}

/**
 * `attn zoo train A+B`: trains each member from scratch, one after the other (each writes what
 * `attn zoo train MEMBER` writes), then scores the ensemble on the test split and writes its card and summary.
 */
async function trainEnsemble(name: string, backend: Backend, f: ZooFlags, out: (s: string) => void, err: (s: string) => void, rawErr: (s: string) => void): Promise<number> {
  // Each of these would mean something different per member; a member is trained alone to use them.
  for (const [flag, set] of [["--resume", f.resume], ["--weights", f.weights], ["--lr", f.lr]] as const) {
    if (set !== undefined) throw new CliError(`${flag} applies to one model; train the ensemble's members one by one to use it (attn zoo train ${name.split("+")[0]} ${flag} …)`);
  }
  const models = name.split("+").map((n) => g2pModel(n, ENSEMBLE_NEEDS));
  const dir = f.out ?? ".";
  const members: { summary: ZooRunSummary; weights: Map<string, Tensor> }[] = [];
  for (const [i, model] of models.entries()) {
    err(`ensemble ${name}: member ${i + 1} of ${models.length}`);
    members.push(await trainOne(model, backend, f, out, err, rawErr));
  }
  err(`scoring the ensemble ${name} on the test split`);
  const test = await g2pTestMetrics(await G2PModel.loadMembers(models.map((model, i) => ({ model, weights: members[i].weights })), backend), f);
  const summary: EnsembleSummary = {
    model: name,
    members: members.map((m) => m.summary),
    parameters: members.reduce((a, m) => a + m.summary.parameters, 0),
    minutes: members.reduce((a, m) => a + m.summary.minutes, 0),
    backend: f.backend,
    ...(f.threads ? { threads: f.threads } : {}),
    machine: machineSummary(),
    command: trainCommandLine(name, f, dir),
    test,
  };
  const paths = { card: join(dir, `${name}.md`), summary: join(dir, `${name}.json`) };
  await writeFileAtomic(paths.card, ensembleCard(summary, { backend: backendLabel(f), date: new Date().toISOString().slice(0, 10) }));
  await writeFileAtomic(paths.summary, JSON.stringify(summary, null, 2) + "\n");
  out(formatMetrics(name, test));
  out(`wrote ${paths.card} and ${paths.summary}`);
  return 0;
}

/** The backend as a card names it, with onnxruntime's thread count when `--threads` set it. */
function backendLabel(f: Pick<ZooFlags, "backend" | "threads">): string {
  return `${f.backend}${f.threads ? ` (${f.threads} onnxruntime thread${f.threads > 1 ? "s" : ""})` : ""}`;
}

/** The command that reproduces a `zoo train` run, as its card shows it. */
function trainCommandLine(name: string, f: ZooFlags, dir: string): string {
  return `pnpm attn zoo train ${name} --backend ${f.backend}${f.epochs ? ` --epochs ${f.epochs}` : ""}${f.limit ? ` --limit ${f.limit}` : ""}${f.threads ? ` --threads ${f.threads}` : ""} --out ${dir}`;
}

/** Test-split figures of a zoo model with the given weights. */
export async function testMetrics(model: ZooModel, backend: Backend, weights: ReadonlyMap<string, Tensor>, f: Pick<ZooFlags, "beam" | "data" | "limit">): Promise<CardMetrics> {
  if (model.task === "g2p") return g2pTestMetrics(await G2PModel.load(model, backend, weights), f);
  const full = loadFashionMnist("test", f.data ?? FASHION_MNIST_DEBIAN_DIR);
  const set = f.limit !== undefined && f.limit < full.count ? { ...full, count: f.limit } : full;
  const { graph } = await compileZooModel(model);
  const session = await Session.create(graph, backend, { weights });
  try {
    const r = await evaluateFashion(session, set);
    return { task: "fashion", images: r.count, accuracy: r.accuracy, perClass: FASHION_CLASSES.map((name, c) => ({ name, accuracy: (100 * r.confusion[c][c]) / Math.max(1, r.confusion[c].reduce((a, b) => a + b, 0)) })) };
  } finally {
    session.dispose();
  }
}

/** Test-split figures of a loaded G2P model (greedy, beam `f.beam` or 5, and Festival on the same words); disposes it. */
export async function g2pTestMetrics(g2p: G2PModel, f: Pick<ZooFlags, "beam" | "limit">): Promise<Extract<CardMetrics, { task: "g2p" }>> {
  // A --limit run is a quick check: it scores the first `limit` test words only.
  const test = cmudictSplits().test.slice(0, f.limit);
  try {
    const greedy = await g2p.evaluate(test);
    const width = f.beam ?? 5;
    const beam = width > 1 ? await g2p.evaluate(test, { beam: width }) : undefined;
    const fest = scoreFestival(test);
    return { task: "g2p", words: test.length, greedy: { wer: greedy.wer, per: greedy.per }, ...(beam ? { beam: { width, wer: beam.wer, per: beam.per } } : {}), festival: { wer: fest.wer, per: fest.per } };
  } finally {
    g2p.dispose();
  }
}

/** The figures as the CLI prints them, for the model (or ensemble) called `name`. */
export function formatMetrics(name: string, m: CardMetrics): string {
  if (m.task === "g2p") {
    const row = (label: string, x: { wer: number; per: number }) => `  ${label.padEnd(34)} WER ${x.wer.toFixed(2).padStart(6)}%   PER ${x.per.toFixed(2).padStart(5)}%`;
    return [`${name} on the ${m.words.toLocaleString("en-US")} test words of CMUdict 0.4:`, row("greedy", m.greedy), ...(m.beam ? [row(`beam ${m.beam.width}`, m.beam)] : []), row("Festival letter-to-sound (peer)", m.festival)].join("\n");
  }
  return [`${name} on the ${m.images.toLocaleString("en-US")} Fashion-MNIST test images: accuracy ${m.accuracy.toFixed(2)}%`, ...m.perClass.map((p) => `  ${p.name.padEnd(12)} ${p.accuracy.toFixed(1).padStart(5)}%`)].join("\n");
}

/**
 * Trains one zoo model as `attn zoo train NAME` does, writing its weights, log, checkpoint, card and summary,
 * and printing its test figures.
 */
async function trainOne(model: ZooModel, backend: Backend, f: ZooFlags, out: (s: string) => void, err: (s: string) => void, rawErr: (s: string) => void): Promise<{ summary: ZooRunSummary; weights: Map<string, Tensor> }> {
  const dir = f.out ?? ".";
  // Made before training starts, so a missing folder cannot cost an epoch.
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CliError(`--out: cannot create the folder ${dir}: ${(e as Error).message}`);
  }
  const paths = { weights: join(dir, `${model.name}.safetensors`), log: join(dir, `${model.name}.jsonl`), checkpoint: join(dir, `${model.name}.ckpt`), card: join(dir, `${model.name}.md`), summary: join(dir, `${model.name}.json`) };
  const { train } = await compileZooModel(model);
  const epochs = f.epochs ?? train.epochs ?? 10;
  let lines: string[] = [];
  let resume: ZooTrainOptions["resume"];
  if (f.resume) {
    if (!existsSync(f.resume)) throw new CliError(`--resume: the checkpoint ${f.resume} does not exist`);
    lines = existsSync(paths.log) ? readFileSync(paths.log, "utf8").split("\n").filter(Boolean) : [];
    const history = lines.map((l) => JSON.parse(l) as Record<string, number>).filter((r): r is EpochRecord => r.epoch !== undefined && r.train_loss !== undefined);
    resume = { checkpoint: new Uint8Array(readFileSync(f.resume)), history, best: existsSync(paths.weights) ? readWeights(paths.weights) : new Map() };
  }
  err(`training ${model.name} (${model.title}) on ${f.backend}, ${epochs} epochs${f.limit ? `, first ${f.limit} examples` : ""}${resume ? `, resuming from ${f.resume}` : ""}`);
  let bar: ProgressBar | undefined;
  // Every 100 steps the mean loss goes to the log, for the training curve; epochs add their metrics. The
  // log, the best weights and a checkpoint are written after every epoch, so a stopped run resumes.
  let window = { loss: 0, n: 0 };
  const onEvent = (e: TrainerEvent) => {
    if (e.type === "step") {
      bar ??= new ProgressBar(rawErr, f.live, epochs, e.batches * epochs, e.step - 1, resume?.history.at(-1)?.seconds ?? 0);
      window = { loss: window.loss + e.loss, n: window.n + 1 };
      if (e.step % 100 === 0) {
        lines.push(JSON.stringify({ step: e.step, loss: window.loss / window.n, lr: e.lr }));
        window = { loss: 0, n: 0 };
      }
    }
    bar?.update(e);
  };
  const run = await trainZooModel(model, backend, {
    epochs,
    ...(f.limit !== undefined ? { limit: f.limit, validLimit: Math.min(1000, f.limit) } : {}),
    ...(f.lr !== undefined ? { lr: f.lr } : {}),
    ...(f.data ? { fashionDir: f.data } : {}),
    ...(f.weights ? { weights: readWeights(f.weights) } : {}),
    ...(resume ? { resume } : {}),
    onEvent,
    onEpoch: async (r, isBest, weights) => {
      lines.push(JSON.stringify(r));
      await writeFileAtomic(paths.log, lines.join("\n") + "\n");
      if (isBest) await writeFileAtomic(paths.weights, writeSafetensors(weights, { format: "pt", producer: "attn zoo train", model: model.name, epoch: String(r.epoch) }));
    },
    saveCheckpoint: (bytes) => writeFileAtomic(paths.checkpoint, bytes),
  });
  err(`trained in ${(run.seconds / 60).toFixed(1)} min (epoch ${run.best.epoch} kept); evaluating on the test split`);
  const metrics = await testMetrics(model, backend, run.weights, f);
  const command = trainCommandLine(model.name, f, dir);
  const card = modelCard(model, run, metrics, { command, backend: backendLabel(f), machine: machineSummary(), date: new Date().toISOString().slice(0, 10) });
  await writeFileAtomic(paths.card, card);
  // The figures again, as data, for the comparison tables in docs/zoo.md.
  const summary: ZooRunSummary = { model: model.name, parameters: run.parameters, examples: run.examples, epochs: run.history.length, keptEpoch: run.best.epoch, minutes: run.seconds / 60, backend: f.backend, ...(f.threads ? { threads: f.threads } : {}), machine: machineSummary(), command, test: metrics };
  await writeFileAtomic(paths.summary, JSON.stringify(summary, null, 2) + "\n");
  out(formatMetrics(model.name, metrics));
  out(`wrote ${paths.weights}, ${paths.card}, ${paths.summary} and ${paths.log} (checkpoint ${paths.checkpoint})`);
  return { summary, weights: run.weights };
}
