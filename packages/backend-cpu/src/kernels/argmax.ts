import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { normAxis, splitAxis } from "../util/strided.js";

/** Index of the maximum along `axis` (int32): the first one on ties; NaN counts as the maximum (NumPy, PyTorch). */
export const argmaxKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number; keepdims: boolean }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const xd = x.data as Float32Array;
  const [outer, n, inner] = splitAxis(x.shape, normAxis(a.axis, x.rank));
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let best = n > 0 ? xd[base] : 0;
      let bi = 0;
      for (let j = 1; j < n && best === best; j++) {
        const v = xd[base + j * inner];
        if (v > best || v !== v) {
          best = v;
          bi = j;
        }
      }
      out[o * inner + i] = bi;
    }
  }
  return [new Tensor("int32", outputs[0].shape, out)];
};
