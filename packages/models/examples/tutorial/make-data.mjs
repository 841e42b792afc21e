#!/usr/bin/env node
// Data for the tutorial model (packages/models/examples/tutorial.attn, walkthrough in docs/tutorial.md).
//
// The "marked step" task: each example is a sequence of S steps (S = 5…12) of 8 features.
//   - feature 0 is 1 at exactly one step, the marked step m, and 0 at every other step;
//   - features 1…7 are uniform in [-1, 1] at every step (so features 1 and 2 at the other steps are
//     distractors that look exactly like the values that matter);
//   - the target is x[m][1] + x[m][2] (task "sum", the default) or x[m][1] - x[m][2] (task "diff", used
//     in the tutorial's fine-tuning step): a function of features 1–2 at the marked step only.
// Always predicting the mean scores an MSE equal to the variance of the target (2/3 in theory, see
// VARIANCE); that is the number to beat. A model that finds the marked step can get close to 0, and after
// training the attention weights concentrate on that one column.
//
//   node packages/models/examples/tutorial/make-data.mjs DIR [--train N] [--valid N] [--seed N] [--task sum|diff]
//
// writes DIR/train.jsonl (2000 examples by default, from --seed), DIR/valid.jsonl (500, from --seed + 1000)
// and DIR/x.json (the first validation example as a batch of one, for `attn run --inputs`). JSONL lines are
// {"x": [S][8], "target": [1]}. No dependencies; the files are the same on every machine for the same flags.
// Importing the module (`tutorialExamples`, `markedStep`) writes nothing.
/* global console, process */ // Node globals (the repo's eslint config declares none for .mjs)
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Features per step (the model's `features` hyperparameter). */
export const FEATURES = 8;
/** Shortest and longest sequence. */
export const MIN_STEPS = 5;
export const MAX_STEPS = 12;
/** Variance of the target (either task), x1 ± x2 with both uniform in [-1, 1]: 1/3 + 1/3. */
export const VARIANCE = 2 / 3;

/** What the target is, from features 1 and 2 at the marked step. */
export const TASKS = { sum: (a, b) => a + b, diff: (a, b) => a - b };

/** mulberry32: a small seeded 32-bit generator; uniform floats in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rounds to 3 decimals (keeps the files small; the target is computed from the rounded values). */
const r3 = (v) => Math.round(v * 1000) / 1000;

/**
 * `n` examples of the marked-step task from `seed`: `{ x: number[S][8], target: [number] }`, with the
 * marked step uniform over the sequence. Deterministic in (n, seed, task); the first k of n examples are
 * the k examples of the same seed.
 */
export function tutorialExamples(n, seed = 1, task = "sum") {
  if (!Object.hasOwn(TASKS, task)) throw new Error(`unknown task "${task}" (tasks: ${Object.keys(TASKS).join(", ")})`);
  const rand = mulberry32(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const steps = MIN_STEPS + Math.floor(rand() * (MAX_STEPS - MIN_STEPS + 1));
    const marked = Math.floor(rand() * steps);
    const x = [];
    for (let t = 0; t < steps; t++) {
      const row = [t === marked ? 1 : 0];
      for (let f = 1; f < FEATURES; f++) row.push(r3(rand() * 2 - 1));
      x.push(row);
    }
    out.push({ x, target: [r3(TASKS[task](x[marked][1], x[marked][2]))] });
  }
  return out;
}

/** The marked step of a sequence: the step whose feature 0 is 1 (-1 if none). */
export function markedStep(x) {
  return x.findIndex((row) => row[0] === 1);
}

function main(argv) {
  const usage = `usage: node make-data.mjs DIR [--train N] [--valid N] [--seed N] [--task ${Object.keys(TASKS).join("|")}]`;
  const fail = (message) => {
    console.error(`make-data: ${message}\n${usage}`);
    process.exit(2);
  };
  const args = [...argv];
  const dir = args.shift();
  if (!dir || dir.startsWith("--")) fail("missing DIR");
  const opts = { train: 2000, valid: 500, seed: 1, task: "sum" };
  while (args.length) {
    const flag = args.shift();
    const key = flag.replace(/^--/, "");
    const raw = args.shift();
    if (!flag.startsWith("--") || !Object.hasOwn(opts, key)) fail(`unknown flag ${flag}`);
    if (key === "task") {
      if (!Object.hasOwn(TASKS, raw ?? "")) fail(`--task must be one of ${Object.keys(TASKS).join(", ")}, got ${raw}`);
      opts.task = raw;
    } else {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < (key === "seed" ? 0 : 1)) fail(`--${key} must be an integer ≥ ${key === "seed" ? 0 : 1}, got ${raw}`);
      opts[key] = value;
    }
  }
  mkdirSync(dir, { recursive: true });
  const jsonl = (examples) => examples.map((e) => JSON.stringify(e)).join("\n") + "\n";
  // Validation draws from its own seed, so changing --train never changes the validation set.
  const train = tutorialExamples(opts.train, opts.seed, opts.task);
  const valid = tutorialExamples(opts.valid, opts.seed + 1000, opts.task);
  writeFileSync(join(dir, "train.jsonl"), jsonl(train));
  writeFileSync(join(dir, "valid.jsonl"), jsonl(valid));
  writeFileSync(join(dir, "x.json"), JSON.stringify({ x: [valid[0].x] }) + "\n");
  const mean = valid.reduce((s, e) => s + e.target[0], 0) / valid.length;
  const variance = valid.reduce((s, e) => s + (e.target[0] - mean) ** 2, 0) / valid.length;
  console.log(`wrote ${train.length} training and ${valid.length} validation examples of task "${opts.task}" to ${dir} (train.jsonl, valid.jsonl, x.json)`);
  console.log(`variance of the validation targets: ${variance.toFixed(4)} (the MSE of always predicting their mean)`);
  console.log(`x.json: validation example 0, ${valid[0].x.length} steps, marked step ${markedStep(valid[0].x)}, target ${valid[0].target[0]}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
