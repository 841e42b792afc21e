import type { Graph, Node, Value, ValueId } from "../ir/graph.js";

// Ops that must not move out of a loop: randomness (each step draws anew) and nested loops (kept simple).
const PINNED = new Set(["dropout", "scan"]);

/**
 * Loop-invariant code motion for `scan`: a body node whose inputs are all captures (values from outside
 * the loop, parameters included) or other invariant nodes computes the same thing at every step, so it
 * moves to the enclosing graph and its result enters the body as a new capture. Attention over a fixed
 * memory benefits most: the key projection `W_k · annotations` then runs once instead of once per step.
 * Gradients stay correct: a capture's gradient is accumulated over the steps.
 */
export function hoistScanInvariants(graph: Graph): Graph {
  const values: Value[] = [...graph.values];
  const nodes: Node[] = [];
  let changed = false;
  for (const n of graph.nodes) {
    if (n.op !== "scan") {
      nodes.push(n);
      continue;
    }
    const body0 = n.attrs.body as unknown as Graph;
    const body = hoistScanInvariants(body0);
    const nc = n.attrs.numCarries as number;
    const ns = n.attrs.numSequences as number;
    // Body value id → the parent value id it stands for (captures, then hoisted results).
    const outer = new Map<ValueId, ValueId>();
    body.inputs.forEach((id, i) => {
      if (i >= nc + ns) outer.set(id, n.inputs[i]!);
    });
    const hoisted = new Set<Node>();
    const bodyOutputs = new Set(body.outputs.map((o) => o.value));
    for (const bn of body.nodes) {
      if (PINNED.has(bn.op) || !bn.inputs.every((i) => i === null || outer.has(i))) continue;
      if (bn.inputs.length === 0 && bn.outputs.every((o) => !bodyOutputs.has(o))) continue; // constants stay: cheap, and keep the body self-contained
      const outs = bn.outputs.map((o) => {
        const id = values.length;
        values.push({ id, name: uniqueName(values, `${body.values[o].name}_hoisted`), type: body.values[o].type });
        outer.set(o, id);
        return id;
      });
      nodes.push({ ...bn, id: -1, inputs: bn.inputs.map((i) => (i === null ? null : outer.get(i)!)), outputs: outs });
      hoisted.add(bn);
    }
    if (hoisted.size === 0 && body === body0) {
      nodes.push(n);
      continue;
    }
    changed = true;
    // The hoisted nodes' outputs become body inputs (captures) under the same value ids.
    const newCaptures = [...hoisted].flatMap((bn) => bn.outputs);
    const newBody: Graph = { ...body, inputs: [...body.inputs, ...newCaptures], nodes: body.nodes.filter((bn) => !hoisted.has(bn)).map((bn, id) => ({ ...bn, id })) };
    nodes.push({ ...n, inputs: [...n.inputs, ...newCaptures.map((o) => outer.get(o)!)], attrs: { ...n.attrs, body: newBody as never } });
  }
  if (!changed) return graph;
  return { ...graph, values, nodes: nodes.map((x, id) => ({ ...x, id })) };
}

function uniqueName(values: readonly Value[], base: string): string {
  const taken = new Set(values.map((v) => v.name));
  let name = base;
  for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
  return name;
}
