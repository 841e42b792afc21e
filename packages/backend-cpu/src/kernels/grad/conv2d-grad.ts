import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";
import type { ConvAttrs } from "../conv2d.js";

/**
 * conv2d_grad: the forward loops run again over the valid taps of every output position, and each tap
 * x[n, c, ih, iw]·w[oc, c', ki, kj] → y[n, oc, oh, ow] sends dy back both ways: dx += w·dy, dw += x·dy;
 * dbias[oc] = Σ dy over n, oh, ow. All three accumulate in double and are rounded once.
 */
export const conv2dGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<ConvAttrs>(ctx, inputs, attrs);
  const [x, w, dy] = inputs as [Tensor, Tensor, Tensor];
  const xd = x.data as Float32Array;
  const wd = w.data as Float32Array;
  const gd = dy.data as Float32Array;
  const [N, C, H, W] = x.shape;
  const [O, Cg, KH, KW] = w.shape;
  const [, , Ho, Wo] = dy.shape;
  const [sh, sw] = a.stride;
  const [ph, pw] = a.padding;
  const [dh, dw] = a.dilation;
  const Og = O / a.groups;
  const dx = new Float64Array(xd.length);
  const dW = new Float64Array(wd.length);
  const db = new Float64Array(O);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < O; oc++) {
      const c0 = Math.floor(oc / Og) * Cg;
      const wo = oc * Cg * KH * KW;
      const gb = (n * O + oc) * Ho * Wo;
      for (let oh = 0; oh < Ho; oh++) {
        const ih0 = oh * sh - ph;
        const kiLo = ih0 >= 0 ? 0 : Math.ceil(-ih0 / dh);
        const kiHi = Math.min(KH, Math.floor((H - 1 - ih0) / dh) + 1);
        for (let ow = 0; ow < Wo; ow++) {
          const g = gd[gb + oh * Wo + ow];
          db[oc] += g;
          if (g === 0) continue;
          const iw0 = ow * sw - pw;
          const kjLo = iw0 >= 0 ? 0 : Math.ceil(-iw0 / dw);
          const kjHi = Math.min(KW, Math.floor((W - 1 - iw0) / dw) + 1);
          for (let c = 0; c < Cg; c++) {
            const xc = (n * C + c0 + c) * H * W;
            const wc = wo + c * KH * KW;
            for (let ki = kiLo; ki < kiHi; ki++) {
              const xr = xc + (ih0 + ki * dh) * W + iw0;
              const wr = wc + ki * KW;
              for (let kj = kjLo; kj < kjHi; kj++) {
                const xi = xr + kj * dw;
                dx[xi] += wd[wr + kj] * g;
                dW[wr + kj] += xd[xi] * g;
              }
            }
          }
        }
      }
    }
  }
  return [
    new Tensor("float32", outputs[0].shape, Float32Array.from(dx)),
    new Tensor("float32", outputs[1].shape, Float32Array.from(dW)),
    new Tensor("float32", outputs[2].shape, Float32Array.from(db)),
  ];
};
