import { AttnError, GraphError, ShapeError } from "../errors.js";
import type { ShapeEnv } from "../shape-env.js";
import type { TensorType } from "../types.js";
import { formatType } from "../types.js";
import { inferNode } from "../ops/op.js";
import type { Graph, ValueId } from "./graph.js";

/** Rethrows `e` with the node's source span attached when it has none yet. */
export function withSpan(e: unknown, span: Graph["nodes"][number]["span"], context?: string): never {
  if (e instanceof ShapeError) throw e.withSpan(span);
  if (e instanceof AttnError) throw e.span || !span ? e : new (e.constructor as typeof GraphError)(e.detail, span);
  if (e instanceof Error && context) throw new GraphError(`${context}: ${e.message}`, span);
  throw e;
}

/**
 * Unifies a value's declared type with the type actually given for it (a feed, or a scan operand).
 * `what` names it in errors.
 */
export function unifyType(env: ShapeEnv, declared: TensorType, given: TensorType, what: string): TensorType {
  if (declared.dtype !== given.dtype) {
    throw new ShapeError(`${what} must be ${formatType(declared)}, got ${given.dtype}`);
  }
  if (declared.shape.length !== given.shape.length) {
    throw new ShapeError(`${what} must have rank ${declared.shape.length} (${formatType(declared)}), got ${formatType(given)}`);
  }
  const shape = declared.shape.map((d, i) => env.unify(d, given.shape[i], `dim ${i} of ${what} (${formatType(declared)} vs ${formatType(given)})`));
  return { dtype: declared.dtype, shape };
}

/**
 * Infers the types of every value of `graph` in `env`, starting from `inputTypes` (one per graph input;
 * defaults to the declared types). Returns the types of the graph outputs; `all` receives every value's.
 */
export function inferGraph(graph: Graph, env: ShapeEnv, inputTypes?: readonly TensorType[], all?: Map<ValueId, TensorType>): TensorType[] {
  const types = all ?? new Map<ValueId, TensorType>();
  if (inputTypes && inputTypes.length !== graph.inputs.length) {
    throw new GraphError(`${graph.name} takes ${graph.inputs.length} inputs, got ${inputTypes.length}`);
  }
  graph.inputs.forEach((id, i) => {
    const v = graph.values[id];
    types.set(id, inputTypes ? unifyType(env, v.type, inputTypes[i], `input "${v.name}" of ${graph.name}`) : v.type);
  });
  for (const p of graph.params) types.set(p.value, graph.values[p.value].type);
  for (const node of graph.nodes) {
    const ins = node.inputs.map((id) => {
      if (id === null) return null;
      const t = types.get(id);
      if (!t) throw new GraphError(`${node.op} reads value ${id} before it is defined`, node.span);
      return t;
    });
    let outs: TensorType[];
    try {
      outs = inferNode(env, node.op, ins, node.attrs).outputs;
    } catch (e) {
      withSpan(e, node.span, node.op);
    }
    if (outs.length !== node.outputs.length) {
      throw new GraphError(`${node.op} produces ${outs.length} values but the node lists ${node.outputs.length}`, node.span);
    }
    node.outputs.forEach((id, i) => types.set(id, outs[i]));
  }
  return graph.outputs.map((o) => {
    const t = types.get(o.value);
    if (!t) throw new GraphError(`output "${o.name}" of ${graph.name} refers to an undefined value`);
    return { dtype: t.dtype, shape: env.resolveShape(t.shape) };
  });
}
