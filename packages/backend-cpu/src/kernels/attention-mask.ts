import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { keyRange, maskLayout } from "./mask.js";

/** Copies scores [B, ..., Tq, Tk] and sets masked entries (mask true, causal, outside the window) to -inf. */
export const attentionMaskKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ causal: boolean; window: number | null }>(ctx, inputs, attrs);
  const scores = inputs[0]!;
  const shape = scores.shape;
  const r = shape.length;
  const Tq = shape[r - 2];
  const Tk = shape[r - 1];
  const out = new Float32Array(scores.data as Float32Array);
  const ml = maskLayout(inputs[1], shape);
  const nb = Tq * Tk === 0 ? 0 : out.length / (Tq * Tk);
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < Tq; i++) {
      const row = (b * Tq + i) * Tk;
      const [lo, hi] = keyRange(i, Tk, a.causal, a.window);
      for (let j = 0; j < lo; j++) out[row + j] = -Infinity;
      for (let j = hi; j < Tk; j++) out[row + j] = -Infinity;
      if (ml) {
        const mrow = ml.batch[b] + i * ml.sq;
        for (let j = lo; j < hi; j++) if (ml.data[mrow + j * ml.sk] !== 0) out[row + j] = -Infinity;
      }
    }
  }
  return [new Tensor("float32", outputs[0].shape, out)];
};
