import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";
import type { PoolAttrs } from "../pool.js";

/**
 * max_pool2d_grad routes each window's dy to the element the forward kernel picked (the first maximum
 * in row-major window order, as PyTorch; padding never wins); avg_pool2d_grad spreads dy / (kh·kw) over
 * the window's in-bounds elements (padding counts in the divisor, count_include_pad). Windows overlap
 * when the stride is smaller than the kernel, so contributions accumulate (in double).
 */
function poolGradKernel(mode: "max" | "avg"): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<PoolAttrs>(ctx, inputs, attrs);
    const [x, dy] = inputs as [Tensor, Tensor];
    const xd = x.data as Float32Array;
    const gd = dy.data as Float32Array;
    const [N, C, H, W] = x.shape;
    const [, , Ho, Wo] = dy.shape;
    const [kh, kw] = a.kernel;
    const [sh, sw] = a.stride.length ? a.stride : a.kernel;
    const [ph, pw] = a.padding;
    const dx = new Float64Array(xd.length);
    const area = kh * kw;
    for (let nc = 0; nc < N * C; nc++) {
      const xb = nc * H * W;
      const gb = nc * Ho * Wo;
      for (let oh = 0; oh < Ho; oh++) {
        const h0 = oh * sh - ph;
        const hLo = Math.max(h0, 0);
        const hHi = Math.min(h0 + kh, H);
        for (let ow = 0; ow < Wo; ow++) {
          const w0 = ow * sw - pw;
          const wLo = Math.max(w0, 0);
          const wHi = Math.min(w0 + kw, W);
          const g = gd[gb + oh * Wo + ow];
          if (mode === "max") {
            let m = -Infinity;
            let at = -1;
            for (let ih = hLo; ih < hHi && m === m; ih++) {
              for (let iw = wLo; iw < wHi; iw++) {
                const v = xd[xb + ih * W + iw];
                if (v > m || v !== v || at < 0) {
                  m = v;
                  at = xb + ih * W + iw;
                  if (v !== v) break;
                }
              }
            }
            if (at >= 0) dx[at] += g;
          } else {
            const share = g / area;
            for (let ih = hLo; ih < hHi; ih++) for (let iw = wLo; iw < wHi; iw++) dx[xb + ih * W + iw] += share;
          }
        }
      }
    }
    return [new Tensor("float32", outputs[0].shape, Float32Array.from(dx))];
  };
}

export const poolGradKernels: Readonly<Record<string, Kernel>> = {
  max_pool2d_grad: poolGradKernel("max"),
  avg_pool2d_grad: poolGradKernel("avg"),
};
