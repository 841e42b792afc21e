import { describe, it } from "vitest";
import { isGraph, optimize, type Graph } from "@attn/core";
import { loadCases, loadOptimizerCases, loadTrainingCases, modelCaseGraph } from "@attn/conformance";
import { describeConformance } from "@attn/conformance/vitest";
import { createCpuBackend } from "@attn/backend-cpu";
import { createOnnxBackend, getExporter } from "../src/index.js";
import { runtimeAvailable } from "./helpers.js";

const TRAINING_REASON = "training export to ONNX is the next step of #4";

function opsOf(g: Graph, into = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    into.add(n.op);
    for (const v of Object.values(n.attrs)) if (isGraph(v)) opsOf(v, into);
  }
  return into;
}

/**
 * Skip lists computed from the fixtures: a case whose op (or, for a model, any op of its lowered or optimised
 * graph) has no exporter yet is skipped with that op named; training runs and every case's gradients wait
 * for the training export.
 */
async function skipLists(): Promise<{ skip: Record<string, string>; skipGradients: Record<string, string> }> {
  const skip: Record<string, string> = {};
  const skipGradients: Record<string, string> = {};
  const cpu = createCpuBackend();
  for (const c of await loadCases()) {
    let ops: string[];
    if (c.kind === "op") ops = [c.op];
    else {
      const g = await modelCaseGraph(c);
      ops = [...opsOf(g), ...opsOf(optimize(g, { evaluate: cpu.evaluateNode.bind(cpu) }))];
    }
    const missing = [...new Set(ops)].filter((op) => !getExporter(op)).sort();
    const training = missing.length > 0 && missing.every((op) => /cross_entropy|_loss$|_grad$|_update$/.test(op));
    if (missing.length) skip[c.name] = training ? `no ONNX exporter for ${missing.join(", ")}: a training op, ${TRAINING_REASON}` : `no ONNX exporter for ${missing.join(", ")} yet`;
    else if (c.grad) skipGradients[c.name] = TRAINING_REASON;
  }
  for (const o of (await loadOptimizerCases()).optimizers) skip[o.name] = `no ONNX exporter for ${o.op} (optimizer updates are training ops): ${TRAINING_REASON}`;
  for (const t of await loadTrainingCases()) skip[t.name] = `${TRAINING_REASON} (a training run updates parameters in place)`;
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
