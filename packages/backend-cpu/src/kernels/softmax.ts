import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { normAxis, splitAxis } from "../util/strided.js";
import { hardmaxRow, logSoftmaxRow, softmaxRow, topkSoftmaxRow } from "./select-rows.js";

type RowFn = (row: Float64Array, n: number, attrs: { k?: number }, idx: Int32Array, tmp: Float64Array) => void;

/**
 * Applies a row selection along `axis`: each row (strided when the axis is not last) is copied into a
 * double-precision scratch row, transformed in place, and rounded once on store.
 */
function alongAxis(fn: RowFn): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ axis: number; k?: number }>(ctx, inputs, attrs);
    const x = inputs[0]!;
    const xd = x.data as Float32Array;
    const [outer, n, inner] = splitAxis(x.shape, normAxis(a.axis, x.rank));
    const out = new Float32Array(xd.length);
    const row = new Float64Array(n);
    const idx = new Int32Array(n);
    const tmp = new Float64Array(n);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        for (let j = 0; j < n; j++) row[j] = xd[base + j * inner];
        fn(row, n, a, idx, tmp);
        for (let j = 0; j < n; j++) out[base + j * inner] = row[j];
      }
    }
    return [new Tensor("float32", outputs[0].shape, out)];
  };
}

export const softmaxKernels: Readonly<Record<string, Kernel>> = {
  softmax: alongAxis((row, n) => softmaxRow(row, n)),
  log_softmax: alongAxis((row, n) => logSoftmaxRow(row, n)),
  hardmax: alongAxis((row, n) => hardmaxRow(row, n)),
  topk_softmax: alongAxis((row, n, a, idx, tmp) => topkSoftmaxRow(row, n, a.k!, idx, tmp)),
};
