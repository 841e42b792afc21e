import { dimAdd, dimSub, type Dim } from "../../dim.js";
import type { ValueId } from "../../ir/graph.js";
import type { GradContext } from "../grad-context.js";
import { registerGrad } from "../grad-registry.js";

/** Gradients of the layout ops: each moves dy back to where its elements came from. */

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);
const isFloat = (g: GradContext, v: ValueId) => g.typeOf(v).dtype === "float32";

registerGrad("transpose", (g, node, [dy]) => {
  const perm = node.attrs.perm as number[];
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[norm(p, perm.length)] = i));
  return [g.add1("transpose", [dy!], { perm: inv })];
});

registerGrad("reshape", (g, node, [dy]) => [g.add1("reshape", [dy!], { shape: g.typeOf(node.inputs[0]!).shape })]);

// squeeze and unsqueeze undo each other; the axes are already positions in the larger (unsqueezed) shape.
registerGrad("squeeze", (g, node, [dy]) => {
  const r = g.rank(node.inputs[0]!);
  return [g.add1("unsqueeze", [dy!], { axes: (node.attrs.axes as number[]).map((a) => norm(a, r)) })];
});
registerGrad("unsqueeze", (g, node, [dy]) => {
  const r = g.rank(node.outputs[0]);
  return [g.add1("squeeze", [dy!], { axes: (node.attrs.axes as number[]).map((a) => norm(a, r)) })];
});

// concat ← split of dy at the inputs' sizes.
registerGrad("concat", (g, node, [dy]) => {
  const ins = node.inputs as ValueId[];
  const axis = norm(node.attrs.axis as number, g.rank(ins[0]));
  const pieces = g.add("split", [dy!], { axis, sizes: ins.map((i) => g.typeOf(i).shape[axis]) });
  return pieces.map((p, i) => (isFloat(g, ins[i]) ? p : null));
});

// split ← concat of the pieces' gradients, zeros for pieces nothing reads.
registerGrad("split", (g, node, dys) => {
  const parts = node.outputs.map((o, i) => dys[i] ?? g.zerosLike(o));
  return [g.add1("concat", parts, { axis: node.attrs.axis as number })];
});

/** dy placed at [start, start + len) of an axis of length `d`, zeros elsewhere. */
function padTo(g: GradContext, dy: ValueId, axis: number, start: Dim, d: Dim): ValueId {
  const len = g.typeOf(dy).shape[axis];
  return g.add1("pad", [dy], { axis, before: start, after: dimSub(dimSub(d, start), len) });
}

/**
 * slice ← dy padded back to x's length. A step other than 1 (whose dims are concrete) first spreads dy to
 * every |step|-th position (unsqueeze, pad the new axis, merge), reversing it first for a negative step so
 * it runs from the lowest index up.
 */
registerGrad("slice", (g, node, [dy]) => {
  const x = node.inputs[0]!;
  const xs = g.typeOf(x).shape;
  const axis = norm(node.attrs.axis as number, xs.length);
  const d = xs[axis];
  // Only the first index is needed: the gradient's length along the axis is the slice's length.
  const { start, step } = node.attrs as { start: number; step: number };
  if (step === 1) {
    // The shape function's first index: clamped when d is concrete, d + start for a negative start otherwise.
    const first: Dim = typeof d === "number" ? Math.min(Math.max(start < 0 ? start + d : start, 0), d) : start < 0 ? dimAdd(d, start) : start;
    return [padTo(g, dy!, axis, first, d)];
  }
  const n = g.typeOf(dy!).shape[axis] as number;
  const D = d as number;
  if (n === 0) return [g.zerosLike(x)];
  const first = start < 0 ? Math.max(start + D, step > 0 ? 0 : -1) : Math.min(start, step > 0 ? D : D - 1);
  const stride = Math.abs(step);
  const low = step > 0 ? first : first + (n - 1) * step;
  const up = step > 0 ? dy! : g.add1("slice", [dy!], { axis, start: n - 1, end: null, step: -1 });
  const spread = g.add1("pad", [g.add1("unsqueeze", [up], { axes: [axis + 1] })], { axis: axis + 1, before: 0, after: stride - 1 });
  const shape = g.typeOf(up).shape.map((s, i) => (i === axis ? n * stride : s));
  let merged = g.add1("reshape", [spread], { shape });
  // The last stride's trailing zeros may run past the end of x.
  const room = D - low;
  if (n * stride > room) merged = g.add1("slice", [merged], { axis, start: 0, end: room, step: 1 });
  return [padTo(g, merged, axis, low, D)];
});

// select ← dy with the axis put back, padded to x's length around the index.
registerGrad("select", (g, node, [dy]) => {
  const x = node.inputs[0]!;
  const xs = g.typeOf(x).shape;
  const axis = norm(node.attrs.axis as number, xs.length);
  const index = node.attrs.index as number;
  const d = xs[axis];
  const at: Dim = index >= 0 ? index : dimAdd(d, index);
  return [padTo(g, g.add1("unsqueeze", [dy!], { axes: [axis] }), axis, at, d)];
});

// pad ← the middle piece of dy (split takes symbolic sizes, unlike slice bounds).
registerGrad("pad", (g, node, [dy]) => {
  const x = node.inputs[0]!;
  const axis = norm(node.attrs.axis as number, g.rank(x));
  const { before, after } = node.attrs as { before: Dim; after: Dim };
  const [, mid] = g.add("split", [dy!], { axis, sizes: [before, g.typeOf(x).shape[axis], after] });
  return [mid];
});
