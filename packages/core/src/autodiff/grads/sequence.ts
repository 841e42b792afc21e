import { registerGrad } from "../grad-registry.js";

// embedding: the weight's gradient is a scatter-add of dy's rows at the indices; indices get none.
registerGrad("embedding", (g, node, [dy]) => {
  const [w, indices] = node.inputs;
  return [g.add1("embedding_grad", [w!, indices!, dy!]), null];
});

// positional_encoding adds a constant: the gradient passes unchanged.
registerGrad("positional_encoding", (_g, _node, [dy]) => [dy]);
