import type { ValueId } from "../../ir/graph.js";
import type { GradContext } from "../grad-context.js";
import { registerGrad, type ForwardNode } from "../grad-registry.js";

/**
 * Gradients of the float unary ops, as elementwise IR. Where the derivative is a function of the output
 * (tanh, sigmoid, exp, sqrt) the output is reused instead of recomputing it from the input.
 */

/** Registers `op` with dx = dy ⊙ f'(x, y), where `deriv` emits f'. */
function unary(op: string, deriv: (g: GradContext, x: ValueId, y: ValueId) => ValueId): void {
  registerGrad(op, (g, node, [dy]) => [g.mul(dy!, deriv(g, node.inputs[0]!, node.outputs[0]))]);
}

const sub = (g: GradContext, a: ValueId, b: ValueId) => g.add1("sub", [a, b]);
const one = (g: GradContext) => g.scalar(1);

// relu'(0) = 0, as PyTorch (the comparison also sends NaN to 0).
unary("relu", (g, x) => g.toFloat(g.add1("greater", [x, g.scalar(0)])));
unary("tanh", (g, _x, y) => sub(g, one(g), g.mul(y, y)));
unary("sigmoid", (g, _x, y) => g.mul(y, sub(g, one(g), y)));
unary("exp", (_g, _x, y) => y);
registerGrad("log", (g, node, [dy]) => [g.add1("div", [dy!, node.inputs[0]!])]);
registerGrad("neg", (g, _node, [dy]) => [g.add1("neg", [dy!])]);
registerGrad("sqrt", (g, node, [dy]) => [g.add1("div", [dy!, g.mul(node.outputs[0], g.scalar(2))])]);
// abs'(0) = sign(0) = 0, as PyTorch.
unary("abs", (g, x) => g.add1("sign", [x]));
// silu = x·σ(x): σ(x)·(1 + x·(1 − σ(x))).
unary("silu", (g, x) => {
  const s = g.add1("sigmoid", [x]);
  return g.mul(s, g.add1("add", [one(g), g.mul(x, sub(g, one(g), s))]));
});
// erf' = 2/√π · exp(−x²).
unary("erf", (g, x) => g.mul(g.add1("exp", [g.add1("neg", [g.mul(x, x)])]), g.scalar(2 / Math.sqrt(Math.PI))));

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

registerGrad("gelu", (g, node, [dy]) => {
  const x = node.inputs[0]!;
  const d = node.attrs.approximate === "tanh" ? geluTanhDeriv(g, x) : geluExactDeriv(g, x);
  return [g.mul(dy!, d)];
});

/** d/dx x·Φ(x) = Φ(x) + x·φ(x), Φ(x) = ½(1 + erf(x/√2)), φ(x) = exp(−x²/2)/√(2π). */
function geluExactDeriv(g: GradContext, x: ValueId): ValueId {
  const cdf = g.mul(g.add1("add", [one(g), g.add1("erf", [g.mul(x, g.scalar(Math.SQRT1_2))])]), g.scalar(0.5));
  const pdf = g.mul(g.add1("exp", [g.mul(g.mul(x, x), g.scalar(-0.5))]), g.scalar(1 / Math.sqrt(2 * Math.PI)));
  return g.add1("add", [cdf, g.mul(x, pdf)]);
}

/**
 * The tanh form ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), differentiates to
 * ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²) with t = tanh(u) (PyTorch's formula).
 */
function geluTanhDeriv(g: GradContext, x: ValueId): ValueId {
  const x2 = g.mul(x, x);
  const inner = g.mul(g.add1("add", [x, g.mul(g.mul(x2, x), g.scalar(0.044715))]), g.scalar(SQRT_2_OVER_PI));
  const t = g.add1("tanh", [inner]);
  const left = g.mul(g.add1("add", [one(g), t]), g.scalar(0.5));
  const du = g.mul(g.add1("add", [one(g), g.mul(x2, g.scalar(3 * 0.044715))]), g.scalar(SQRT_2_OVER_PI));
  const right = g.mul(g.mul(g.mul(x, g.scalar(0.5)), sub(g, one(g), g.mul(t, t))), du);
  return g.add1("add", [left, right]);
}

const passThrough = (_g: GradContext, _node: ForwardNode, dys: readonly (ValueId | null)[]) => [dys[0]];
registerGrad("identity", passThrough);
// Dropout is the identity until training-mode dropout exists (#3): its gradient is too.
registerGrad("dropout", passThrough);

// Only a float → float cast passes gradient; the others produce (or read) values that have none.
registerGrad("cast", (g, node, [dy]) => [g.typeOf(node.inputs[0]!).dtype === "float32" && node.attrs.to === "float32" ? dy : null]);

// Piecewise constant: the gradient is zero almost everywhere (and zeros_like ignores its input's values).
registerGrad("sign", () => [null]);
registerGrad("zeros_like", () => [null]);
