import { Tensor, allocArray, parseDim, sizeOf } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";
import { normAxis } from "../../util/strided.js";

/** pad: x framed by `before` and `after` zeros along one axis (bounds may be symbolic), block copies. */
export const padKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number; before: number | string }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const o = outputs[0];
  const ax = normAxis(a.axis, x.rank);
  const before = ctx.env.evaluate(typeof a.before === "string" ? parseDim(a.before) : a.before)!;
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
  const rowIn = x.shape[ax] * inner;
  const rowOut = o.shape[ax] * inner;
  const out = allocArray(o.dtype, outer * rowOut);
  if (rowIn > 0) for (let i = 0; i < outer; i++) out.set(x.data.subarray(i * rowIn, (i + 1) * rowIn), i * rowOut + before * inner);
  return [new Tensor(o.dtype, o.shape, out)];
};
