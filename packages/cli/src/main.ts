import { parseArgs } from "node:util";
import { AttnError } from "@attn/core";
import { check } from "./commands/check.js";
import { graph } from "./commands/graph.js";
import { run } from "./commands/run.js";
import { demo } from "./commands/demo.js";
import { CliError, parseOverrides } from "./io.js";

export const USAGE = `attn: attention models from .attn files

usage:
  attn check FILE [--json] [--model NAME] [--set name=value]...
  attn run FILE --inputs X.json [--weights W.safetensors] [--backend cpu] [--weights-out W2.safetensors]
                [--seed N] [--json] [--model NAME] [--set name=value]...
  attn graph FILE [--format text|dot|json] [--optimized] [--model NAME] [--set name=value]...
  attn demo
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
  seed: { type: "string", default: "0" },
  format: { type: "string", default: "text" },
  optimized: { type: "boolean", default: false },
  color: { type: "boolean" },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "v", default: false },
} as const;

export interface Io {
  out(s: string): void;
  err(s: string): void;
  isTTY?: boolean;
}

const defaultIo: Io = { out: (s) => process.stdout.write(s + "\n"), err: (s) => process.stderr.write(s + "\n"), isTTY: process.stdout.isTTY };

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
  const [cmd, file, ...extra] = positionals;
  if (v.help || !cmd) {
    io.out(USAGE);
    return v.help ? 0 : 2;
  }
  const needsFile = cmd !== "demo";
  if (needsFile && !file) {
    io.err(`attn ${cmd}: missing FILE\n\n${USAGE}`);
    return 2;
  }
  if (extra.length) {
    io.err(`attn ${cmd}: unexpected argument "${extra[0]}"`);
    return 2;
  }
  const color = v.color ?? (Boolean(io.isTTY) && !process.env.NO_COLOR);
  try {
    const set = parseOverrides(v.set);
    const seed = Number(v.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new CliError(`--seed must be a non-negative integer, got "${v.seed}"`);
    switch (cmd) {
      case "check":
        return await check(file, { json: v.json, model: v.model, set, color }, io.out);
      case "graph":
        return await graph(file, { model: v.model, set, color, format: v.format, optimized: v.optimized }, io.out);
      case "run":
        return await run(file, { model: v.model, set, color, weights: v.weights, inputs: v.inputs, backend: v.backend, weightsOut: v["weights-out"], seed, json: v.json }, io.out, io.err);
      case "demo":
        return await demo(io.out);
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
