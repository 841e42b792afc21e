import { isGraph, optimize, type Graph } from "@attn/core";
import { modelCaseGradientGraph, modelCaseGraph, opCaseGradientGraph, opCaseGraph, type ConformanceCase } from "@attn/conformance";
import { getKernel } from "../src/index.js";

/** Every op of `g` and of its subgraphs (scan bodies), added to `into`. */
export function opsOf(g: Graph, into = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    into.add(n.op);
    for (const v of Object.values(n.attrs)) if (isGraph(v)) opsOf(v, into);
  }
  return into;
}

/** The ops of `graphs` with no WGSL kernel, sorted. */
export function missingKernels(graphs: readonly Graph[]): string[] {
  const ops = new Set<string>();
  for (const g of graphs) opsOf(g, ops);
  return [...ops].filter((op) => !getKernel(op)).sort();
}

/**
 * The ops a conformance case's forward graphs and (when it has gradients) backward graphs need that have
 * no WGSL kernel, from the graphs the harness actually builds: a model case runs as lowered and optimised
 * (without constant evaluation: backend-webgpu has no `evaluateNode`).
 */
export async function missingForCase(c: ConformanceCase): Promise<{ forward: string[]; backward: string[] }> {
  if (c.kind === "op") return { forward: missingKernels([opCaseGraph(c)]), backward: c.grad ? missingKernels([opCaseGradientGraph(c)]) : [] };
  const g = await modelCaseGraph(c);
  const forms = [g, optimize(g, {})];
  return { forward: missingKernels(forms), backward: c.grad ? missingKernels(forms.map((f) => modelCaseGradientGraph(c, f))) : [] };
}
