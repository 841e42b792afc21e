// Gradients of the loss ops (ops/training-ops.ts). Each loss has a fused backward op (`*_grad`) that takes
// the forward inputs and the upstream gradient, so the divisor of a `mean` reduction (the element count,
// possibly symbolic when the graph is built) is read at run time. The optimizer update ops have no
// gradient: they are the end of a training step.
import { registerGrad } from "../grad-registry.js";

// cross_entropy(logits, target): only the logits get a gradient (target is int32).
registerGrad("cross_entropy", (g, node, [dy]) => [g.add1("cross_entropy_grad", [node.inputs[0], node.inputs[1], dy], node.attrs), null]);

// The elementwise losses give a gradient to both operands, as PyTorch does (the target of a regression
// may itself be computed).
for (const op of ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]) {
  registerGrad(op, (g, node, [dy]) => {
    const [dx, dt] = g.add(`${op}_grad`, [node.inputs[0], node.inputs[1], dy], node.attrs);
    return [dx, dt];
  });
}
