import type { ValueId } from "../../ir/graph.js";
import type { GradContext } from "../grad-context.js";
import { registerGrad, type ForwardNode } from "../grad-registry.js";

/** Gradients of the reductions: dy broadcast back over the reduced axes (scaled, or routed to the maxima). */

interface ReduceAttrs {
  axes: number[];
  keepdims: boolean;
}

const attrsOf = (node: ForwardNode) => node.attrs as unknown as ReduceAttrs;

/** The reduced axes of x, non-negative and sorted. */
function reducedAxes(g: GradContext, x: ValueId, axes: readonly number[]): number[] {
  const r = g.rank(x);
  return axes.map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
}

/** `v` (a reduction result) with the reduced axes kept as size 1. */
function keep(g: GradContext, v: ValueId, axes: number[], keepdims: boolean): ValueId {
  return keepdims ? v : g.add1("unsqueeze", [v], { axes });
}

registerGrad("reduce_sum", (g, node, [dy]) => {
  const { axes, keepdims } = attrsOf(node);
  return [g.expandTo(dy!, node.inputs[0]!, axes, keepdims)];
});

/**
 * reduce_mean: dy / N spread over the reduced elements. N is a constant when the reduced dims are
 * concrete; otherwise it is counted at run time (a sum of ones), since there is no op reading a symbol.
 */
registerGrad("reduce_mean", (g, node, [dy]) => {
  const x = node.inputs[0]!;
  const { axes, keepdims } = attrsOf(node);
  const dims = reducedAxes(g, x, axes).map((a) => g.typeOf(x).shape[a]);
  const count = dims.every((d) => typeof d === "number")
    ? g.scalar((dims as number[]).reduce((p, d) => p * d, 1))
    : g.add1("reduce_sum", [g.add1("add", [g.zerosLike(x), g.scalar(1)])], { axes, keepdims });
  return [g.expandTo(g.add1("div", [dy!, count]), x, axes, keepdims)];
});

// reduce_max: like torch.amax, the gradient is split evenly among the elements equal to the maximum.
registerGrad("reduce_max", (g, node, [dy]) => {
  const x = node.inputs[0]!;
  const { axes, keepdims } = attrsOf(node);
  const ax = reducedAxes(g, x, axes);
  const hit = g.toFloat(g.add1("equal", [x, keep(g, node.outputs[0], ax, keepdims)]));
  const ties = g.add1("reduce_sum", [hit], { axes: ax, keepdims: true });
  return [g.mul(hit, g.add1("div", [keep(g, dy!, ax, keepdims), ties]))];
});
