import type { ValueId } from "../../ir/graph.js";
import type { GradContext } from "../grad-context.js";
import { registerGrad } from "../grad-registry.js";

/**
 * Gradients of the normalisations along one axis. All reduce to the softmax Jacobian-vector product
 * dx = p ⊙ (dy − Σ dy ⊙ p), which is zero wherever p is zero: at -inf entries, on all -inf rows, and
 * outside the kept entries of topk_softmax.
 */

export function softmaxBackward(g: GradContext, p: ValueId, dy: ValueId, axis: number): ValueId {
  const dot = g.add1("reduce_sum", [g.mul(dy, p)], { axes: [axis], keepdims: true });
  return g.mul(p, g.add1("sub", [dy, dot]));
}

registerGrad("softmax", (g, node, [dy]) => [softmaxBackward(g, node.outputs[0], dy!, node.attrs.axis as number)]);

// log_softmax: dx = dy − softmax(x) · Σ dy, with softmax(x) = exp(y).
registerGrad("log_softmax", (g, node, [dy]) => {
  const axis = node.attrs.axis as number;
  const sum = g.add1("reduce_sum", [dy!], { axes: [axis], keepdims: true });
  return [g.add1("sub", [dy!, g.mul(g.add1("exp", [node.outputs[0]]), sum)])];
});

// hardmax: straight-through estimator, i.e. the gradient of softmax over the same scores (docs/ir.md).
registerGrad("hardmax", (g, node, [dy]) => {
  const axis = node.attrs.axis as number;
  return [softmaxBackward(g, g.add1("softmax", [node.inputs[0]!], { axis }), dy!, axis)];
});

// topk_softmax: the softmax over the kept entries is its output, and the others' weights are zero.
registerGrad("topk_softmax", (g, node, [dy]) => [softmaxBackward(g, node.outputs[0], dy!, node.attrs.axis as number)]);
