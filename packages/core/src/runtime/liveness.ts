import { GraphError } from "../errors.js";
import type { Graph, Node, ValueId } from "../ir/graph.js";

/** One node of a run, with the values whose last reader it is (freed after it). */
export interface LiveStep {
  /** Index of the node in `graph.nodes`. */
  readonly index: number;
  readonly node: Node;
  readonly release: readonly ValueId[];
}

/**
 * The nodes a run needs to compute `outputs` (in graph order) and, for each, the intermediate values that
 * die after it. Values in `resident` (parameters) and the graph inputs and outputs are never released.
 * Throws a GraphError when a node reads a value nothing defines. Kernel-per-op backends share it.
 */
export function planLiveness(graph: Graph, outputs: readonly ValueId[], resident: Iterable<ValueId>): LiveStep[] {
  const needed = new Set<ValueId>(outputs);
  const keep: number[] = [];
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k];
    if (!n.outputs.some((o) => needed.has(o))) continue;
    keep.push(k);
    for (const i of n.inputs) if (i !== null) needed.add(i);
  }
  keep.reverse();
  const name = (id: ValueId) => graph.values[id]?.name ?? `#${id}`;
  const residentSet = new Set(resident);
  const available = new Set<ValueId>([...graph.inputs, ...residentSet]);
  const lastUse = new Map<ValueId, number>();
  keep.forEach((k, s) => {
    const n = graph.nodes[k];
    for (const i of n.inputs) {
      if (i === null) continue;
      if (!available.has(i)) throw new GraphError(`${n.op} reads "${name(i)}", which no earlier node, input or parameter of ${graph.name} defines`, n.span);
      lastUse.set(i, s);
    }
    for (const o of n.outputs) available.add(o);
  });
  for (const o of outputs) if (!available.has(o)) throw new GraphError(`output value "${name(o)}" of ${graph.name} is never defined`);
  const pinned = new Set<ValueId>([...outputs, ...graph.inputs, ...residentSet]);
  const release: ValueId[][] = keep.map(() => []);
  keep.forEach((k, s) => {
    for (const o of graph.nodes[k].outputs) if (!pinned.has(o)) release[lastUse.get(o) ?? s].push(o);
  });
  return keep.map((index, s) => ({ index, node: graph.nodes[index], release: release[s] }));
}
