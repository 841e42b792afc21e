import { attr, type AttrSchema, type AttrSpec } from "./attrs.js";
import { defineOp, getOp, type InferContext, type OpDef } from "./op.js";
import { attrDim } from "./layout.js";
import { attentionOp } from "./attention.js";
import { conv2dOp, patchesOp } from "./image.js";
import { gruCellOp, gruOp } from "./recurrent.js";
import { dimAdd, type Dim } from "../dim.js";
import type { TensorType } from "../types.js";
import { formatType } from "../types.js";

/**
 * Ops that gradients are made of: small helpers (zeros_like, erf, sign, pad) and fused backward ops
 * (`*_grad`) where a chain of primitives would be slow (recurrences, attention without an N×N matrix) or
 * awkward (scatter-adds). Each backward op's shape function reruns its forward op's shape function and
 * requires the upstream gradients to have exactly the forward outputs' types, so a gradient graph is
 * checked as strictly as the forward one.
 */

const ANY = ["float32", "int32", "bool"] as const;

/** One dimension (an integer or symbolic text such as `"S-2"`), resolved with the graph's bindings. */
function dimAttr(doc: string): AttrSpec<number | string> {
  return {
    doc,
    dims: true,
    check: (v) =>
      (typeof v === "number" && Number.isInteger(v)) || (typeof v === "string" && v.length > 0)
        ? (v as number | string)
        : { error: v === undefined ? "is required" : "must be an integer or a symbolic dimension" },
  };
}

/** Requires `got` (an upstream gradient) to have the type `want` of the forward output it belongs to. */
function expectType(ctx: InferContext, got: TensorType, want: TensorType, what: string): void {
  if (got.dtype !== want.dtype || got.shape.length !== want.shape.length) ctx.fail(`${what} must be ${formatType(want)}, got ${formatType(got)}`);
  want.shape.forEach((d, i) => ctx.unify(d, got.shape[i], `dim ${i} of ${what} (${formatType(got)} vs ${formatType(want)})`));
}

const resolved = (ctx: InferContext, t: TensorType): TensorType => ({ dtype: t.dtype, shape: t.shape.map((d) => ctx.env.resolve(d)) });
const float = (shape: readonly Dim[]): TensorType => ({ dtype: "float32", shape });

export const zerosLikeOp = defineOp({
  name: "zeros_like",
  summary: "zeros of the input's dtype and shape (the input's values are not read)",
  inputs: [{ name: "x", dtypes: ANY }],
  attrs: {},
  infer: (ctx, [x]) => [resolved(ctx, x!)],
});

export const erfOp = defineOp({
  name: "erf",
  summary: "elementwise error function (the derivative of exact gelu needs it)",
  inputs: [{ name: "x" }],
  attrs: {},
  infer: (ctx, [x]) => [resolved(ctx, x!)],
});

export const signOp = defineOp({
  name: "sign",
  summary: "elementwise sign: −1, 0 or 1 (the derivative of abs)",
  inputs: [{ name: "x" }],
  attrs: {},
  infer: (ctx, [x]) => [resolved(ctx, x!)],
});

export const padOp = defineOp({
  name: "pad",
  summary: "zero padding along one axis: `before` zeros, x, `after` zeros (the gradient of slice and select)",
  inputs: [{ name: "x", dtypes: ANY }],
  attrs: { axis: attr.int("axis"), before: dimAttr("zeros before x (may be symbolic)"), after: dimAttr("zeros after x (may be symbolic)") },
  infer: (ctx, [x], { axis, before, after }) => {
    const ax = ctx.axis(axis, x!.shape.length);
    const b = attrDim(ctx, before);
    const a = attrDim(ctx, after);
    for (const [d, n] of [[b, "before"], [a, "after"]] as const) if (typeof d === "number" && d < 0) ctx.fail(`${n} must be ≥ 0, got ${d}`);
    const len = dimAdd(dimAdd(b, ctx.env.resolve(x!.shape[ax])), a);
    return [{ dtype: x!.dtype, shape: x!.shape.map((d, k) => (k === ax ? len : ctx.env.resolve(d))) }];
  },
});

export const layerNormGradOp = defineOp({
  name: "layer_norm_grad",
  summary: "gradient of layer_norm: dx, dweight [D], dbias [D] from x, weight? and dy",
  inputs: [{ name: "x" }, { name: "weight", optional: true }, { name: "dy" }],
  attrs: { eps: attr.float("added to the variance", 1e-5) },
  numOutputs: () => 3,
  infer: (ctx, [x, w, dy], a) => {
    const [y] = getOp("layer_norm").infer(ctx, [x, w, null], a);
    expectType(ctx, dy!, y, "dy");
    const d = ctx.env.resolve(x!.shape[x!.shape.length - 1]);
    return [resolved(ctx, x!), float([d]), float([d])];
  },
});

export const embeddingGradOp = defineOp({
  name: "embedding_grad",
  summary: "gradient of embedding w.r.t. its weight: rows of dy scatter-added at their indices (repeats accumulate)",
  inputs: [{ name: "weight" }, { name: "indices", dtypes: ["int32"] }, { name: "dy" }],
  attrs: {},
  infer: (ctx, [w, idx, dy]) => {
    const [y] = getOp("embedding").infer(ctx, [w, idx], {});
    expectType(ctx, dy!, y, "dy");
    return [resolved(ctx, w!)];
  },
});

