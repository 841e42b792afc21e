import type { Graph, Node, ValueId } from "../ir/graph.js";
import { isGraph } from "../ir/graph.js";

/**
 * Dead-code elimination: keeps only nodes whose outputs reach a graph output (scan bodies are cleaned
 * too). Parameters and inputs are kept, since they are part of the graph's interface.
 */
export function dce(graph: Graph): Graph {
  const live = new Set<ValueId>([...graph.outputs.map((o) => o.value), ...(graph.updates ?? []).map((u) => u.value)]);
  const kept: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (!n.outputs.some((o) => live.has(o))) continue;
    for (const x of n.inputs) if (x !== null) live.add(x);
    kept.push(n);
  }
  kept.reverse();
  const nodes = kept.map((n, id) => {
    const attrs = Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, isGraph(v) ? dce(v) : v]));
    return { ...n, id, attrs };
  });
  return { ...graph, nodes };
}
