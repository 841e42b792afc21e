import { BackendError, ShapeError } from "../errors.js";
import { ShapeEnv } from "../shape-env.js";
import type { Graph } from "../ir/graph.js";
import { unifyType } from "../ir/infer.js";
import { Tensor } from "../tensor.js";

/**
 * Checks user feeds against the graph inputs (names, dtypes, ranks, and that symbolic dims agree across
 * inputs) and returns the environment binding every symbol to a size. Shared by all backends so a bad
 * feed gets the same message everywhere.
 */
export function bindFeeds(graph: Graph, feeds: Readonly<Record<string, Tensor>>): ShapeEnv {
  const env = new ShapeEnv();
  const expected = graph.inputs.map((id) => graph.values[id]);
  for (const name of Object.keys(feeds)) {
    if (!expected.some((v) => v.name === name)) {
      throw new BackendError(`unknown input "${name}"; ${graph.name} takes ${expected.map((v) => v.name).join(", ") || "no inputs"}`);
    }
  }
  for (const v of expected) {
    const t = feeds[v.name];
    if (t === undefined) throw new BackendError(`missing input "${v.name}" (${v.type.dtype}[${v.type.shape.join(", ")}])`);
    if (!(t instanceof Tensor)) throw new BackendError(`input "${v.name}" must be a Tensor`);
    unifyType(env, v.type, { dtype: t.dtype, shape: t.shape }, `input "${v.name}"`);
  }
  for (const v of expected) {
    for (const d of v.type.shape) {
      if (env.evaluate(d) === undefined) throw new ShapeError(`input "${v.name}": dimension ${d} is not bound by any input`);
    }
  }
  return env;
}
