#!/usr/bin/env node
// The tutorial's training run from TypeScript/JavaScript instead of `attn train` (docs/tutorial.md):
// compile the model, read the data, train with the model's own `train { }` section, save the weights, then
// run the trained model and measure where its attention goes. Uses the built packages (`pnpm build` first).
//
//   node packages/models/examples/tutorial/train.mjs DIR     # DIR from make-data.mjs (train.jsonl, valid.jsonl)
/* global console, process, URL */ // Node globals (the repo's eslint config declares none for .mjs)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JsonlDataset, Session, Tensor, Trainer, writeSafetensors } from "@attn/core";
import { compileFile, trainerOptions } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node train.mjs DIR   (DIR holds train.jsonl and valid.jsonl from make-data.mjs)");
  process.exit(2);
}

// 1. Compile the model. compileFile never throws on a bad model: it returns diagnostics.
const file = fileURLToPath(new URL("../tutorial.attn", import.meta.url));
const { graph, diagnostics, train: cfg } = await compileFile(file);
if (!graph || !cfg) throw new Error(diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n") || "no train { } section");

// 2. The data: each JSONL line holds the model's input `x` [S, 8] (S varies; a batch zero-pads it) and `target` [1].
const schema = { x: { dtype: "float32", rank: 2, shape: [null, 8] }, target: { dtype: "float32", rank: 1, shape: [1] } };
const read = (name) => JsonlDataset.parse(readFileSync(join(dir, name), "utf8"), schema, name);
const trainSet = read("train.jsonl");
const validSet = read("valid.jsonl");

// 3. Train with the model's train { } section (mse(y), adam lr 0.01, batch 16, 20 epochs).
const epochs = cfg.epochs ?? 10;
const batchSize = cfg.batchSize ?? 32;
const backend = createCpuBackend();
const trainer = await Trainer.create(graph, backend, trainerOptions(cfg, epochs * Math.ceil(trainSet.size / batchSize)));
await trainer.fit(trainSet, {
  epochs,
  batchSize,
  validation: validSet,
  onEvent: (e) => {
    if (e.type === "epoch") console.log(`epoch ${e.epoch + 1}/${epochs}  train_loss ${e.trainLoss.toFixed(4)}  valid_loss ${e.metrics.valid_loss.toFixed(4)}`);
  },
});
const weights = await trainer.weights(); // Map of PyTorch-named tensors: rnn.weight_ih_l0, attn.W_q.weight, head.bias, ...
trainer.dispose();
writeFileSync(join(dir, "tutorial-ts.safetensors"), writeSafetensors(weights, { format: "pt" }));
console.log(`wrote ${join(dir, "tutorial-ts.safetensors")}`);

// 4. Inference with the trained weights: on each validation sequence (a batch of one, so no padding), the share
//    of attention on the marked step (the step whose feature 0 is 1), averaged over the query rows.
const session = await Session.create(graph, backend, { weights, requireAll: true });
let share = 0;
let uniform = 0;
const lines = readFileSync(join(dir, "valid.jsonl"), "utf8").trim().split("\n");
for (const line of lines) {
  const { x } = JSON.parse(line);
  const steps = x.length;
  const marked = x.findIndex((row) => row[0] === 1);
  const { weights: w } = await session.run({ x: Tensor.from([x]) }, { outputs: ["weights"] }); // [1, S, S]
  for (let row = 0; row < steps; row++) share += w.data[row * steps + marked] / steps;
  uniform += 1 / steps;
}
session.dispose();
console.log(`attention on the marked step: ${(share / lines.length).toFixed(4)} of each row on average (uniform attention: ${(uniform / lines.length).toFixed(4)})`);
