import { Tensor, allocArray, sizeOf } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { normAxis } from "../util/strided.js";

/** Joins tensors along `axis` with block copies. */
export const concatKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number }>(ctx, inputs, attrs);
  const o = outputs[0];
  const ax = normAxis(a.axis, o.shape.length);
  const outer = sizeOf(o.shape.slice(0, ax));
  const inner = sizeOf(o.shape.slice(ax + 1));
  const rowOut = o.shape[ax] * inner;
  const out = allocArray(o.dtype, outer * rowOut);
  let col = 0;
  for (const t of inputs) {
    const x = t!;
    const rowIn = x.shape[ax] * inner;
    if (rowIn > 0) {
      for (let i = 0; i < outer; i++) out.set(x.data.subarray(i * rowIn, (i + 1) * rowIn), i * rowOut + col);
    }
    col += rowIn;
  }
  return [new Tensor(o.dtype, o.shape, out)];
};
