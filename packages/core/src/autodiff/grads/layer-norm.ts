import { registerGrad } from "../grad-registry.js";

// layer_norm: one fused backward op (the row statistics are recomputed there, not saved).
registerGrad("layer_norm", (g, node, [dy]) => {
  const [x, w, b] = node.inputs;
  const [dx, dw, db] = g.add("layer_norm_grad", [x!, w ?? null, dy!], { eps: node.attrs.eps as number });
  return [dx, w ? dw : null, b ? db : null];
});
