import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";
import { erf } from "../../util/erf.js";

/** zeros_like: a zero tensor of the input's dtype and shape (its values are never read). */
export const zerosLikeKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  return [new Tensor(outputs[0].dtype, outputs[0].shape)];
};

/** erf in double (Cody's rational approximations, as gelu's forward), rounded once. */
export const erfKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const xd = inputs[0]!.data as Float32Array;
  const out = new Float32Array(xd.length);
  for (let i = 0; i < out.length; i++) out[i] = erf(xd[i]);
  return [new Tensor("float32", outputs[0].shape, out)];
};

/** sign: −1, 0 or 1; NaN stays NaN (Math.sign), as torch.sign. */
export const signKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const xd = inputs[0]!.data as Float32Array;
  const out = new Float32Array(xd.length);
  for (let i = 0; i < out.length; i++) {
    const v = xd[i];
    out[i] = v === 0 ? 0 : Math.sign(v);
  }
  return [new Tensor("float32", outputs[0].shape, out)];
};
