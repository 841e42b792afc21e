import { parseArgs } from "node:util";
import { AttnError } from "@attn/core";
import { DEFAULT_FASHION, DEFAULT_G2P } from "@attn/models";
import { check } from "./commands/check.js";
import { graph } from "./commands/graph.js";
import { run } from "./commands/run.js";
import { exportCommand } from "./commands/export.js";
import { demo } from "./commands/demo.js";
import { evaluate, train } from "./commands/train.js";
import { data } from "./commands/data.js";
import { VIZ_KINDS, viz } from "./commands/viz.js";
import { ZOO_COMMANDS, zoo } from "./commands/zoo.js";
import { translate } from "./commands/translate.js";
import { predict } from "./commands/predict.js";
import { CliError, parseOverrides } from "./io.js";

export const USAGE = `attn: attention models from .attn files

usage:
  attn check FILE [--json] [--model NAME] [--set name=value]...
  attn run FILE --inputs X.json [--weights W.safetensors] [--backend cpu|onnx|onnx-web|webgpu] [--weights-out W2.safetensors]
                [--seed N] [--json] [--model NAME] [--set name=value]...
  attn export FILE -o MODEL.onnx [--weights W.safetensors] [--opset 17|23] [--external-data] [--seed N]
               [--model NAME] [--set name=value]...
  attn graph FILE [--format text|dot|json] [--optimized] [--model NAME] [--set name=value]...
  attn train FILE --data TRAIN.jsonl [--valid VALID.jsonl] [--backend cpu|onnx|onnx-web|webgpu] [--weights INIT.safetensors]
                  [--resume CKPT] [--checkpoint CKPT] [--checkpoint-every N] [--weights-out W.safetensors]
                  [--epochs N] [--batch-size N] [--lr X] [--optimizer adam|adamw|sgd] [--clip X] [--seed N]
                  [--freeze PATTERN]... [--lr-group PATTERN=LR]... [--log METRICS.jsonl]
  attn eval FILE --weights W.safetensors|CKPT --data DATA.jsonl [--batch-size N] [--json]
  attn data reverse-digits --out DIR [--train-size N] [--valid-size N] [--test-size N] [--seed N]
  attn viz curves LOG.jsonl -o CURVES.svg [--metric NAME]...
  attn viz attention FILE --inputs X.json [--weights W.safetensors] [--output NAME] -o HEAT.svg
                     [--rows a,b,...] [--cols x,y,...] [--seed N] [--model NAME] [--set name=value]...
  attn zoo list
  attn zoo train NAME|A+B [--backend cpu|onnx|...] [--epochs N] [--limit N] [--lr X] [--weights INIT.safetensors] [--out DIR] [--resume CKPT]
                      [--data FASHION_DIR] [--threads N]
  attn zoo eval NAME|A+B [--weights W.safetensors] [--beam K] [--limit N] [--backend ...] [--data FASHION_DIR] [--json]
  attn translate WORD... [--model ${DEFAULT_G2P}|A+B] [--weights W.safetensors] [--beam K] [--svg HEAT.svg] [--backend ...] [--json]
  attn predict [INDEX...] [--model ${DEFAULT_FASHION}] [--weights W.safetensors] [--data FASHION_DIR] [--svg OUT.svg] [--json]
  attn demo [WORD...] [--out DIR]
  attn --help | --version

exit codes: 0 ok, 1 errors in the input (diagnostics, bad files), 2 bad usage`;

const OPTIONS = {
  json: { type: "boolean", default: false },
  model: { type: "string" },
  set: { type: "string", multiple: true },
  weights: { type: "string" },
  inputs: { type: "string" },
  backend: { type: "string", default: "cpu" },
  "weights-out": { type: "string" },
  seed: { type: "string" },
  data: { type: "string" },
  valid: { type: "string" },
  resume: { type: "string" },
  checkpoint: { type: "string" },
  "checkpoint-every": { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  optimizer: { type: "string" },
  clip: { type: "string" },
  freeze: { type: "string", multiple: true },
  "lr-group": { type: "string", multiple: true },
  log: { type: "string" },
  metric: { type: "string", multiple: true },
  output: { type: "string" },
  rows: { type: "string" },
  cols: { type: "string" },
  out: { type: "string", short: "o" },
  opset: { type: "string" },
  "external-data": { type: "boolean", default: false },
  "train-size": { type: "string" },
  "valid-size": { type: "string" },
  "test-size": { type: "string" },
  format: { type: "string", default: "text" },
  optimized: { type: "boolean", default: false },
  color: { type: "boolean" },
  beam: { type: "string" },
  limit: { type: "string" },
  threads: { type: "string" },
  svg: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "v", default: false },
} as const;

export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** Writes without adding a newline (progress bars); defaults to `err`. */
  rawErr?(s: string): void;
  isTTY?: boolean;
  /** Whether stderr is a terminal (live progress bar). */
  errIsTTY?: boolean;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
  rawErr: (s) => process.stderr.write(s),
  isTTY: process.stdout.isTTY,
  errIsTTY: process.stderr.isTTY,
};

