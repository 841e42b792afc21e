import { inferOutputs, type Kernel } from "../kernel.js";

/** `identity` and `dropout` (inference: dropout is the identity). Returns the input tensor itself. */
export const identityKernel: Kernel = (inputs, attrs, ctx) => {
  inferOutputs(ctx, inputs, attrs);
  return [inputs[0]!];
};
