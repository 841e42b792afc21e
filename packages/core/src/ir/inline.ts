import { GraphError } from "../errors.js";
import { formatType } from "../types.js";
import type { GraphBuilder } from "./builder.js";
import type { Graph, ValueId } from "./graph.js";

/**
 * Copies every node of `graph` into `builder`, reading `graph`'s inputs from `inputIds` (one per graph
 * input, in `graph.inputs` order), and returns the ids of `graph`'s outputs in the builder. Types are
 * inferred again in the builder's environment, so a graph built with symbolic shapes (a scan body, the
 * gradient of one) adapts to the shapes it is inlined with. Used to compose subgraphs, e.g. a
 * vector-Jacobian body wrapped into the body of a reverse scan.
 *
 * The graph must have no parameters (a scan body receives them as captures): there would be nothing in
 * the builder to bind them to.
 */
export function inlineGraph(builder: GraphBuilder, graph: Graph, inputIds: readonly ValueId[]): ValueId[] {
  if (graph.params.length) {
    throw new GraphError(`cannot inline ${graph.name}: it declares parameters (${graph.params.map((p) => p.name).join(", ")}); pass them as inputs instead`);
  }
  if (inputIds.length !== graph.inputs.length) {
    throw new GraphError(`cannot inline ${graph.name}: it takes ${graph.inputs.length} inputs, got ${inputIds.length}`);
  }
  const map = new Map<ValueId, ValueId>();
  graph.inputs.forEach((id, i) => {
    const want = graph.values[id].type;
    const got = builder.typeOf(inputIds[i]);
    // Dims are checked again by the nodes that read the input; dtype and rank are what they cannot catch.
    if (want.dtype !== got.dtype || want.shape.length !== got.shape.length) {
      throw new GraphError(`cannot inline ${graph.name}: input "${graph.values[id].name}" is ${formatType(want)}, got ${formatType(got)}`);
    }
    map.set(id, inputIds[i]);
  });
  for (const n of graph.nodes) {
    const ins = n.inputs.map((i) => {
      if (i === null) return null;
      const m = map.get(i);
      if (m === undefined) throw new GraphError(`cannot inline ${graph.name}: ${n.op} reads value ${i} before it is defined`, n.span);
      return m;
    });
    const outs = builder.add(n.op, ins, n.attrs, { span: n.span, names: n.outputs.map((o) => graph.values[o].name) });
    n.outputs.forEach((o, i) => map.set(o, outs[i]));
  }
  return graph.outputs.map((o) => {
    const m = map.get(o.value);
    if (m === undefined) throw new GraphError(`cannot inline ${graph.name}: output "${o.name}" is never defined`);
    return m;
  });
}
