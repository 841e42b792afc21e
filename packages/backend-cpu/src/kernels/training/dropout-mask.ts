import { Tensor, dropoutUniform } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";

/** dropout_mask(x, step): 1/(1 − p) where the counter-based draw keeps the element, else 0. */
export const dropoutMaskKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ p: number; salt: number }>(ctx, inputs, attrs);
  const step = inputs[1]!.data[0];
  const n = inputs[0]!.size;
  const out = new Float32Array(n);
  const keep = 1 / (1 - a.p);
  for (let i = 0; i < n; i++) out[i] = dropoutUniform(step, a.salt, i) >= a.p ? keep : 0;
  return [new Tensor("float32", outputs[0].shape, out)];
};