export const conv2dGradOp = defineOp({
  name: "conv2d_grad",
  summary: "gradient of conv2d: dx, dweight and dbias [O] from x, weight and dy",
  inputs: [{ name: "x" }, { name: "weight" }, { name: "dy" }],
  attrs: conv2dOp.attrs,
  numOutputs: () => 3,
  infer: (ctx, [x, w, dy], a) => {
    const [y] = conv2dOp.infer(ctx, [x, w, null], a);
    expectType(ctx, dy!, y, "dy");
    return [resolved(ctx, x!), resolved(ctx, w!), float([ctx.env.resolve(w!.shape[0])])];
  },
});

function poolGrad(name: string, summary: string): OpDef {
  const forward = name.slice(0, -"_grad".length);
  return defineOp({
    name,
    summary,
    inputs: [{ name: "x" }, { name: "dy" }],
    attrs: {
      kernel: attr.ints("[kh, kw]"),
      stride: attr.ints("[sh, sw]; defaults to the kernel", []),
      padding: attr.ints("[ph, pw]", [0, 0]),
    },
    infer: (ctx, [x, dy], a) => {
      const [y] = getOp(forward).infer(ctx, [x], a);
      expectType(ctx, dy!, y, "dy");
      return [resolved(ctx, x!)];
    },
  });
}

export const patchesGradOp = defineOp({
  name: "patches_grad",
  summary: "gradient of patches: each patch of dy [B, N, C·p·p] written back to its place in x's shape",
  inputs: [{ name: "x" }, { name: "dy" }],
  attrs: patchesOp.attrs,
  infer: (ctx, [x, dy], a) => {
    const [y] = patchesOp.infer(ctx, [x], a);
    expectType(ctx, dy!, y, "dy");
    return [resolved(ctx, x!)];
  },
});

// The forward's attributes but `weights`: whether the weights were an output shows as d_weights being given.
const { weights: _weights, ...attentionGradAttrs } = attentionOp.attrs;

export const attentionGradOp = defineOp({
  name: "attention_grad",
  summary: "gradient of attention: dq, dk, dv from q, k, v, mask?, d_out and d_weights? (scores recomputed row by row)",
  inputs: [
    { name: "q" }, { name: "k" }, { name: "v" }, { name: "mask", optional: true, dtypes: ["bool"] },
    { name: "d_out" }, { name: "d_weights", optional: true },
  ],
  attrs: attentionGradAttrs,
  numOutputs: () => 3,
  infer: (ctx, [q, k, v, mask, dOut, dW], a) => {
    const [out, weights] = attentionOp.infer(ctx, [q, k, v, mask], { ...a, weights: true });
    expectType(ctx, dOut!, out, "d_out");
    if (dW) expectType(ctx, dW, weights, "d_weights");
    return [resolved(ctx, q!), resolved(ctx, k!), resolved(ctx, v!)];
  },
});

export const gruGradOp = defineOp({
  name: "gru_grad",
  summary: "gradient of gru (backpropagation through time): dx, per direction dweight_ih, dweight_hh, dbias_ih, dbias_hh, then dh0",
  inputs: [
    ...gruOp.inputs,
    { name: "y" }, { name: "dy", optional: true }, { name: "dh_n", optional: true },
  ],
  attrs: gruOp.attrs,
  numOutputs: (a) => 2 + 4 * (a.bidirectional ? 2 : 1),
  infer: (ctx, inputs, a) => {
    const [yType, hnType] = gruOp.infer(ctx, inputs.slice(0, 10), a);
    const [y, dy, dhn] = inputs.slice(10);
    expectType(ctx, y!, yType, "y");
    if (dy) expectType(ctx, dy, yType, "dy");
    if (dhn) expectType(ctx, dhn, hnType, "dh_n");
    const dirs = a.bidirectional ? 2 : 1;
    const out: TensorType[] = [resolved(ctx, inputs[0]!)];
    for (let d = 0; d < dirs; d++) {
      const [wih, whh] = [inputs[1 + 4 * d]!, inputs[2 + 4 * d]!];
      out.push(resolved(ctx, wih), resolved(ctx, whh), float([3 * a.hidden]), float([3 * a.hidden]));
    }
    out.push(resolved(ctx, hnType));
    return out;
  },
});

export const gruCellGradOp = defineOp({
  name: "gru_cell_grad",
  summary: "gradient of gru_cell: dx, dh, dweight_ih, dweight_hh, dbias_ih, dbias_hh from the cell's inputs and dh'",
  inputs: [...gruCellOp.inputs, { name: "dh_new" }],
  attrs: {},
  numOutputs: () => 6,
  infer: (ctx, inputs) => {
    const [hNew] = gruCellOp.infer(ctx, inputs.slice(0, 6), {});
    expectType(ctx, inputs[6]!, hNew, "dh_new");
    const [x, h, wih, whh] = inputs as TensorType[];
    const threeH = ctx.env.resolve(wih.shape[0]);
    return [resolved(ctx, x), resolved(ctx, h), resolved(ctx, wih), resolved(ctx, whh), float([threeH]), float([threeH])];
  },
});

/** Ops that gradients are made of: helpers (zeros_like, erf, sign, pad) and fused backward ops (`*_grad`). */
export const gradOps: OpDef<AttrSchema>[] = [
  zerosLikeOp,
  erfOp,
  signOp,
  padOp,
  layerNormGradOp,
  embeddingGradOp,
  conv2dGradOp,
  poolGrad("max_pool2d_grad", "gradient of max_pool2d: dy routed to each window's (first) maximum"),
  poolGrad("avg_pool2d_grad", "gradient of avg_pool2d: dy spread evenly over each window (padding included in the divisor)"),
  patchesGradOp,
  attentionGradOp,
  gruGradOp,
  gruCellGradOp,
] as OpDef<AttrSchema>[];
