import { attr, type AttrSchema } from "./attrs.js";
import { defineOp, type InferContext, type OpDef } from "./op.js";
import { dimAdd, dimDiv, dimEquals, dimProduct, dimSub, parseDim, type Dim } from "../dim.js";
import { formatType } from "../types.js";
import { formatShape } from "../dim.js";

const ANY = ["float32", "int32", "bool"] as const;

/** Resolves a dim attribute (symbolic text is parsed and bound through the environment). */
export function attrDim(ctx: InferContext, d: number | string): Dim {
  return ctx.env.resolve(typeof d === "string" ? parseDim(d) : d);
}

export const transposeOp = defineOp({
  name: "transpose",
  summary: "permutes dims: out.shape[i] = x.shape[perm[i]]",
  inputs: [{ name: "x", dtypes: ANY }],
  attrs: { perm: attr.ints("a permutation of 0..rank-1") },
  infer: (ctx, [x], { perm }) => {
    const r = x!.shape.length;
    const seen = new Set(perm.map((p) => ctx.axis(p, r, "perm entry")));
    if (perm.length !== r || seen.size !== r) ctx.fail(`perm [${perm.join(", ")}] is not a permutation of the ${r} dims of ${formatType(x!)}`);
    return [{ dtype: x!.dtype, shape: perm.map((p) => x!.shape[ctx.axis(p, r)]) }];
  },
});

export const reshapeOp = defineOp({
  name: "reshape",
  summary: "same data, new shape; one entry may be -1 (inferred); entries may be symbolic",
  inputs: [{ name: "x", dtypes: ANY }],
  attrs: { shape: attr.dims("target shape") },
  infer: (ctx, [x], { shape }) => {
    const dims = shape.map((d) => (d === -1 ? -1 : attrDim(ctx, d)));
    const holes = dims.filter((d) => d === -1).length;
    if (holes > 1) ctx.fail(`at most one -1 in the target shape, got ${formatShape(shape)}`);
    const total = dimProduct(x!.shape.map((d) => ctx.env.resolve(d)));
    const known = dimProduct(dims.filter((d) => d !== -1));
    if (holes === 1) {
      const rest = dimDiv(total, known);
      if (rest === undefined) return ctx.fail(`cannot reshape ${formatType(x!)} (${total} elements) to ${formatShape(shape)}: ${total} is not divisible by ${known}`);
      return [{ dtype: x!.dtype, shape: dims.map((d) => (d === -1 ? rest : d)) }];
    }
    if (!dimEquals(total, known)) ctx.fail(`cannot reshape ${formatType(x!)} (${total} elements) to ${formatShape(dims)} (${known} elements)`);
    return [{ dtype: x!.dtype, shape: dims }];
  },
});

export const squeezeOp = defineOp({
  name: "squeeze",
  summary: "removes the given size-1 axes",
  inputs: [{ name: "x", dtypes: ANY }],
  attrs: { axes: attr.ints("axes to remove") },
  infer: (ctx, [x], { axes }) => {
    const r = x!.shape.length;
    const drop = new Set(axes.map((a) => ctx.axis(a, r)));
    if (drop.size !== axes.length) ctx.fail(`axes [${axes.join(", ")}] name the same axis twice`);
    for (const a of drop) ctx.unify(x!.shape[a], 1, `axis ${a} of ${formatType(x!)} must have size 1 to be squeezed`);
    return [{ dtype: x!.dtype, shape: x!.shape.filter((_, i) => !drop.has(i)) }];
  },
});

export const unsqueezeOp = defineOp({
  name: "unsqueeze",
  summary: "inserts size-1 axes at the given positions of the output",
  inputs: [{ name: "x", dtypes: ANY }],
  attrs: { axes: attr.ints("axes in the output") },
  infer: (ctx, [x], { axes }) => {
    const r = x!.shape.length + axes.length;
    const add = new Set(axes.map((a) => ctx.axis(a, r)));
    if (add.size !== axes.length) ctx.fail(`axes [${axes.join(", ")}] name the same output position twice`);
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < r; i++) out.push(add.has(i) ? 1 : x!.shape[j++]);
    return [{ dtype: x!.dtype, shape: out }];
  },
});

