import type { RunOptions } from "../backend.js";
import { BackendError } from "../errors.js";
import type { Graph, Param, ValueId } from "../ir/graph.js";
import type { Tensor } from "../tensor.js";
import { formatType } from "../types.js";

/**
 * The outputs a run asks for (all by default), by name and value id. An unknown name is a BackendError
 * listing the graph's outputs. Shared by every backend so they answer alike.
 */
export function requestedOutputs(graph: Graph, opts?: RunOptions): { names: string[]; ids: ValueId[] } {
  const names = [...(opts?.outputs ?? graph.outputs.map((o) => o.name))];
  const ids = names.map((n) => {
    const o = graph.outputs.find((x) => x.name === n);
    if (!o) throw new BackendError(`unknown output "${n}"; ${graph.name} has ${graph.outputs.map((x) => x.name).join(", ") || "no outputs"}`);
    return o.value;
  });
  return { names, ids };
}

/** Throws a BackendError (at the parameter's span) unless `t` has parameter `p`'s dtype and shape. */
export function checkParamTensor(graph: Graph, p: Param, t: Tensor): void {
  const want = graph.values[p.value].type;
  if (t.dtype !== want.dtype || t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i])) {
    throw new BackendError(`parameter "${p.name}" must be ${formatType(want)}, got ${formatType(t)}`, p.span);
  }
}

/** The parameter `writeParams` may replace with `t`: it must exist and keep its type. */
export function paramForWrite(graph: Graph, name: string, t: Tensor): Param {
  const p = graph.params.find((x) => x.name === name);
  if (!p) throw new BackendError(`cannot write "${name}": ${graph.name} has no such parameter`);
  checkParamTensor(graph, p, t);
  return p;
}
