import { GraphBuilder } from "./builder.js";
import type { Attrs, Graph, Node, ValueId } from "./graph.js";

export interface Replay {
  readonly builder: GraphBuilder;
  /** Value id in `graph` → value id in `builder`. */
  readonly map: Map<ValueId, ValueId>;
  /** Every output of each replayed node (more than the original when `attrsOf` asked for more). */
  readonly outputsOf: Map<Node, ValueId[]>;
}

/**
 * Re-creates `graph` in a fresh builder (inputs and parameters in their original order, then every node,
 * then the outputs and updates), so a pass can extend it: add a loss, a backward pass, optimizer updates.
 * `attrsOf` may change a node's attributes on the way (e.g. ask a scan to save its carries).
 */
export function replayGraph(graph: Graph, name = graph.name, attrsOf?: (node: Node, inputs: readonly (ValueId | null)[]) => Attrs): Replay {
  const b = new GraphBuilder(name);
  const map = new Map<ValueId, ValueId>();
  const outputsOf = new Map<Node, ValueId[]>();
  const params = new Map(graph.params.map((p) => [p.value, p]));
  const inputs = new Set(graph.inputs);
  const leaves = [...graph.inputs, ...graph.params.map((p) => p.value)].sort((x, y) => x - y);
  for (const id of leaves) {
    const v = graph.values[id];
    const p = params.get(id);
    if (inputs.has(id)) map.set(id, b.input(v.name, v.type));
    else if (p) map.set(id, b.param(p.name, v.type, p.init, p.span, p.role));
  }
  for (const n of graph.nodes) {
    const ins = n.inputs.map((i) => (i === null ? null : map.get(i)!));
    const outs = b.add(n.op, ins, attrsOf ? attrsOf(n, ins) : n.attrs, { span: n.span, names: n.outputs.map((o) => graph.values[o].name) });
    n.outputs.forEach((o, i) => map.set(o, outs[i]));
    outputsOf.set(n, outs);
  }
  for (const o of graph.outputs) b.output(o.name, map.get(o.value)!, o.role);
  for (const u of graph.updates ?? []) b.update(u.param, map.get(u.value)!);
  return { builder: b, map, outputsOf };
}