/** Takes a command's first argument off `args` when it is one of `choices`; otherwise prints why (usage error) and returns undefined. */
function takeChoice<T extends string>(args: string[], choices: readonly T[], cmd: string, missing: string, noun: string, io: Io): T | undefined {
  const k = args.shift();
  if (k !== undefined && (choices as readonly string[]).includes(k)) return k as T;
  io.err(`attn ${cmd}: ${k === undefined ? missing : `unknown ${noun} "${k}"`} (available: ${choices.join(", ")})\n\n${USAGE}`);
  return undefined;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`attn: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.version) {
    io.out("attn 0.0.0");
    return 0;
  }
  const [cmd, ...args] = positionals;
  if (v.help || !cmd) {
    io.out(USAGE);
    return v.help ? 0 : 2;
  }
  // `viz` names what to draw before its FILE (`attn viz curves LOG.jsonl`), `zoo` its action (`list` takes
  // nothing, `train`/`eval` a model name); every other command's first argument is its FILE.
  const kind = cmd === "viz" ? takeChoice(args, VIZ_KINDS, "viz", "missing what to draw", "picture", io) : undefined;
  const zooSub = cmd === "zoo" ? takeChoice(args, ZOO_COMMANDS, "zoo", "missing what to do", "action", io) : undefined;
  if ((cmd === "viz" && !kind) || (cmd === "zoo" && !zooSub)) return 2;
  // translate, predict and demo take any number of words or image indices.
  const many = cmd === "translate" || cmd === "predict" || cmd === "demo" || zooSub === "list";
  const name = kind === undefined ? cmd : `${cmd} ${kind}`;
  const [file = "", ...extra] = many ? [] : args;
  const needsFile = !many;
  if (needsFile && !file) {
    io.err(`attn ${name}${zooSub ? ` ${zooSub}: missing the zoo model's NAME (attn zoo list shows them)` : ": missing FILE"}\n\n${USAGE}`);
    return 2;
  }
  if (extra.length) {
    io.err(`attn ${name}: unexpected argument "${extra[0]}"`);
    return 2;
  }
  const color = v.color ?? (Boolean(io.isTTY) && !process.env.NO_COLOR);
  try {
    const set = parseOverrides(v.set);
    const int = (name: string, raw: string | undefined, min: number) => {
      if (raw === undefined) return undefined;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
      return n;
    };
    const num = (name: string, raw: string | undefined) => {
      if (raw === undefined) return undefined;
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) throw new CliError(`--${name} must be a number ≥ 0, got "${raw}"`);
      return n;
    };
    const seed = int("seed", v.seed, 0);
    const beam = int("beam", v.beam, 1);
    const trainFlags = () => ({
      model: v.model, set, color, data: v.data, valid: v.valid, backend: v.backend, weights: v.weights, resume: v.resume,
      checkpoint: v.checkpoint, checkpointEvery: int("checkpoint-every", v["checkpoint-every"], 1), epochs: int("epochs", v.epochs, 1),
      batchSize: int("batch-size", v["batch-size"], 1), lr: num("lr", v.lr), optimizer: v.optimizer, clip: num("clip", v.clip), seed,
      freeze: v.freeze ?? [], lrGroups: v["lr-group"] ?? [], log: v.log, weightsOut: v["weights-out"], live: Boolean(io.errIsTTY), json: v.json,
    });
    switch (cmd) {
      case "check":
        return await check(file, { json: v.json, model: v.model, set, color }, io.out);
      case "graph":
        return await graph(file, { model: v.model, set, color, format: v.format, optimized: v.optimized }, io.out);
      case "run":
        return await run(file, { model: v.model, set, color, weights: v.weights, inputs: v.inputs, backend: v.backend, weightsOut: v["weights-out"], seed: seed ?? 0, json: v.json }, io.out, io.err);
      case "export":
        return await exportCommand(file, { model: v.model, set, color, weights: v.weights, out: v.out, opset: v.opset, externalData: v["external-data"], seed: seed ?? 0 }, io.out, io.err);
      case "train":
        return await train(file, trainFlags(), io.out, io.err, io.rawErr ?? ((s) => io.err(s.replace(/\n$/, ""))));
      case "eval":
        return await evaluate(file, trainFlags(), io.out);
      case "data":
        return await data(file, { out: v.out, train: int("train-size", v["train-size"], 1) ?? 12800, valid: int("valid-size", v["valid-size"], 1) ?? 1000, test: int("test-size", v["test-size"], 1) ?? 1000, seed: seed ?? 1 }, io.err);
      case "viz":
        return await viz(kind!, file, {
          model: v.model, set, color, weights: v.weights, inputs: v.inputs, backend: v.backend, seed: seed ?? 0,
          out: v.out, metrics: v.metric ?? [], output: v.output, rows: v.rows, cols: v.cols,
        }, io.out, io.err);
      case "zoo":
        return await zoo(zooSub!, file || undefined, {
          backend: v.backend, threads: int("threads", v.threads, 1), weights: v.weights, resume: v.resume, epochs: int("epochs", v.epochs, 1), limit: int("limit", v.limit, 1),
          lr: num("lr", v.lr), beam, out: v.out, data: v.data,
          json: v.json, live: Boolean(io.errIsTTY),
        }, io.out, io.err, io.rawErr ?? ((s) => io.err(s.replace(/\n$/, ""))));
      case "translate":
        return await translate(args, { model: v.model, weights: v.weights, backend: v.backend, beam, svg: v.svg, json: v.json }, io.out);
      case "predict":
        return await predict(args, { model: v.model, weights: v.weights, backend: v.backend, data: v.data, svg: v.svg, json: v.json }, io.out);
      case "demo":
        return await demo(args, v.out, io);
      default:
        io.err(`attn: unknown command "${cmd}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof CliError || e instanceof AttnError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  }
}
