// Per-op profile of the train-step workload on backend-cpu (after `pnpm turbo run build --filter @attn/bench`):
//   node packages/bench/scripts/profile-train-step.mjs [--kernels js|wasm-simd|wasm-simd-threads] [--steps 5] [--top 25]
// Builds the same Trainer as `pnpm bench --filter train-step`, runs one warm-up step, then `--steps` timed
// steps on a backend created with `{ profile: true }`, and prints ms per op per step (self time).
import { Trainer } from "@attn/core";
import { createCpuBackend, formatProfile } from "@attn/backend-cpu";
import { compileModel, optimized, TRAIN_STEP_SOURCE } from "../dist/graphs.js";
import { trainStepData } from "../dist/impls/inputs.js";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const steps = Number(arg("steps", "5"));
const backend = createCpuBackend({ profile: true, ...(arg("kernels") ? { kernels: arg("kernels") } : {}) });
const model = await compileModel(TRAIN_STEP_SOURCE, "bench/train-step.attn");
const { x, target, weights } = trainStepData();
const trainer = await Trainer.create(optimized(model.graph), backend, { loss: model.loss, optimizer: model.optimizer, weights });
await trainer.step({ x, target });
backend.profile({ reset: true });
const t0 = performance.now();
const c0 = process.cpuUsage();
let loss = 0;
for (let i = 0; i < steps; i++) loss = (await trainer.step({ x, target })).loss;
const wall = (performance.now() - t0) / steps;
const cu = process.cpuUsage(c0);
const cpu = (cu.user + cu.system) / 1000 / steps;
const p = backend.profile();
const perStep = { totalMs: p.totalMs / steps, ops: p.ops.map((r) => ({ ...r, calls: r.calls / steps, ms: r.ms / steps })) };
// CPU time (this process, all threads) is steadier than wall time on a machine shared with other work.
console.log(`${backend.description}: ${wall.toFixed(1)} ms/step wall, ${cpu.toFixed(1)} ms/step CPU, over ${steps} steps (kernels ${perStep.totalMs.toFixed(1)} ms wall), loss ${loss}`);
console.log(formatProfile(perStep, Number(arg("top", "25"))));
