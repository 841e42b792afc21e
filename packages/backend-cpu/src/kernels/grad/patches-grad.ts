import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";

/**
 * patches_grad: the inverse permutation of patches. Patches do not overlap, so every element of x
 * receives exactly one element of dy: dy [B, (H/p)(W/p), C·p·p] is written back into x's shape.
 */
export const patchesGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ size: number }>(ctx, inputs, attrs);
  const [x, dy] = inputs as [Tensor, Tensor];
  const gd = dy.data as Float32Array;
  const [B, C, H, W] = x.shape;
  const p = a.size;
  const nh = H / p;
  const nw = W / p;
  const feat = C * p * p;
  const dx = new Float32Array(B * C * H * W);
  for (let b = 0; b < B; b++) {
    for (let gy = 0; gy < nh; gy++) {
      for (let gx = 0; gx < nw; gx++) {
        let o = ((b * nh + gy) * nw + gx) * feat;
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < p; i++) {
            const xr = ((b * C + c) * H + gy * p + i) * W + gx * p;
            for (let j = 0; j < p; j++) dx[xr + j] = gd[o++];
          }
        }
      }
    }
  }
  return [new Tensor("float32", outputs[0].shape, dx)];
};
