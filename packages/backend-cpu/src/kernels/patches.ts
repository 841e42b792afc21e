import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

/**
 * For non-overlapping p×p patches of x [B, C, H, W] → [B, (H/p)(W/p), C·p·p]: the flat index into x of
 * each output element. Patch index is row-major over the (H/p)×(W/p) grid; each patch is flattened
 * channel-major (C, p, p), as F.unfold(x, p, stride=p)ᵀ. The map is a permutation, so the gradient is its
 * inverse (see grad/patches-grad.ts).
 */
export function patchSourceIndex(shape: readonly number[], p: number): Int32Array {
  const [B, C, H, W] = shape;
  const nh = H / p;
  const nw = W / p;
  const map = new Int32Array(B * C * H * W);
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let gy = 0; gy < nh; gy++) {
      for (let gx = 0; gx < nw; gx++) {
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < p; i++) {
            const xr = ((b * C + c) * H + gy * p + i) * W + gx * p;
            for (let j = 0; j < p; j++) map[o++] = xr + j;
          }
        }
      }
    }
  }
  return map;
}

export const patchesKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ size: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const xd = x.data as Float32Array;
  const map = patchSourceIndex(x.shape, a.size);
  const out = new Float32Array(map.length);
  for (let k = 0; k < map.length; k++) out[k] = xd[map[k]];
  return [new Tensor("float32", outputs[0].shape, out)];
};
