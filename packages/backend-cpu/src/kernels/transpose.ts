import { Tensor, allocArray, stridesOf } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { gather, normAxis } from "../util/strided.js";

/** out.shape[i] = x.shape[perm[i]]: a strided gather over the permuted input strides (linear time). */
export const transposeKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ perm: number[] }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const o = outputs[0];
  const st = stridesOf(x.shape);
  const perm = a.perm.map((p) => normAxis(p, x.rank));
  const out = allocArray(x.dtype, x.size);
  gather(x.data, 0, perm.map((p) => st[p]), o.shape, out);
  return [new Tensor(x.dtype, o.shape, out)];
};
