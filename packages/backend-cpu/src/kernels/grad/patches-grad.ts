import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";
import { patchSourceIndex } from "../patches.js";

/**
 * patches_grad: the inverse permutation of patches. Patches do not overlap, so every element of x
 * receives exactly one element of dy: dy [B, (H/p)(W/p), C·p·p] is written back into x's shape.
 */
export const patchesGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ size: number }>(ctx, inputs, attrs);
  const [x, dy] = inputs as [Tensor, Tensor];
  const gd = dy.data as Float32Array;
  const map = patchSourceIndex(x.shape, a.size);
  const dx = new Float32Array(map.length);
  for (let k = 0; k < map.length; k++) dx[map[k]] = gd[k];
  return [new Tensor("float32", outputs[0].shape, dx)];
};
