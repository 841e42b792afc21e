import { Tensor, sizeOf, stridesOf } from "@attn/core";
import { wasmElementwiseFor } from "../elementwise/wasm.js";
import { inferOutputs, type Kernel } from "../kernel.js";
import { coalesce, innerOf, normAxis } from "../util/strided.js";

type Mode = "sum" | "mean" | "max";

/**
 * reduce_sum / reduce_mean / reduce_max over `axes`, accumulating in double. One pass over the input in
 * memory order; each element adds into its output slot (output strides are 0 on reduced dims). Empty
 * `axes` reduces nothing (the shape function keeps every dim). reduce_max propagates NaN.
 */
function reduceKernel(mode: Mode): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ axes: number[]; keepdims: boolean }>(ctx, inputs, attrs);
    const x = inputs[0]!;
    const xd = x.data as Float32Array;
    const red = new Set(a.axes.map((ax) => normAxis(ax, x.rank)));
    const kept = x.shape.map((d, i) => (red.has(i) ? 1 : d));
    const outSt = stridesOf(kept).map((s, i) => (red.has(i) ? 0 : s));
    const count = sizeOf(x.shape.filter((_, i) => red.has(i)));
    const c = coalesce(x.shape, [stridesOf(x.shape), outSt]);
    // A sum over leading axes (a bias gradient: [rows, cols] → [cols]) on a wasm kernel path: the same
    // column sums, in the same order, in WebAssembly.
    const columns = mode !== "max" && c.shape.length === 2 && c.strides[1][0] === 0 && c.strides[1][1] === 1;
    const wasm = columns ? wasmElementwiseFor(ctx, x.size)?.columnSums(xd, c.shape[0], c.shape[1]) : null;
    const acc = wasm ?? new Float64Array(sizeOf(kept));
    if (mode === "max") acc.fill(-Infinity);
    if (x.size > 0 && !wasm) {
      const dims = c.shape;
      const [sti, sto] = c.strides;
      const r = dims.length;
      const { len, strides } = innerOf(c);
      const [si, so] = strides;
      const idx = new Int32Array(Math.max(r, 1));
      const rows = x.size / len;
      let pi = 0;
      let po = 0;
      // An odometer over the outer dims (no closure); each row reduces into one slot (so = 0) or adds
      // element-wise into a row of slots (a reduction over leading axes, e.g. a bias gradient).
      for (let row = 0; row < rows; row++) {
        if (so === 0) {
          if (mode === "max") acc[po] = maxRow(xd, pi, si, len, acc[po]);
          else acc[po] += sumRow(xd, pi, si, len);
        } else if (mode === "max") {
          for (let j = 0; j < len; j++) {
            const v = xd[pi + j * si];
            const m = acc[po + j * so];
            if (v > m || (v !== v && m === m)) acc[po + j * so] = v;
          }
        } else if (si === 1 && so === 1) {
          for (let j = 0; j < len; j++) acc[po + j] += xd[pi + j];
        } else {
          for (let j = 0; j < len; j++) acc[po + j * so] += xd[pi + j * si];
        }
        for (let d = r - 2; d >= 0; d--) {
          pi += sti[d];
          po += sto[d];
          if (++idx[d] < dims[d]) break;
          pi -= sti[d] * dims[d];
          po -= sto[d] * dims[d];
          idx[d] = 0;
        }
      }
    }
    const out = new Float32Array(acc.length);
    if (mode === "mean") for (let i = 0; i < acc.length; i++) out[i] = acc[i] / count;
    else out.set(acc);
    return [new Tensor("float32", outputs[0].shape, out)];
  };
}

/** Σ x[p + j·s], j < n, in double. */
function sumRow(xd: Float32Array, p: number, s: number, n: number): number {
  let acc = 0;
  if (s === 1) for (let j = 0; j < n; j++) acc += xd[p + j];
  else for (let j = 0; j < n; j++) acc += xd[p + j * s];
  return acc;
}

/** max(m, x[p + j·s]) over j < n; NaN propagates. */
function maxRow(xd: Float32Array, p: number, s: number, n: number, m: number): number {
  for (let j = 0; j < n; j++) {
    const v = xd[p + j * s];
    if (v > m || v !== v) m = v;
    if (m !== m) break;
  }
  return m;
}

export const reduceKernels: Readonly<Record<string, Kernel>> = {
  reduce_sum: reduceKernel("sum"),
  reduce_mean: reduceKernel("mean"),
  reduce_max: reduceKernel("max"),
};
