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

/** Ops whose exporter needs a newer opset than some runs use (the export throws below it). */
const MIN_OPSET: Record<string, number> = { dropout_mask: 18 };

/** Ops of `graphs` the exporter cannot translate at `opset`: no exporter, or one that needs a newer opset. */
const missingIn = (graphs: readonly Graph[], opset: number) =>
  [...new Set(graphs.flatMap((g) => [...opsOf(g)]))].filter((op) => !getExporter(op) || (MIN_OPSET[op] ?? 0) > opset).sort();

/** Why an op cannot be exported, when there is more to say than "not yet". */
const WHY: Record<string, string> = {
  dropout_mask: "dropout_mask's counter-based hash needs BitwiseXor (opset 18); it exports at opset 23",
};
const reasonFor = (missing: readonly string[], opset: number) =>
  `no ONNX export for ${missing.join(", ")} at opset ${opset} yet` + missing.filter((op) => WHY[op]).map((op) => ` (${WHY[op]})`).join("");

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
 * Skip lists computed from the fixtures for one opset: a case whose op (or, for a model, any op of its lowered
 * or optimised graph) cannot be exported at that opset is skipped with that op named; a case's gradients are
 * checked whenever every op of its backward graphs exports; optimizer cases and training runs likewise.
 */
async function skipLists(opset: number): Promise<{ skip: Record<string, string>; skipGradients: Record<string, string> }> {
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
    const missing = missingIn(graphs, opset);
    if (missing.length) skip[c.name] = reasonFor(missing, opset);
    else if (c.grad) {
      const missingGrad = missingIn(await gradientGraphs(c), opset);
      if (missingGrad.length) skipGradients[c.name] = reasonFor(missingGrad, opset);
    }
  }
  for (const o of (await loadOptimizerCases()).optimizers) if (!getExporter(o.op)) skip[o.name] = reasonFor([o.op], opset);
  for (const t of await loadTrainingCases()) {
    const missing = missingIn([await trainingGraph(t)], opset);
    if (missing.length) skip[t.name] = reasonFor(missing, opset);
  }
  return { skip, skipGradients };
}

const lists = { 17: await skipLists(17), 23: await skipLists(23) };

const RUNS = [["onnx-node", "node", 17], ["onnx-web-wasm", "web", 17], ["onnx-node-opset23", "node", 23]] as const;
for (const [label, runtime, opset] of RUNS) {
  if (await runtimeAvailable(runtime)) {
    await describeConformance(label, () => createOnnxBackend({ runtime, numThreads: 1, opset }), lists[opset]);
  } else {
    describe(`conformance: ${label}`, () => it.skip(`onnxruntime-${runtime} is not installed`, () => {}));
  }
}
