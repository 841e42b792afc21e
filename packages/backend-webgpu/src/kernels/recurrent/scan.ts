/**
 * scan on WebGPU: the body is recorded once per step into the run's command encoder (through
 * `ctx.runGraph`, which the recorder provides), so a whole scan — nested ones included — runs without a
 * readback. Step counts and shapes are known from the run's shape env. Per step: slice x[:, t] of each
 * sequence into a fresh [B, ...] tensor, record the body, stack its per-step outputs (and, with
 * `saveCarries`, the incoming carries) at index t of outputs allocated once, and hand the new carries to
 * the next step. Same semantics as the cpu backend's scan kernel.
 */
import { BackendError, parseDim, sizeOf, type Graph } from "@attn/core";
import type { GpuTensor } from "../../buffers.js";
import { inferOutputs, type Kernel, type KernelContext } from "../../kernel.js";
import { copyRows } from "./copy.js";

interface ScanAttrs {
  body: Graph;
  numCarries: number;
  numSequences: number;
  length: number | string | null;
  reverse: boolean;
  saveCarries: boolean;
}

/** x[:, t] of a sequence [B, T, ...] as a new [B, ...] tensor (the caller releases it). */
function stepSlice(ctx: KernelContext, seq: GpuTensor, t: number): GpuTensor {
  const [B, T] = seq.shape;
  const rest = seq.shape.slice(2);
  const out = ctx.pool.tensor(seq.dtype, [B, ...rest]);
  const inner = B === 0 ? 0 : out.size / B;
  copyRows(ctx, seq, { offset: t * inner, stride: T * inner }, out, { offset: 0, stride: inner }, B, inner);
  return out;
}

/** Writes one step's value `o` ([B, ...], or a scalar) at index t of `dst` ([B, T, ...], or [T]). */
function stackStep(ctx: KernelContext, o: GpuTensor, dst: GpuTensor, t: number, T: number, what: string): void {
  if (o.dtype !== dst.dtype || o.size * T !== dst.size) {
    throw new BackendError(`scan: ${what} is ${o.dtype}[${o.shape.join(", ")}] at step ${t}, which does not stack to ${dst.dtype}[${dst.shape.join(", ")}]`);
  }
  // A scalar stacks as one row of one word; otherwise row b of o goes to row b, slot t of dst.
  const rows = o.shape.length === 0 ? 1 : o.shape[0];
  const inner = rows === 0 ? 0 : o.size / rows;
  copyRows(ctx, o, { offset: 0, stride: inner }, dst, { offset: t * inner, stride: T * inner }, rows, inner);
}

/**
 * scan: body inputs are the carries, x[:, t] of each sequence, then the captures; body outputs are the
 * new carries, then per-step outputs stacked on axis 1 at index t whatever the direction (a scalar per
 * step stacks to [T]), then with `saveCarries` the carries entering each step, stacked the same way.
 */
export const scanKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<ScanAttrs>(ctx, inputs, attrs);
  const runGraph = ctx.runGraph;
  if (!runGraph) throw new BackendError("scan: this context cannot record a body graph (internal error: no runGraph)");
  const nc = a.numCarries;
  const ns = a.numSequences;
  const operands = inputs.map((t, i) => {
    if (!t) throw new BackendError(`scan: operand ${i} is missing`);
    return t;
  });
  const seqs = operands.slice(nc, nc + ns);
  const captures = operands.slice(nc + ns);
  let T: number;
  if (ns > 0) T = seqs[0].shape[1];
  else {
    const len = ctx.env.evaluate(typeof a.length === "string" ? parseDim(a.length) : (a.length ?? 0));
    if (len === undefined) throw new BackendError(`scan: length ${a.length} is not bound by the inputs of this run`);
    T = len;
  }
  const nOut = a.body.outputs.length;
  const stacked = outputs.slice(nc, nOut).map((o) => ctx.pool.tensor(o.dtype, o.shape));
  const saved = outputs.slice(nOut).map((o) => ctx.pool.tensor(o.dtype, o.shape));
  // The scan holds one reference to its current carries (a view of the caller's initial ones), so it
  // can release each step's carries once the next step's are recorded.
  let carries = operands.slice(0, nc).map((c) => c.view(c.shape));
  for (let k = 0; k < T; k++) {
    const t = a.reverse ? T - 1 - k : k;
    saved.forEach((s, c) => stackStep(ctx, carries[c], s, t, T, `carry ${c}`));
    const slices = seqs.map((s) => stepSlice(ctx, s, t));
    const res = runGraph(a.body, [...carries, ...slices, ...captures]);
    for (const s of slices) ctx.pool.release(s);
    for (const c of carries) ctx.pool.release(c);
    carries = res.slice(0, nc);
    for (let p = 0; p < stacked.length; p++) {
      stackStep(ctx, res[nc + p], stacked[p], t, T, `per-step output ${p}`);
      ctx.pool.release(res[nc + p]);
    }
  }
  carries.forEach((c, i) => {
    const want = outputs[i];
    if (c.dtype !== want.dtype || c.size !== sizeOf(want.shape)) {
      throw new BackendError(`scan: carry ${i} leaves the body as ${c.dtype}[${c.shape.join(", ")}], not ${want.dtype}[${want.shape.join(", ")}]`);
    }
  });
  return [...carries.map((c, i) => reshaped(ctx, c, outputs[i].shape)), ...stacked, ...saved];
};

/** `t` under `shape` (a view, dropping `t`'s reference) when the body's shape spelling differs. */
function reshaped(ctx: KernelContext, t: GpuTensor, shape: readonly number[]): GpuTensor {
  if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
  const v = t.view(shape);
  ctx.pool.release(t);
  return v;
}
