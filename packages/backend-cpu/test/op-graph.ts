import { GraphBuilder, type Attrs, type Graph, type SourceSpan, type Tensor } from "@attn/core";

// Browser-safe test helpers (no vitest, no Node built-ins): the Chromium worker (browser/worker.ts) bundles
// this file as the Node tests import it.

/**
 * A one-node graph of `op` over `inputs` (null: an absent optional input): feeds named in0…, outputs
 * out0… (`outs`), the node at `span` when given.
 */
export function opGraph(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}, span?: SourceSpan): { graph: Graph; feeds: Record<string, Tensor>; outs: string[] } {
  const b = new GraphBuilder(op);
  const feeds: Record<string, Tensor> = {};
  const ids = inputs.map((x, i) => {
    if (x === null) return null;
    feeds[`in${i}`] = x;
    return b.input(`in${i}`, { dtype: x.dtype, shape: x.shape });
  });
  const outs = b.add(op, ids, attrs, span ? { span } : undefined).map((o, i) => {
    b.output(`out${i}`, o);
    return `out${i}`;
  });
  return { graph: b.build(), feeds, outs };
}

/** `n` floats in [−1, 1) from a seeded LCG: the same operands on every thread count, path and runtime. */
export function lcgFloats(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}
