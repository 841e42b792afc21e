import type { Graph, Node, ValueId } from "../ir/graph.js";
import type { ConstantValue } from "../ops/constant.js";
import { Tensor } from "../tensor.js";
import { AttnError } from "../errors.js";

/** Evaluates one node on host tensors; a backend provides it (core has no kernels). */
export type NodeEvaluator = (node: Node, inputs: readonly Tensor[]) => Tensor[];

// Folding a large tensor into the graph would bloat JSON and exports; such nodes stay computed.
const MAX_FOLDED_ELEMENTS = 4096;

function tensorOf(c: ConstantValue): Tensor {
  return Tensor.from(c.data as number[], { dtype: c.dtype, shape: c.shape });
}

/**
 * Constant folding: a node whose inputs are all constants (and that is not stateful or random) is
 * replaced by a `constant` holding its result.
 */
export function constantFold(graph: Graph, evaluate: NodeEvaluator): Graph {
  const consts = new Map<ValueId, ConstantValue>();
  const nodes = graph.nodes.map((n): Node => {
    if (n.op === "constant") {
      consts.set(n.outputs[0], n.attrs.value as unknown as ConstantValue);
      return n;
    }
    const foldable = n.op !== "scan" && n.op !== "dropout" && n.inputs.length > 0 && n.inputs.every((i) => i !== null && consts.has(i));
    if (!foldable) return n;
    let results: Tensor[];
    try {
      results = evaluate(n, n.inputs.map((i) => tensorOf(consts.get(i!)!)));
    } catch (e) {
      // A node that fails on constants is left in place, so the error surfaces at run time with its span.
      if (e instanceof AttnError) return n;
      throw e;
    }
    if (results.length !== 1 || results[0].size > MAX_FOLDED_ELEMENTS) return n;
    const r = results[0];
    const value: ConstantValue = { dtype: r.dtype, shape: [...r.shape], data: Array.from(r.data) };
    consts.set(n.outputs[0], value);
    return { id: n.id, op: "constant", inputs: [], outputs: n.outputs, attrs: { value: value as never }, ...(n.span ? { span: n.span } : {}) };
  });
  return { ...graph, nodes };
}
