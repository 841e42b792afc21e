import { GraphError } from "../errors.js";
import { replayGraph } from "../ir/replay.js";
import type { Graph, ValueId } from "../ir/graph.js";
import { GradContext } from "./grad-context.js";
import { getGrad, type ForwardNode } from "./grad-registry.js";

/** How the gradient graph is seeded and what it differentiates. */
export interface GradientOptions {
  /**
   * Outputs to differentiate and how their gradient enters: `"ones"` (a loss: d loss = 1 everywhere) or
   * `"input"` (an upstream gradient fed as the graph input `grad:<output>`).
   */
  readonly seeds: Readonly<Record<string, "ones" | "input">>;
  /** Parameters to differentiate (default: all). */
  readonly params?: readonly string[];
  /** Graph inputs to differentiate (float32 only; default: none). */
  readonly inputs?: readonly string[];
}

/** The name of the gradient output for a parameter or input. */
export const gradName = (name: string) => `grad:${name}`;

/**
 * Reverse-mode autodiff on the IR: returns a graph that computes the forward outputs and, for each
 * requested parameter and input `p`, the output `grad:<p>` = d(Σ seedᵢ ⊙ outputᵢ)/dp. Each op's gradient is
 * its registered GradFn (IR nodes), so the result runs on any backend that runs the ops. A parameter that
 * does not influence the seeded outputs gets zeros.
 */
export function buildGradientGraph(graph: Graph, opts: GradientOptions): Graph {
  const wrtParams = new Set(opts.params ?? graph.params.map((p) => p.name));
  const wrtInputs = new Set(opts.inputs ?? []);
  for (const name of wrtParams) if (!graph.params.some((p) => p.name === name)) throw new GraphError(`cannot differentiate "${name}": ${graph.name} has no such parameter`);
  for (const name of wrtInputs) {
    const id = graph.inputs.find((i) => graph.values[i].name === name);
    if (id === undefined) throw new GraphError(`cannot differentiate "${name}": ${graph.name} has no such input`);
    if (graph.values[id].type.dtype !== "float32") throw new GraphError(`cannot differentiate input "${name}" of type ${graph.values[id].type.dtype}`);
  }

  // What depends on what we differentiate (in the original graph's ids).
  const dependsOld = new Set<ValueId>([
    ...graph.params.filter((p) => wrtParams.has(p.name)).map((p) => p.value),
    ...graph.inputs.filter((i) => wrtInputs.has(graph.values[i].name)),
  ]);
  const onPathOld = new Set<Graph["nodes"][number]>();
  for (const n of graph.nodes) {
    if (!n.inputs.some((i) => i !== null && dependsOld.has(i))) continue;
    onPathOld.add(n);
    for (const o of n.outputs) if (graph.values[o].type.dtype === "float32") dependsOld.add(o);
  }
  // Replay the forward graph; a recurrent node on the gradient path also returns its per-step carries,
  // which its gradient reads.
  const { builder: b, map, outputsOf } = replayGraph(graph, `${graph.name}_grad`, (n) => (n.op === "scan" && onPathOld.has(n) ? { ...n.attrs, saveCarries: true } : n.attrs));
  const needs = new Set<ValueId>([...dependsOld].map((id) => map.get(id)!));
  const forward: (ForwardNode & { span?: Graph["nodes"][number]["span"] })[] = graph.nodes.map((n) => ({
    op: n.op,
    inputs: n.inputs.map((i) => (i === null ? null : map.get(i)!)),
    outputs: outputsOf.get(n)!,
    attrs: n.op === "scan" && onPathOld.has(n) ? { ...n.attrs, saveCarries: true } : n.attrs,
    ...(n.span ? { span: n.span } : {}),
  }));

  // Seed, then walk the nodes backwards accumulating each value's gradient.
  const grads = new Map<ValueId, ValueId>();
  const root = new GradContext(b);
  for (const [name, how] of Object.entries(opts.seeds)) {
    const out = graph.outputs.find((o) => o.name === name);
    if (!out) throw new GraphError(`cannot seed "${name}": ${graph.name} has no such output`);
    const v = map.get(out.value)!;
    const t = b.typeOf(v);
    if (t.dtype !== "float32") throw new GraphError(`cannot differentiate output "${name}" of type ${t.dtype}`);
    const seed = how === "input" ? b.input(gradName(name), t) : root.add1("add", [root.zerosLike(v), root.scalar(1)]);
    grads.set(v, root.sum(grads.get(v) ?? null, seed)!);
  }
  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k];
    const dys = node.outputs.map((o) => grads.get(o) ?? null);
    if (dys.every((d) => d === null) || !node.inputs.some((i) => i !== null && needs.has(i))) continue;
    const fn = getGrad(node.op);
    if (!fn) throw new GraphError(`${node.op} has no gradient, but the loss depends on it through a parameter`, node.span);
    const ctx = new GradContext(b, node.span);
    const dxs = fn(ctx, node, dys);
    node.inputs.forEach((inp, i) => {
      const dx = dxs[i];
      if (inp === null || dx === null || dx === undefined || !needs.has(inp)) return;
      grads.set(inp, ctx.sum(grads.get(inp) ?? null, dx)!);
    });
  }

  const emit = (name: string, id: ValueId) => b.output(gradName(name), grads.get(id) ?? root.zerosLike(id));
  for (const p of graph.params) if (wrtParams.has(p.name)) emit(p.name, map.get(p.value)!);
  for (const id of graph.inputs) if (wrtInputs.has(graph.values[id].name)) emit(graph.values[id].name, map.get(id)!);
  return b.build(graph.span);
}
