import { Tensor, allocArray, sizeOf } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { normAxis } from "../util/strided.js";

/** Splits along `axis` into pieces of the given (possibly symbolic) sizes, with block copies. */
export const splitKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const ax = normAxis(a.axis, x.rank);
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
  const rowIn = x.shape[ax] * inner;
  let col = 0;
  return outputs.map((o) => {
    const rowOut = o.shape[ax] * inner;
    const out = allocArray(o.dtype, outer * rowOut);
    if (rowOut > 0) {
      for (let i = 0; i < outer; i++) out.set(x.data.subarray(i * rowIn + col, i * rowIn + col + rowOut), i * rowOut);
    }
    col += rowOut;
    return new Tensor(o.dtype, o.shape, out);
  });
};
