import type { ValueId } from "../../ir/graph.js";
import type { GradContext } from "../grad-context.js";
import { registerGrad } from "../grad-registry.js";

/** Swaps the last two dims of a rank-r value (r ≥ 2). */
function swapLast(g: GradContext, x: ValueId): ValueId {
  const r = g.rank(x);
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return g.add1("transpose", [x], { perm });
}

/**
 * matmul: da = dy · bᵀ, db = aᵀ · dy, with batch dims summed back to each operand's shape. A rank-1
 * operand is first given its NumPy unit dim (a [K] → [1, K], b [K] → [K, 1]) and dy the dims the
 * product removed, so the general case applies; the result is reshaped back to the operand.
 */
registerGrad("matmul", (g, node, [dy]) => {
  const [a, b] = node.inputs as ValueId[];
  const aVec = g.rank(a) === 1;
  const bVec = g.rank(b) === 1;
  const a2 = aVec ? g.add1("unsqueeze", [a], { axes: [0] }) : a;
  const b2 = bVec ? g.add1("unsqueeze", [b], { axes: [1] }) : b;
  const full = g.rank(dy!) + (aVec ? 1 : 0) + (bVec ? 1 : 0);
  const axes = [...(aVec ? [full - 2] : []), ...(bVec ? [full - 1] : [])];
  const dy2 = axes.length ? g.add1("unsqueeze", [dy!], { axes }) : dy!;
  const da = g.unbroadcast(g.add1("matmul", [dy2, swapLast(g, b2)]), a2);
  const db = g.unbroadcast(g.add1("matmul", [swapLast(g, a2), dy2]), b2);
  return [aVec ? g.add1("reshape", [da], { shape: g.typeOf(a).shape }) : da, bVec ? g.add1("reshape", [db], { shape: g.typeOf(b).shape }) : db];
});

/**
 * linear (y = x Wᵀ + b): dx = dy · W; dW = dyᵀ · x and db = Σ dy over every row, with the leading dims
 * of x and dy flattened into rows first so dW is one matrix product (no per-batch [O, I] partials).
 */
registerGrad("linear", (g, node, [dy]) => {
  const [x, w, bias] = node.inputs;
  const O = g.typeOf(w!).shape[0];
  const I = g.typeOf(w!).shape[1];
  const dx = g.add1("matmul", [dy!, w!]);
  const rows = (v: ValueId, d: number | string) => (g.rank(v) === 2 ? v : g.add1("reshape", [v], { shape: [-1, d] }));
  const dy2 = rows(dy!, O);
  const dw = g.add1("matmul", [swapLast(g, dy2), rows(x!, I)]);
  const db = bias === null || bias === undefined ? null : g.add1("reduce_sum", [dy2], { axes: [0] });
  return [dx, dw, db];
});
