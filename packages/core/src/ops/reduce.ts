import { attr, type AttrSchema } from "./attrs.js";
import { defineOp, type OpDef } from "./op.js";

export const REDUCE_OPS = ["reduce_sum", "reduce_mean", "reduce_max"] as const;

function reduce(name: string): OpDef {
  return defineOp({
    name,
    summary: `${name.slice(7)} over the given axes`,
    inputs: [{ name: "x" }],
    attrs: { axes: attr.ints("axes to reduce"), keepdims: attr.bool("keep reduced axes as size 1", false) },
    infer: (ctx, [x], { axes, keepdims }) => {
      const r = x!.shape.length;
      if (axes.length === 0) ctx.fail("axes must name at least one axis");
      const red = new Set(axes.map((a) => ctx.axis(a, r)));
      const shape = keepdims ? x!.shape.map((d, i) => (red.has(i) ? 1 : d)) : x!.shape.filter((_, i) => !red.has(i));
      return [{ dtype: "float32", shape }];
    },
  });
}

export const reduceOps: OpDef<AttrSchema>[] = [
  ...REDUCE_OPS.map(reduce),
  defineOp({
    name: "argmax",
    summary: "index of the maximum along an axis (first index on ties), int32",
    inputs: [{ name: "x" }],
    attrs: { axis: attr.int("axis", -1), keepdims: attr.bool("keep the axis as size 1", false) },
    infer: (ctx, [x], { axis, keepdims }) => {
      const ax = ctx.axis(axis, x!.shape.length);
      const shape = keepdims ? x!.shape.map((d, i) => (i === ax ? 1 : d)) : x!.shape.filter((_, i) => i !== ax);
      return [{ dtype: "int32", shape }];
    },
  }),
];
