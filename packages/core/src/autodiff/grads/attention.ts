import type { ValueId } from "../../ir/graph.js";
import { registerGrad } from "../grad-registry.js";

/**
 * attention_mask: gradient passes where the score is kept and is zero where it was masked. The kept
 * positions are found by masking zeros (0 stays 0, masked becomes -inf), not by testing the output for
 * -inf, so a score that was -inf before masking still passes its gradient, as in PyTorch's masked_fill.
 */
registerGrad("attention_mask", (g, node, [dy]) => {
  const [scores, mask] = node.inputs;
  const masked = g.add1("attention_mask", [g.zerosLike(scores!), mask ?? null], node.attrs);
  return [g.mul(dy!, g.toFloat(g.add1("equal", [masked, g.scalar(0)]))), null];
});

/**
 * attention: the fused backward op recomputes the scores row by row (no saved weights). Argmax selection
 * uses the straight-through estimator (softmax's gradient), top-k the natural gradient over the kept
 * keys; fully masked rows get zero gradients.
 */
registerGrad("attention", (g, node, dys) => {
  const [q, k, v, mask] = node.inputs as (ValueId | null)[];
  const { scale, causal, window, select } = node.attrs;
  const dOut = dys[0] ?? g.zerosLike(node.outputs[0]);
  const dW = dys[1] ?? null;
  const [dq, dk, dv] = g.add("attention_grad", [q, k, v, mask ?? null, dOut, dW], { scale, causal, window, select });
  return [dq, dk, dv, null];
});
