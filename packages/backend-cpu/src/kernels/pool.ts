import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

export interface PoolAttrs {
  kernel: number[];
  stride: number[];
  padding: number[];
}

/**
 * max_pool2d (padding is -inf, so it never wins; NaN propagates as in PyTorch) and avg_pool2d (padding
 * counts as zeros: the divisor is always kh·kw, PyTorch count_include_pad=True; with floor-mode output
 * sizes no window reaches past the padding).
 */
function poolKernel(mode: "max" | "avg"): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<PoolAttrs>(ctx, inputs, attrs);
    const x = inputs[0]!;
    const xd = x.data as Float32Array;
    const [N, C, H, W] = x.shape;
    const [, , Ho, Wo] = outputs[0].shape;
    const [kh, kw] = a.kernel;
    const [sh, sw] = a.stride.length ? a.stride : a.kernel;
    const [ph, pw] = a.padding;
    const out = new Float32Array(N * C * Ho * Wo);
    const area = kh * kw;
    for (let nc = 0; nc < N * C; nc++) {
      const xb = nc * H * W;
      const ob = nc * Ho * Wo;
      for (let oh = 0; oh < Ho; oh++) {
        const h0 = oh * sh - ph;
        const hLo = Math.max(h0, 0);
        const hHi = Math.min(h0 + kh, H);
        for (let ow = 0; ow < Wo; ow++) {
          const w0 = ow * sw - pw;
          const wLo = Math.max(w0, 0);
          const wHi = Math.min(w0 + kw, W);
          if (mode === "max") {
            let m = -Infinity;
            for (let ih = hLo; ih < hHi && m === m; ih++) {
              for (let iw = wLo; iw < wHi; iw++) {
                const v = xd[xb + ih * W + iw];
                if (v > m || v !== v) m = v;
              }
            }
            out[ob + oh * Wo + ow] = m;
          } else {
            let s = 0;
            for (let ih = hLo; ih < hHi; ih++) for (let iw = wLo; iw < wHi; iw++) s += xd[xb + ih * W + iw];
            out[ob + oh * Wo + ow] = s / area;
          }
        }
      }
    }
    return [new Tensor("float32", outputs[0].shape, out)];
  };
}

export const poolKernels: Readonly<Record<string, Kernel>> = {
  max_pool2d: poolKernel("max"),
  avg_pool2d: poolKernel("avg"),
};
