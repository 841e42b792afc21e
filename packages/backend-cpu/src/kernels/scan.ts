import { BackendError, Tensor, allocArray, parseDim, sizeOf, type Graph } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

interface ScanAttrs {
  body: Graph;
  numCarries: number;
  numSequences: number;
  length: number | string | null;
  reverse: boolean;
  saveCarries: boolean;
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

/** Writes one step's value `o` ([B, ...], or a scalar) at index t of `dst` ([B, T, ...], or [T]). */
function stackStep(o: Tensor, dst: Tensor, t: number, T: number, what: string): void {
  if (o.dtype !== dst.dtype || o.size * T !== dst.size) {
    throw new BackendError(`scan: ${what} is ${o.dtype}[${o.shape.join(", ")}] at step ${t}, which does not stack to ${dst.dtype}[${dst.shape.join(", ")}]`);
  }
  if (o.rank === 0) {
    dst.data[t] = o.data[0];
    return;
  }
  const rows = o.shape[0];
  const inner = rows === 0 ? 0 : o.size / rows;
  for (let b = 0; b < rows; b++) dst.data.set(o.data.subarray(b * inner, (b + 1) * inner), (b * T + t) * inner);
}

/**
 * scan: runs the body graph once per step, t = 0 … T−1 (or T−1 … 0 with `reverse`). Body inputs: the
 * carries, x[:, t] of each sequence, then the captures; body outputs: the new carries, then per-step
 * outputs, which are stacked on axis 1 at index t whatever the direction (a scalar per-step output stacks
 * to [T]). With `saveCarries` the carries entering each step are stacked the same way after them (the
 * gradient replays the body from them). Outputs are allocated once from the inferred shapes.
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
  const nOut = a.body.outputs.length;
  const stacked = outputs.slice(nc, nOut).map((o) => new Tensor(o.dtype, o.shape));
  const saved = outputs.slice(nOut).map((o) => new Tensor(o.dtype, o.shape));
  let carries = inputs.slice(0, nc) as Tensor[];
  for (let k = 0; k < T; k++) {
    const t = a.reverse ? T - 1 - k : k;
    for (let c = 0; c < saved.length; c++) stackStep(carries[c], saved[c], t, T, `carry ${c}`);
    const res = ctx.runGraph(a.body, [...carries, ...seqs.map((s) => stepSlice(s, t)), ...captures]);
    carries = res.slice(0, nc);
    for (let p = 0; p < stacked.length; p++) stackStep(res[nc + p], stacked[p], t, T, `per-step output ${p}`);
  }
  return [...carries, ...stacked, ...saved];
};
