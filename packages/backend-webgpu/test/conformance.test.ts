import { isGraph, optimize, type Graph } from "@attn/core";
import { loadCases, loadOptimizerCases, loadTrainingCases, modelCaseGradientGraph, modelCaseGraph, opCaseGradientGraph, opCaseGraph } from "@attn/conformance";
import { describeConformance } from "@attn/conformance/vitest";
import { createWebGpuBackend, getKernel } from "../src/index.js";
import { requireWebGpu } from "./helpers.js";

function opsOf(g: Graph, into = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    into.add(n.op);
    for (const v of Object.values(n.attrs)) if (isGraph(v)) opsOf(v, into);
  }
  return into;
}

const missingKernels = (graphs: readonly Graph[]) => [...new Set(graphs.flatMap((g) => [...opsOf(g)]))].filter((op) => !getKernel(op)).sort();

/**
 * The skip list, computed from the fixtures: a case whose op (or, for a model, any op of its lowered or
 * optimised graph) has no WGSL kernel is skipped naming that op; likewise its gradients when the backward
 * graphs the harness runs need an op without a kernel. Optimizer and training cases wait for updates.
 */
async function skipLists(): Promise<{ skip: Record<string, string>; skipGradients: Record<string, string> }> {
  const skip: Record<string, string> = {};
  const skipGradients: Record<string, string> = {};
  for (const c of await loadCases()) {
    let graphs: Graph[];
    let backward: Graph[] = [];
    if (c.kind === "op") {
      graphs = [opCaseGraph(c)];
      if (c.grad) backward = [opCaseGradientGraph(c)];
    } else {
      const g = await modelCaseGraph(c);
      // the webgpu backend has no evaluateNode, so the harness optimises without constant evaluation
      graphs = [g, optimize(g, {})];
      if (c.grad) backward = graphs.map((f) => modelCaseGradientGraph(c, f));
    }
    const missing = missingKernels(graphs);
    const missingBackward = missingKernels(backward);
    if (missing.length) skip[c.name] = `no WGSL kernel for ${missing.join(", ")} yet (#5)`;
    else if (missingBackward.length) skipGradients[c.name] = `no WGSL kernel for ${missingBackward.join(", ")} yet (#5)`;
  }
  const { optimizers, clips } = await loadOptimizerCases();
  for (const o of [...optimizers, ...clips]) skip[o.name] = "optimizer steps on WebGPU come with the backward kernels (#5)";
  for (const t of await loadTrainingCases()) skip[t.name] = "training on WebGPU comes with the backward kernels (#5)";
  return { skip, skipGradients };
}

if (await requireWebGpu("conformance: webgpu")) {
  await describeConformance("webgpu", () => createWebGpuBackend(), await skipLists());
}
