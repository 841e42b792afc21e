import { BackendError, Tensor, allocArray, parseDim, sizeOf, type Graph } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

interface ScanAttrs {
  body: Graph;
  numCarries: number;
  numSequences: number;
  length: number | string | null;
}

/** x[:, t] of a sequence [B, T, ...] as a fresh [B, ...] tensor. */
function stepSlice(seq: Tensor, t: number): Tensor {
  const [B, T] = seq.shape;
  const rest = seq.shape.slice(2);
  const inner = sizeOf(rest);
  const out = allocArray(seq.dtype, B * inner);
  for (let b = 0; b < B; b++) out.set(seq.data.subarray((b * T + t) * inner, (b * T + t + 1) * inner), b * inner);
  return new Tensor(seq.dtype, [B, ...rest], out);
}

/**
 * scan: runs the body graph once per step t = 0 … T−1. Body inputs: the carries, x[:, t] of each sequence,
 * then the captures; body outputs: the new carries, then per-step outputs, which are stacked on axis 1
 * (a scalar per-step output stacks to [T]). Outputs are allocated once from the inferred shapes.
 */
export const scanKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<ScanAttrs>(ctx, inputs, attrs);
  const nc = a.numCarries;
  const ns = a.numSequences;
  const seqs = inputs.slice(nc, nc + ns) as Tensor[];
  const captures = inputs.slice(nc + ns) as Tensor[];
  let T: number;
  if (ns > 0) T = seqs[0].shape[1];
  else {
    const len = ctx.env.evaluate(typeof a.length === "string" ? parseDim(a.length) : (a.length ?? 0));
    if (len === undefined) throw new BackendError(`scan: length ${a.length} is not bound by the inputs of this run`);
    T = len;
  }
  const stacked = outputs.slice(nc).map((o) => new Tensor(o.dtype, o.shape));
  let carries = inputs.slice(0, nc) as Tensor[];
  for (let t = 0; t < T; t++) {
    const res = ctx.runGraph(a.body, [...carries, ...seqs.map((s) => stepSlice(s, t)), ...captures]);
    carries = res.slice(0, nc);
    for (let p = 0; p < stacked.length; p++) {
      const o = res[nc + p];
      const dst = stacked[p];
      if (o.dtype !== dst.dtype || o.size * T !== dst.size) {
        throw new BackendError(`scan: per-step output ${p} is ${o.dtype}[${o.shape.join(", ")}] at step ${t}, which does not stack to ${dst.dtype}[${dst.shape.join(", ")}]`);
      }
      if (o.rank === 0) {
        dst.data[t] = o.data[0];
        continue;
      }
      const rows = o.shape[0];
      const inner = rows === 0 ? 0 : o.size / rows;
      for (let b = 0; b < rows; b++) dst.data.set(o.data.subarray(b * inner, (b + 1) * inner), (b * T + t) * inner);
    }
  }
  return [...carries, ...stacked];
};
