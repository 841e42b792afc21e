import type { ValueId } from "../../ir/graph.js";
import { registerGrad } from "../grad-registry.js";

/**
 * gru: backpropagation through time in one fused op. It reads the forward output y, from which every
 * step's incoming state is known, and recomputes the gates step by step instead of saving them.
 * Outputs per direction: dweight_ih, dweight_hh, dbias_ih, dbias_hh; absent biases get no gradient.
 */
registerGrad("gru", (g, node, [dy, dhn]) => {
  const ins = node.inputs.slice(0, 10) as (ValueId | null)[];
  while (ins.length < 10) ins.push(null);
  const dirs = node.attrs.bidirectional ? 2 : 1;
  const outs = g.add("gru_grad", [...ins, node.outputs[0], dy ?? null, dhn ?? null], node.attrs);
  const grads: (ValueId | null)[] = new Array<ValueId | null>(node.inputs.length).fill(null);
  grads[0] = outs[0];
  for (let d = 0; d < dirs; d++) {
    for (let j = 0; j < 4; j++) {
      const slot = 1 + 4 * d + j;
      if (ins[slot] !== null) grads[slot] = outs[1 + 4 * d + j];
    }
  }
  if (ins[9] !== null) grads[9] = outs[1 + 4 * dirs];
  return grads;
});

registerGrad("gru_cell", (g, node, [dh]) => {
  const ins = node.inputs.slice(0, 6) as (ValueId | null)[];
  while (ins.length < 6) ins.push(null);
  const outs = g.add("gru_cell_grad", [...ins, dh!]);
  return outs.map((o, i) => (ins[i] === null ? null : o)).slice(0, node.inputs.length);
});
