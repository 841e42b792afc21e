import type { ValueId } from "../../ir/graph.js";
import type { GradContext } from "../grad-context.js";
import { registerGrad } from "../grad-registry.js";

/**
 * Gradients of the broadcasting arithmetic ops. Each input's gradient is formed at the broadcast shape
 * and then summed back to the input's own shape (`unbroadcast`). Only float32 reaches here: int32
 * values never carry gradient.
 */

registerGrad("add", (g, node, [dy]) => [g.unbroadcast(dy!, node.inputs[0]!), g.unbroadcast(dy!, node.inputs[1]!)]);

registerGrad("sub", (g, node, [dy]) => [g.unbroadcast(dy!, node.inputs[0]!), g.unbroadcast(g.add1("neg", [dy!]), node.inputs[1]!)]);

registerGrad("mul", (g, node, [dy]) => {
  const [a, b] = node.inputs as ValueId[];
  return [g.unbroadcast(g.mul(dy!, b), a), g.unbroadcast(g.mul(dy!, a), b)];
});

// d(a/b)/db = −a/b² = −y/b, reusing the output.
registerGrad("div", (g, node, [dy]) => {
  const [a, b] = node.inputs as ValueId[];
  const da = g.add1("div", [dy!, b]);
  const db = g.add1("neg", [g.add1("div", [g.mul(dy!, node.outputs[0]), b])]);
  return [g.unbroadcast(da, a), g.unbroadcast(db, b)];
});

/**
 * maximum / minimum: the gradient goes to the winning operand; on an exact tie it is split evenly, as
 * PyTorch does (so the two operands' gradients still add up to dy).
 */
function extremum(op: "maximum" | "minimum"): void {
  const wins = op === "maximum" ? "greater" : "less";
  registerGrad(op, (g: GradContext, node, [dy]) => {
    const [a, b] = node.inputs as ValueId[];
    const share = g.add1("add", [g.toFloat(g.add1(wins, [a, b])), g.mul(g.toFloat(g.add1("equal", [a, b])), g.scalar(0.5))]);
    const da = g.mul(dy!, share);
    const db = g.add1("sub", [dy!, da]);
    return [g.unbroadcast(da, a), g.unbroadcast(db, b)];
  });
}
extremum("maximum");
extremum("minimum");
