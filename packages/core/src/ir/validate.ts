import { GraphError } from "../errors.js";
import { ShapeEnv } from "../shape-env.js";
import { getOp } from "../ops/op.js";
import { normalizeAttrs } from "../ops/attrs.js";
import { inferGraph } from "./infer.js";
import { isGraph, type Graph, type ValueId } from "./graph.js";

/**
 * Checks the invariants every pass and backend relies on: value ids index the value table, names are
 * unique, every value is defined once before it is read, ops and attributes are known, subgraphs are
 * valid, and the types infer. Throws a GraphError (or ShapeError) pointing at the offending node.
 */
export function validateGraph(graph: Graph, env: ShapeEnv = new ShapeEnv()): void {
  checkStructure(graph);
  inferGraph(graph, env);
}

function checkStructure(graph: Graph): void {
  const where = `graph ${graph.name}`;
  const names = new Set<string>();
  graph.values.forEach((v, i) => {
    if (v.id !== i) throw new GraphError(`${where}: value at index ${i} has id ${v.id}`);
    if (names.has(v.name)) throw new GraphError(`${where}: two values are named "${v.name}"`);
    names.add(v.name);
  });
  const defined = new Set<ValueId>();
  const define = (id: ValueId, what: string) => {
    if (!graph.values[id]) throw new GraphError(`${where}: ${what} refers to value ${id}, which does not exist`);
    if (defined.has(id)) throw new GraphError(`${where}: value "${graph.values[id].name}" is defined twice (${what})`);
    defined.add(id);
  };
  graph.inputs.forEach((id) => define(id, "an input"));
  const paramNames = new Set<string>();
  for (const p of graph.params) {
    if (paramNames.has(p.name)) throw new GraphError(`${where}: parameter "${p.name}" is declared twice`, p.span);
    paramNames.add(p.name);
    define(p.value, `parameter ${p.name}`);
  }
  for (const node of graph.nodes) {
    const def = getOp(node.op);
    normalizeAttrs(node.op, def.attrs, node.attrs);
    for (const id of node.inputs) {
      if (id !== null && !defined.has(id)) {
        throw new GraphError(`${where}: ${node.op} reads "${graph.values[id]?.name ?? id}" before it is defined`, node.span);
      }
    }
    for (const id of node.outputs) define(id, `an output of ${node.op}`);
    for (const a of Object.values(node.attrs)) if (isGraph(a)) checkStructure(a);
  }
  for (const u of graph.updates ?? []) {
    const p = graph.params.find((x) => x.name === u.param);
    if (!p) throw new GraphError(`${where}: update of "${u.param}", which is not a parameter`);
    if (!defined.has(u.value)) throw new GraphError(`${where}: update of "${u.param}" refers to an undefined value`);
  }
  const outNames = new Set<string>();
  for (const o of graph.outputs) {
    if (outNames.has(o.name)) throw new GraphError(`${where}: output "${o.name}" is declared twice`);
    outNames.add(o.name);
    if (!defined.has(o.value)) throw new GraphError(`${where}: output "${o.name}" refers to an undefined value`);
  }
}
