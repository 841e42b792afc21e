import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

/**
 * `reshape`, `squeeze` and `unsqueeze` only change the shape: the output shares the input's data (tensors
 * are immutable values). The target shape comes from core's shape function, which evaluates symbolic
 * entries (`[B, S, 4, 16]`) and the `-1` hole in this run's bindings.
 */
export const viewKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const x = inputs[0]!;
  return [new Tensor(x.dtype, outputs[0].shape, x.data)];
};
