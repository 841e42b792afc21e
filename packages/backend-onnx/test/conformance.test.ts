import { describe, it } from "vitest";
import { buildGradientGraph, buildTrainingGraph, dce, hoistScanInvariants, isGraph, optimize, validateGraph, type Graph } from "@attn/core";
import { compileSource } from "@attn/dsl";
import { loadCases, loadOptimizerCases, loadTrainingCases, modelCaseGraph, opCaseGraph, type ConformanceCase, type TrainingCase } from "@attn/conformance";
import { describeConformance } from "@attn/conformance/vitest";
import { createCpuBackend } from "@attn/backend-cpu";
import { createOnnxBackend, getExporter } from "../src/index.js";
import { runtimeAvailable } from "./helpers.js";

function opsOf(g: Graph, into = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    into.add(n.op);
    for (const v of Object.values(n.attrs)) if (isGraph(v)) opsOf(v, into);
  }
  return into;
}

const missingIn = (graphs: readonly Graph[]) => [...new Set(graphs.flatMap((g) => [...opsOf(g)]))].filter((op) => !getExporter(op)).sort();

/** Why an op has no exporter, when there is more to say than "not yet". */
const WHY: Record<string, string> = {
  dropout_mask: "dropout_mask needs integer bit operations, which opset 17 lacks",
};
const reasonFor = (missing: readonly string[]) =>
  `no ONNX exporter for ${missing.join(", ")} yet` + missing.filter((op) => WHY[op]).map((op) => ` (${WHY[op]})`).join("");

/** The backward graphs the harness (`runCase`) builds for a case: one for an op, as lowered and optimised for a model. */
async function gradientGraphs(c: ConformanceCase): Promise<Graph[]> {
  if (c.kind === "op") {
    const grad = c.grad!;
    const seeds = Object.fromEntries(grad.upstream.flatMap((u, i) => (u ? [[`out${i}`, "input" as const]] : [])));
    const inputs = (grad.inputs as readonly unknown[]).flatMap((g, i) => (g ? [`in${i}`] : []));
    return [buildGradientGraph(opCaseGraph(c), { seeds, params: [], inputs })];
  }
  const lowered = await modelCaseGraph(c);
  validateGraph(lowered);
  const g = c.grad!;
  const opts = { seeds: Object.fromEntries(Object.keys(g.upstream).map((k) => [k, "input" as const])), params: Object.keys(g.params ?? {}), inputs: Object.keys(g.inputs ?? {}) };
  // the ONNX backend has no evaluateNode, so the harness optimises without constant evaluation
  return [lowered, optimize(lowered, {})].map((f) => buildGradientGraph(f, opts));
}

/** The training step the Trainer builds for a training case. */
async function trainingGraph(t: TrainingCase): Promise<Graph> {
  const { graph } = await compileSource(t.source, { file: `${t.name}.attn`, model: t.model, hyper: t.hyper });
  const kind = ({ mse_loss: "mse", cross_entropy: "cross_entropy", binary_cross_entropy: "bce", binary_cross_entropy_with_logits: "bce_with_logits" } as const)[t.loss.op as "mse_loss"];
  return buildTrainingGraph(dce(hoistScanInvariants(graph!)), { loss: { kind, output: t.loss.output }, optimizer: { kind: t.optimizer.attrs.decoupled ? "adamw" : "adam", lr: t.optimizer.lr } }).graph;
}

/**
 * Skip lists computed from the fixtures: a case whose op (or, for a model, any op of its lowered or optimised
 * graph) has no exporter yet is skipped with that op named; a case's gradients are checked whenever every op
 * of its backward graphs has an exporter; optimizer cases and training runs likewise.
 */
async function skipLists(): Promise<{ skip: Record<string, string>; skipGradients: Record<string, string> }> {
  const skip: Record<string, string> = {};
  const skipGradients: Record<string, string> = {};
  const cpu = createCpuBackend();
  for (const c of await loadCases()) {
    let graphs: Graph[];
    if (c.kind === "op") graphs = [opCaseGraph(c)];
    else {
      const g = await modelCaseGraph(c);
      graphs = [g, optimize(g, { evaluate: cpu.evaluateNode.bind(cpu) })];
    }
    const missing = missingIn(graphs);
    if (missing.length) skip[c.name] = reasonFor(missing);
    else if (c.grad) {
      const missingGrad = missingIn(await gradientGraphs(c));
      if (missingGrad.length) skipGradients[c.name] = reasonFor(missingGrad);
    }
  }
  for (const o of (await loadOptimizerCases()).optimizers) if (!getExporter(o.op)) skip[o.name] = reasonFor([o.op]);
  for (const t of await loadTrainingCases()) {
    const missing = missingIn([await trainingGraph(t)]);
    if (missing.length) skip[t.name] = reasonFor(missing);
  }
  return { skip, skipGradients };
}

const lists = await skipLists();

const RUNS = [["onnx-node", "node", 17], ["onnx-web-wasm", "web", 17], ["onnx-node-opset23", "node", 23]] as const;
for (const [label, runtime, opset] of RUNS) {
  if (await runtimeAvailable(runtime)) {
    await describeConformance(label, () => createOnnxBackend({ runtime, numThreads: 1, opset }), lists);
  } else {
    describe(`conformance: ${label}`, () => it.skip(`onnxruntime-${runtime} is not installed`, () => {}));
  }
}
