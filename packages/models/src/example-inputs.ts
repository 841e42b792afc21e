import { Rng, Tensor, dimSymbols, substituteDim, type Graph } from "@attn/core";

/**
 * Deterministic feeds for any graph: every symbolic dim gets `size` (default 5), floats are N(0, 1),
 * int32 ids are drawn from 1..maxId (0 is the padding id by convention), and bool masks are false except
 * the last position of the first batch row (so padding paths run, but no row is fully masked).
 */
export function exampleInputs(graph: Graph, opts: { seed?: number; size?: number; maxId?: number } = {}): Record<string, Tensor> {
  const rng = new Rng(opts.seed ?? 1);
  const size = opts.size ?? 5;
  const feeds: Record<string, Tensor> = {};
  for (const id of graph.inputs) {
    const v = graph.values[id];
    const shape = v.type.shape.map((d) => {
      const bound = new Map(dimSymbols(d).map((s) => [s, size] as [string, number]));
      return substituteDim(d, bound) as number;
    });
    const t = new Tensor(v.type.dtype, shape);
    if (v.type.dtype === "float32") t.data.forEach((_, i) => (t.data[i] = rng.normal()));
    else if (v.type.dtype === "int32") t.data.forEach((_, i) => (t.data[i] = 1 + Math.floor(rng.uniform() * (opts.maxId ?? 3))));
    else if (shape.length >= 2) t.data[shape[shape.length - 1] - 1] = 1;
    feeds[v.name] = t;
  }
  return feeds;
}
