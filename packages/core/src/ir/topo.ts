import { GraphError } from "../errors.js";
import type { Graph, Node, ValueId } from "./graph.js";

/**
 * Orders `nodes` so that every node comes after the producers of its inputs, keeping the given order
 * where it already works (passes that move nodes call this instead of reasoning about positions).
 */
export function topoSort(graph: Pick<Graph, "inputs" | "params">, nodes: readonly Node[]): Node[] {
  const ready = new Set<ValueId>([...graph.inputs, ...graph.params.map((p) => p.value)]);
  const pending = [...nodes];
  const out: Node[] = [];
  while (pending.length) {
    const i = pending.findIndex((n) => n.inputs.every((v) => v === null || ready.has(v)));
    if (i < 0) throw new GraphError(`graph has a cycle or reads an undefined value at ${pending[0].op}`, pending[0].span);
    const [n] = pending.splice(i, 1);
    out.push(n);
    for (const o of n.outputs) ready.add(o);
  }
  return out.map((n, id) => ({ ...n, id }));
}
