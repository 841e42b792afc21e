/**
 * zeros_like: a tensor of the input's dtype and shape filled with zeros. All-zero words are 0.0, 0 and
 * false alike, so one buffer clear recorded into the run's encoder serves every dtype (no shader needed,
 * and the input's values are never read).
 */
import { WORD } from "../../buffers.js";
import { inferOutputs, type Kernel } from "../../kernel.js";

/** zeros_like: clears a fresh pooled buffer (only the tensor's bytes; the pool rounds sizes up). */
export const zerosLikeKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const o = outputs[0];
  const y = ctx.pool.tensor(o.dtype, o.shape);
  // pooled buffers hold stale data from earlier nodes, so the clear is needed even on a fresh tensor
  if (y.size > 0) ctx.encoder.clearBuffer(y.buffer, 0, y.size * WORD);
  return [y];
};
