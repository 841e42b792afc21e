import { registerGrad } from "../grad-registry.js";

/** Gradients of the image ops, each one fused backward op with the forward op's attributes. */

registerGrad("conv2d", (g, node, [dy]) => {
  const [x, w, bias] = node.inputs;
  const [dx, dw, db] = g.add("conv2d_grad", [x!, w!, dy!], node.attrs);
  return [dx, dw, bias ? db : null];
});

registerGrad("max_pool2d", (g, node, [dy]) => [g.add1("max_pool2d_grad", [node.inputs[0]!, dy!], node.attrs)]);
registerGrad("avg_pool2d", (g, node, [dy]) => [g.add1("avg_pool2d_grad", [node.inputs[0]!, dy!], node.attrs)]);
registerGrad("patches", (g, node, [dy]) => [g.add1("patches_grad", [node.inputs[0]!, dy!], node.attrs)]);