export const concatOp = defineOp({
  name: "concat",
  summary: "joins tensors along an axis",
  inputs: [{ name: "xs", variadic: true, dtypes: ANY }],
  attrs: { axis: attr.int("axis", -1) },
  infer: (ctx, inputs, { axis }) => {
    const first = inputs[0]!;
    const r = first.shape.length;
    const ax = ctx.axis(axis, r);
    let total: Dim = 0;
    inputs.forEach((t, i) => {
      if (t!.dtype !== first.dtype) ctx.fail(`input ${i} is ${t!.dtype}, input 0 is ${first.dtype}`);
      if (t!.shape.length !== r) ctx.fail(`input ${i} ${formatType(t!)} has a different rank than input 0 ${formatType(first)}`);
      t!.shape.forEach((d, k) => {
        if (k !== ax) ctx.unify(first.shape[k], d, `dim ${k} of input ${i} (${formatType(t!)}) vs input 0 (${formatType(first)})`);
      });
      total = dimAdd(total, ctx.env.resolve(t!.shape[ax]));
    });
    const shape = first.shape.map((d, k) => (k === ax ? total : ctx.env.resolve(d)));
    return [{ dtype: first.dtype, shape }];
  },
});

export const splitOp = defineOp({
  name: "split",
  summary: "splits along an axis into pieces of the given sizes",
  inputs: [{ name: "x", dtypes: ANY }],
  attrs: { axis: attr.int("axis", -1), sizes: attr.dims("piece sizes") },
  numOutputs: (a) => a.sizes.length,
  infer: (ctx, [x], { axis, sizes }) => {
    const ax = ctx.axis(axis, x!.shape.length);
    const dims = sizes.map((s) => attrDim(ctx, s));
    ctx.unify(x!.shape[ax], dims.reduce<Dim>((a, b) => dimAdd(a, b), 0), `sizes [${sizes.join(", ")}] must add up to axis ${ax} of ${formatType(x!)}`);
    return dims.map((d) => ({ dtype: x!.dtype, shape: x!.shape.map((s, k) => (k === ax ? d : ctx.env.resolve(s))) }));
  },
});

/** Normalises slice bounds; symbolic dims support step 1 and bounds known relative to start or end. */
function sliceLength(ctx: InferContext, dim: Dim, start: number, end: number | null, step: number): Dim {
  if (step === 0) ctx.fail("step must not be 0");
  const d = ctx.env.resolve(dim);
  if (typeof d === "number") {
    const norm = (i: number) => (i < 0 ? Math.max(i + d, step > 0 ? 0 : -1) : Math.min(i, step > 0 ? d : d - 1));
    const s = norm(start);
    const e = end === null ? (step > 0 ? d : -1) : norm(end);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  if (step !== 1) ctx.fail(`a step other than 1 needs a concrete dimension, got ${d}`);
  const s: Dim = start < 0 ? dimAdd(d, start) : start;
  const e: Dim = end === null ? d : end < 0 ? dimAdd(d, end) : end;
  return dimSub(e, s);
}

export const sliceOp = defineOp({
  name: "slice",
  summary: "x[start:end:step] along one axis (negative bounds count from the end)",
  inputs: [{ name: "x", dtypes: ANY }],
  attrs: {
    axis: attr.int("axis"),
    start: attr.int("first index", 0),
    end: attr.optionalInt("end index, exclusive; null for the end"),
    step: attr.int("stride", 1),
  },
  infer: (ctx, [x], { axis, start, end, step }) => {
    const ax = ctx.axis(axis, x!.shape.length);
    const len = sliceLength(ctx, x!.shape[ax], start, end, step);
    return [{ dtype: x!.dtype, shape: x!.shape.map((s, k) => (k === ax ? len : s)) }];
  },
});

export const selectOp = defineOp({
  name: "select",
  summary: "x[..., index, ...] along one axis, removing it",
  inputs: [{ name: "x", dtypes: ANY }],
  attrs: { axis: attr.int("axis"), index: attr.int("index (negative counts from the end)") },
  infer: (ctx, [x], { axis, index }) => {
    const ax = ctx.axis(axis, x!.shape.length);
    const d = ctx.env.resolve(x!.shape[ax]);
    if (typeof d === "number" && (index >= d || index < -d)) ctx.fail(`index ${index} is out of range for axis ${ax} of size ${d}`);
    return [{ dtype: x!.dtype, shape: x!.shape.filter((_, k) => k !== ax) }];
  },
});

export const layoutOps: OpDef<AttrSchema>[] = [transposeOp, reshapeOp, squeezeOp, unsqueezeOp, concatOp, splitOp, sliceOp, selectOp];
