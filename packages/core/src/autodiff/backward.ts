import { GraphError } from "../errors.js";
import { GraphBuilder } from "../ir/builder.js";
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
  const b = new GraphBuilder(`${graph.name}_grad`);
  const map = new Map<ValueId, ValueId>();
  const needs = new Set<ValueId>();
  const wrtParams = new Set(opts.params ?? graph.params.map((p) => p.name));
  const wrtInputs = new Set(opts.inputs ?? []);
  for (const name of wrtParams) if (!graph.params.some((p) => p.name === name)) throw new GraphError(`cannot differentiate "${name}": ${graph.name} has no such parameter`);

  // Replay the forward graph (same order, same names); mark what depends on what we differentiate.
  const order = [...graph.inputs.map((id) => ({ kind: "input" as const, id })), ...graph.params.map((p) => ({ kind: "param" as const, id: p.value, p }))].sort((x, y) => x.id - y.id);
  for (const item of order) {
    const v = graph.values[item.id];
    if (item.kind === "input") {
      const id = b.input(v.name, v.type);
      map.set(item.id, id);
      if (wrtInputs.has(v.name)) {
        if (v.type.dtype !== "float32") throw new GraphError(`cannot differentiate input "${v.name}" of type ${v.type.dtype}`);
        needs.add(id);
      }
    } else {
      const id = b.param(item.p.name, v.type, item.p.init, item.p.span);
      map.set(item.id, id);
      if (wrtParams.has(item.p.name)) needs.add(id);
    }
  }
  for (const name of wrtInputs) if (!graph.inputs.some((id) => graph.values[id].name === name)) throw new GraphError(`cannot differentiate "${name}": ${graph.name} has no such input`);

  const forward: (ForwardNode & { span?: Graph["nodes"][number]["span"] })[] = [];
  for (const n of graph.nodes) {
    const inputs = n.inputs.map((i) => (i === null ? null : map.get(i)!));
    const onPath = inputs.some((i) => i !== null && needs.has(i));
    // A recurrent node on the gradient path also returns its per-step carries, which its gradient reads.
    const attrs = n.op === "scan" && onPath ? { ...n.attrs, saveCarries: true } : n.attrs;
    const outs = b.add(n.op, inputs, attrs, { span: n.span, names: n.outputs.map((o) => graph.values[o].name) });
    n.outputs.forEach((o, i) => map.set(o, outs[i]));
    if (onPath) for (const o of outs) if (b.typeOf(o).dtype === "float32") needs.add(o);
    forward.push({ op: n.op, inputs, outputs: outs, attrs: attrs, ...(n.span ? { span: n.span } : {}) });
  }
  for (const o of graph.outputs) b.output(o.name, map.get(o.value)!, o.role);

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
