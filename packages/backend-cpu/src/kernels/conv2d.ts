import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

export interface ConvAttrs {
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
}

/**
 * 2-D cross-correlation, NCHW, weight [O, C/groups, kh, kw] (PyTorch Conv2d), with stride, zero padding,
 * dilation and groups. Direct loops: each output accumulates in double over the valid taps only (the
 * valid kernel rows/columns are computed per output position, so padding costs nothing).
 */
export const conv2dKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<ConvAttrs>(ctx, inputs, attrs);
  const [x, w, bias] = inputs;
  const xd = x!.data as Float32Array;
  const wd = w!.data as Float32Array;
  const bd = bias ? (bias.data as Float32Array) : null;
  const [N, C, H, W] = x!.shape;
  const [O, Cg, KH, KW] = w!.shape;
  const [, , Ho, Wo] = outputs[0].shape;
  const [sh, sw] = a.stride;
  const [ph, pw] = a.padding;
  const [dh, dw] = a.dilation;
  const Og = O / a.groups;
  const out = new Float32Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < O; oc++) {
      const c0 = Math.floor(oc / Og) * Cg;
      const wo = oc * Cg * KH * KW;
      const ob = (n * O + oc) * Ho * Wo;
      for (let oh = 0; oh < Ho; oh++) {
        const ih0 = oh * sh - ph;
        const kiLo = ih0 >= 0 ? 0 : Math.ceil(-ih0 / dh);
        const kiHi = Math.min(KH, Math.floor((H - 1 - ih0) / dh) + 1);
        for (let ow = 0; ow < Wo; ow++) {
          const iw0 = ow * sw - pw;
          const kjLo = iw0 >= 0 ? 0 : Math.ceil(-iw0 / dw);
          const kjHi = Math.min(KW, Math.floor((W - 1 - iw0) / dw) + 1);
          let s = bd ? bd[oc] : 0;
          for (let c = 0; c < Cg; c++) {
            const xc = (n * C + c0 + c) * H * W;
            const wc = wo + c * KH * KW;
            for (let ki = kiLo; ki < kiHi; ki++) {
              const xr = xc + (ih0 + ki * dh) * W + iw0;
              const wr = wc + ki * KW;
              for (let kj = kjLo; kj < kjHi; kj++) s += xd[xr + kj * dw] * wd[wr + kj];
            }
          }
          out[ob + oh * Wo + ow] = s;
        }
      }
    }
  }
  return [new Tensor("float32", outputs[0].shape, out)];
};
