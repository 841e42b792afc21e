import { WeightsError } from "../errors.js";
import { formatShape } from "../dim.js";
import type { Graph } from "../ir/graph.js";
import { Rng } from "../init/rng.js";
import { initTensor } from "../init/initializer.js";
import type { Tensor } from "../tensor.js";

export interface BindParamsOptions {
  /** Seed for parameters that `weights` does not give (default 0). */
  seed?: number;
  /** When true (default false), every parameter must come from `weights`. */
  requireAll?: boolean;
  /** When true (default), a weight that matches no parameter is an error (it usually means a typo). */
  rejectUnknown?: boolean;
  /** Names the weights source in errors (a file path). */
  source?: string;
}

/**
 * Produces the value of every graph parameter: taken from `weights` (checked for dtype and shape) or
 * drawn from the seeded generator in declaration order. Every parameter consumes its random draws even
 * when it is loaded, so a partial load leaves the other parameters exactly as a fresh init would.
 */
export function bindParams(graph: Graph, weights: ReadonlyMap<string, Tensor> = new Map(), opts: BindParamsOptions = {}): Map<string, Tensor> {
  const src = opts.source ?? "weights";
  const rng = new Rng(opts.seed ?? 0);
  const out = new Map<string, Tensor>();
  const missing: string[] = [];
  for (const p of graph.params) {
    const type = graph.values[p.value].type;
    const shape = type.shape as number[];
    const drawn = initTensor(p.init, shape, rng);
    const given = weights.get(p.name);
    if (!given) {
      if (p.role !== "state") missing.push(p.name);
      out.set(p.name, drawn);
      continue;
    }
    if (given.dtype !== type.dtype) throw new WeightsError(`${src}: parameter "${p.name}" must be ${type.dtype}, the file has ${given.dtype}`, p.span);
    if (given.shape.length !== shape.length || given.shape.some((d, i) => d !== shape[i])) {
      throw new WeightsError(`${src}: parameter "${p.name}" must have shape ${formatShape(shape)}, the file has ${formatShape(given.shape)}`, p.span);
    }
    out.set(p.name, given);
  }
  if (opts.requireAll && missing.length) {
    throw new WeightsError(`${src}: missing ${missing.length} parameter(s): ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", …" : ""}`);
  }
  if (opts.rejectUnknown ?? true) {
    const known = new Set(graph.params.map((p) => p.name));
    const extra = [...weights.keys()].filter((k) => !known.has(k));
    if (extra.length) {
      throw new WeightsError(
        `${src}: ${extra.length} tensor(s) match no parameter of ${graph.name}: ${extra.slice(0, 10).join(", ")}${extra.length > 10 ? ", …" : ""}` +
          ` (its parameters are ${[...known].slice(0, 10).join(", ")}${known.size > 10 ? ", …" : ""})`,
      );
    }
  }
  return out;
}
