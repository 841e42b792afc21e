import { BackendError, Tensor } from "@attn/core";
import { inferOutputs, inputName, type Kernel } from "../kernel.js";
import { formatIndex } from "../util/strided.js";

/**
 * Gathers rows of weight [V, D] by int32 indices [...] → [..., D]. An index outside [0, V) is a
 * BackendError naming the indices tensor, the offending value, its position and the valid range.
 */
export const embeddingKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const [w, indices] = inputs as [Tensor, Tensor];
  const [V, D] = w.shape;
  const wd = w.data as Float32Array;
  const id = indices.data as Int32Array;
  const out = new Float32Array(id.length * D);
  for (let t = 0; t < id.length; t++) {
    const ix = id[t];
    if (ix < 0 || ix >= V) {
      throw new BackendError(
        `embedding: index ${ix} at position ${formatIndex(t, indices.shape)} of "${inputName(ctx, 1, "indices")}" is out of range [0, ${V}) ` +
          `for weight "${inputName(ctx, 0, "weight")}" [${V}, ${D}]`,
      );
    }
    out.set(wd.subarray(ix * D, (ix + 1) * D), t * D);
  }
  return [new Tensor("float32", outputs[0].shape, out)];
};
