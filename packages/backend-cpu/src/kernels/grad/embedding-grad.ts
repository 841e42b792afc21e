import { BackendError, Tensor } from "@attn/core";
import { inferOutputs, inputName, type Kernel } from "../../kernel.js";
import { formatIndex } from "../../util/strided.js";

/**
 * embedding_grad: dweight [V, D] = Σ over positions t of dy[t] added into row indices[t]; a repeated
 * index accumulates (in double, rounded once). Index errors are reported as the forward kernel does.
 */
export const embeddingGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const [w, indices, dy] = inputs as [Tensor, Tensor, Tensor];
  const [V, D] = w.shape;
  const id = indices.data as Int32Array;
  const gd = dy.data as Float32Array;
  const acc = new Float64Array(V * D);
  for (let t = 0; t < id.length; t++) {
    const ix = id[t];
    if (ix < 0 || ix >= V) {
      throw new BackendError(
        `embedding_grad: index ${ix} at position ${formatIndex(t, indices.shape)} of "${inputName(ctx, 1, "indices")}" is out of range [0, ${V})`,
      );
    }
    const row = ix * D;
    const src = t * D;
    for (let d = 0; d < D; d++) acc[row + d] += gd[src + d];
  }
  return [new Tensor("float32", outputs[0].shape, Float32Array.from(acc))];
};
