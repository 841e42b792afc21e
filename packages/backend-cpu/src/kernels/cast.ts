import { Tensor, allocArray, type DType } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

const INT32_MIN = -2147483648;

/**
 * Converts one value to `to`:
 * - → bool: nonzero is true (NaN is nonzero);
 * - float → int32: truncates toward zero; NaN, ±inf and values outside the int32 range give −2³¹, as
 *   PyTorch does on x86 (the conversion is undefined in C, so other platforms may differ);
 * - bool → number: 0/1; int32 → float32 rounds to nearest.
 */
export function castValue(v: number, from: DType, to: DType): number {
  if (to === "bool") return v !== 0 ? 1 : 0;
  if (from === "bool") return v !== 0 ? 1 : 0;
  if (to === "int32" && from === "float32") {
    const t = Math.trunc(v);
    return t >= -2147483648 && t <= 2147483647 ? t : INT32_MIN;
  }
  return v;
}

export const castKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ to: DType }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const xd = x.data;
  const out = allocArray(a.to, xd.length);
  const from = x.dtype;
  if (from === a.to) out.set(xd);
  else for (let i = 0; i < xd.length; i++) out[i] = castValue(xd[i], from, a.to);
  return [new Tensor(a.to, outputs[0].shape, out)];
};
