import { GraphBuilder, Trainer, clipGradNorm, type Backend, type Executable, type Graph } from "@attn/core";
import { decodeTensor, loadCases, loadOptimizerCases, loadTrainingCases, type ClipCase, type TrainingCase } from "@attn/conformance";
import { describeConformance } from "@attn/conformance/vitest";
import { compileSource } from "@attn/dsl";
import { createWebGpuBackend, getKernel } from "../src/index.js";
import { requireWebGpu } from "./helpers.js";
import { missingForCase, opsOf } from "./kernel-coverage.js";

/** The graph `runClipCase` runs: core's clipGradNorm over the case's gradients. */
function clipGraph(c: ClipCase): Graph {
  const b = new GraphBuilder(c.name);
  const ids = c.grads.map((t, i) => b.input(`g${i}`, { dtype: "float32", shape: decodeTensor(t, `${c.name} grad ${i}`).shape }));
  const { clipped, norm } = clipGradNorm(b, ids, c.max_norm, { normType: c.norm_type });
  clipped.forEach((id, i) => b.output(`clipped${i}`, id));
  b.output("norm", norm);
  return b.build();
}

const TRAINING_LOSSES = { mse_loss: "mse", cross_entropy: "cross_entropy", binary_cross_entropy: "bce", binary_cross_entropy_with_logits: "bce_with_logits" } as const;

/**
 * The graphs `runTrainingCase` compiles (the training step and the loss-only graph), captured by handing
 * the Trainer a backend that records what it is asked to compile and runs nothing.
 */
async function trainingGraphs(t: TrainingCase): Promise<Graph[]> {
  const { graph } = await compileSource(t.source, { file: `${t.name}.attn`, model: t.model, hyper: t.hyper });
  const kind = TRAINING_LOSSES[t.loss.op as keyof typeof TRAINING_LOSSES];
  if (!graph || !kind) return []; // runTrainingCase reports these
  const graphs: Graph[] = [];
  const inert: Executable = { run: async () => ({}), readParams: async () => new Map(), writeParams: async () => {}, dispose: () => {} };
  const recorder: Backend = { name: "recorder", supports: () => true, compile: async (g) => (graphs.push(g), inert) };
  const a = t.optimizer.attrs;
  await Trainer.create(graph, recorder, {
    loss: { kind, output: t.loss.output },
    optimizer: { kind: a.decoupled ? "adamw" : "adam", lr: t.optimizer.lr },
    weights: new Map(Object.entries(t.initialWeights).map(([k, w]) => [k, decodeTensor(w, k)])),
  });
  return graphs;
}

/**
 * The skip list, computed from the fixtures: a case whose op (or, for a model, any op of its lowered or
 * optimised graph) has no WGSL kernel is skipped naming that op; likewise its gradients when the backward
 * graphs the harness runs need an op without a kernel. Optimizer, clipping and training cases likewise,
 * from the graphs their runners compile.
 */
async function skipLists(): Promise<{ skip: Record<string, string>; skipGradients: Record<string, string> }> {
  const skip: Record<string, string> = {};
  const skipGradients: Record<string, string> = {};
  for (const c of await loadCases()) {
    const { forward, backward } = await missingForCase(c);
    if (forward.length) skip[c.name] = `no WGSL kernel for ${forward.join(", ")} (#5)`;
    else if (backward.length) skipGradients[c.name] = `no WGSL kernel for ${backward.join(", ")} (#5)`;
  }
  const { optimizers, clips } = await loadOptimizerCases();
  // the ops each optimizer, clipping and training case runs, by case name
  const needs: [string, Iterable<string>][] = [
    ...optimizers.map((o): [string, string[]] => [o.name, [o.op]]),
    ...clips.map((c): [string, Set<string>] => [c.name, opsOf(clipGraph(c))]),
    ...(await Promise.all((await loadTrainingCases()).map(async (t): Promise<[string, Set<string>]> => {
      const ops = new Set<string>();
      for (const g of await trainingGraphs(t)) opsOf(g, ops);
      return [t.name, ops];
    }))),
  ];
  for (const [name, ops] of needs) {
    const missing = [...ops].filter((op) => !getKernel(op)).sort();
    if (missing.length) skip[name] = `no WGSL kernel for ${missing.join(", ")} (#5)`;
  }
  return { skip, skipGradients };
}

if (await requireWebGpu("conformance: webgpu")) {
  await describeConformance("webgpu", () => createWebGpuBackend(), { ...(await skipLists()), timeoutMs: 60_000 });
}
