import { Tensor, allocArray, type ConstantValue } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

/** A tensor literal; a fresh tensor each run, so callers may keep or change what they get back. */
export const constantKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ value: ConstantValue }>(ctx, inputs, attrs);
  const { dtype, data } = a.value;
  const out = allocArray(dtype, data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number | boolean;
    out[i] = typeof v === "boolean" ? (v ? 1 : 0) : dtype === "bool" ? (v !== 0 ? 1 : 0) : v;
  }
  return [new Tensor(dtype, outputs[0].shape, out)];
};
