import { attr, type AttrSchema } from "./attrs.js";
import { defineOp, type InferContext, type OpDef } from "./op.js";
import { dimDiv, dimMul, type Dim } from "../dim.js";
import { formatType } from "../types.js";

/** Output size of a strided window: floor((n + 2p − d(k − 1) − 1) / s) + 1; needs a concrete n. */
function windowOut(ctx: InferContext, n: Dim, k: number, s: number, p: number, d: number, what: string): number {
  const size = ctx.env.resolve(n);
  if (typeof size !== "number") ctx.fail(`${what} must be concrete for a window op, got ${size}`);
  const out = Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
  if (out < 1) ctx.fail(`${what} ${size} is too small for kernel ${k} (stride ${s}, padding ${p}, dilation ${d})`);
  return out;
}

function pair(ctx: InferContext, v: number[], name: string, min: number): [number, number] {
  if (v.length !== 2 || v.some((x) => x < min)) ctx.fail(`${name} must be two integers ≥ ${min}, got [${v.join(", ")}]`);
  return [v[0], v[1]];
}

export const conv2dOp = defineOp({
  name: "conv2d",
  summary: "2-D convolution (cross-correlation), NCHW, PyTorch weight layout [O, C/groups, kh, kw]",
  inputs: [{ name: "x" }, { name: "weight" }, { name: "bias", optional: true }],
  attrs: {
    stride: attr.ints("[sh, sw]", [1, 1]),
    padding: attr.ints("[ph, pw] zeros on each side", [0, 0]),
    dilation: attr.ints("[dh, dw]", [1, 1]),
    groups: attr.int("channel groups", 1),
  },
  infer: (ctx, [x, w, b], a) => {
    ctx.rank(x!, 4, "x (NCHW)");
    ctx.rank(w!, 4, "weight");
    const [sh, sw] = pair(ctx, a.stride, "stride", 1);
    const [ph, pw] = pair(ctx, a.padding, "padding", 0);
    const [dh, dw] = pair(ctx, a.dilation, "dilation", 1);
    if (a.groups < 1) ctx.fail(`groups must be ≥ 1, got ${a.groups}`);
    const [B, C, H, W] = x!.shape;
    const [O, Cg, kh, kw] = w!.shape.map((d) => ctx.env.resolve(d));
    ctx.unify(C, dimMul(Cg, a.groups), `input channels of x ${formatType(x!)} vs weight ${formatType(w!)} × groups ${a.groups}`);
    if (typeof O === "number" && O % a.groups !== 0) ctx.fail(`output channels ${O} are not divisible by groups ${a.groups}`);
    if (typeof kh !== "number" || typeof kw !== "number") return ctx.fail(`kernel size must be concrete, got ${formatType(w!)}`);
    if (b) {
      ctx.rank(b, 1, "bias");
      ctx.unify(O, b.shape[0], "bias length vs output channels");
    }
    const Ho = windowOut(ctx, H, kh, sh, ph, dh, "height");
    const Wo = windowOut(ctx, W, kw, sw, pw, dw, "width");
    return [{ dtype: "float32", shape: [ctx.env.resolve(B), O, Ho, Wo] }];
  },
});

function pool(name: string, summary: string): OpDef {
  return defineOp({
    name,
    summary,
    inputs: [{ name: "x" }],
    attrs: {
      kernel: attr.ints("[kh, kw]"),
      stride: attr.ints("[sh, sw]; defaults to the kernel", []),
      padding: attr.ints("[ph, pw]", [0, 0]),
    },
    infer: (ctx, [x], a) => {
      ctx.rank(x!, 4, "x (NCHW)");
      const [kh, kw] = pair(ctx, a.kernel, "kernel", 1);
      const [sh, sw] = a.stride.length ? pair(ctx, a.stride, "stride", 1) : [kh, kw];
      const [ph, pw] = pair(ctx, a.padding, "padding", 0);
      if (ph * 2 > kh || pw * 2 > kw) ctx.fail(`padding must be at most half the kernel, got padding [${ph}, ${pw}] for kernel [${kh}, ${kw}]`);
      const [B, C, H, W] = x!.shape;
      return [{ dtype: "float32", shape: [B, C, windowOut(ctx, H, kh, sh, ph, 1, "height"), windowOut(ctx, W, kw, sw, pw, 1, "width")] }];
    },
  });
}

export const patchesOp = defineOp({
  name: "patches",
  summary: "non-overlapping p×p patches: [B, C, H, W] → [B, (H/p)(W/p), C·p·p], each patch channel-major",
  inputs: [{ name: "x" }],
  attrs: { size: attr.int("patch size p") },
  infer: (ctx, [x], { size }) => {
    ctx.rank(x!, 4, "x (NCHW)");
    if (size < 1) ctx.fail(`size must be ≥ 1, got ${size}`);
    const [B, C, H, W] = x!.shape.map((d) => ctx.env.resolve(d));
    const nh = dimDiv(H, size);
    const nw = dimDiv(W, size);
    if (nh === undefined || nw === undefined) return ctx.fail(`height ${H} and width ${W} must be divisible by the patch size ${size}`);
    return [{ dtype: "float32", shape: [B, dimMul(nh, nw), dimMul(C, size * size)] }];
  },
});

export const positionalEncodingOp = defineOp({
  name: "positional_encoding",
  summary: "adds the sinusoidal position encoding of Vaswani et al. to x [B, S, D]",
  inputs: [{ name: "x" }],
  attrs: {},
  infer: (ctx, [x]) => {
    ctx.rank(x!, 3, "x ([B, S, D])");
    return [x!];
  },
});

export const embeddingOp = defineOp({
  name: "embedding",
  summary: "rows of weight [V, D] picked by int32 indices: [...] → [..., D]",
  inputs: [{ name: "weight" }, { name: "indices", dtypes: ["int32"] }],
  attrs: {},
  infer: (ctx, [w, idx]) => {
    ctx.rank(w!, 2, "weight");
    return [{ dtype: "float32", shape: [...idx!.shape, ctx.env.resolve(w!.shape[1])] }];
  },
});

export const imageOps: OpDef<AttrSchema>[] = [
  conv2dOp,
  pool("max_pool2d", "max over windows (padding is -inf)"),
  pool("avg_pool2d", "mean over windows (padding counts as zeros, PyTorch count_include_pad)"),
  patchesOp,
  positionalEncodingOp,
  embeddingOp,
];
