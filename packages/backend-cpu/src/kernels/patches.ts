import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

/**
 * Non-overlapping p×p patches: x [B, C, H, W] → [B, (H/p)(W/p), C·p·p]. Patch index is row-major over the
 * (H/p)×(W/p) grid; each patch is flattened channel-major (C, p, p), as F.unfold(x, p, stride=p)ᵀ.
 */
export const patchesKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ size: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const xd = x.data as Float32Array;
  const [B, C, H, W] = x.shape;
  const p = a.size;
  const nh = H / p;
  const nw = W / p;
  const feat = C * p * p;
  const out = new Float32Array(B * nh * nw * feat);
  for (let b = 0; b < B; b++) {
    for (let gy = 0; gy < nh; gy++) {
      for (let gx = 0; gx < nw; gx++) {
        let o = ((b * nh + gy) * nw + gx) * feat;
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < p; i++) {
            const xr = ((b * C + c) * H + gy * p + i) * W + gx * p;
            for (let j = 0; j < p; j++) out[o++] = xd[xr + j];
          }
        }
      }
    }
  }
  return [new Tensor("float32", outputs[0].shape, out)];
};
