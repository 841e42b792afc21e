import { attr, type AttrSchema } from "./attrs.js";
import { defineOp, type OpDef } from "./op.js";

/**
 * Normalisations along one axis. All share the convention that a row which is entirely -inf (every key
 * masked) gives zeros instead of NaN (log_softmax gives -inf).
 */
export const SOFTMAX_OPS = ["softmax", "log_softmax", "hardmax"] as const;

function sameShape(name: string, summary: string): OpDef {
  return defineOp({
    name,
    summary,
    inputs: [{ name: "x" }],
    attrs: { axis: attr.int("axis", -1) },
    infer: (ctx, [x], { axis }) => {
      ctx.axis(axis, x!.shape.length);
      return [{ dtype: "float32", shape: x!.shape }];
    },
  });
}

export const softmaxOps: OpDef<AttrSchema>[] = [
  sameShape("softmax", "stable softmax; an all -inf row gives zeros"),
  sameShape("log_softmax", "stable log-softmax"),
  sameShape("hardmax", "one-hot at the first maximum; an all -inf row gives zeros"),
  defineOp({
    name: "topk_softmax",
    summary: "softmax over the k largest entries (first index wins ties), zero elsewhere",
    inputs: [{ name: "x" }],
    attrs: { axis: attr.int("axis", -1), k: attr.int("entries kept") },
    infer: (ctx, [x], { axis, k }) => {
      const ax = ctx.axis(axis, x!.shape.length);
      if (k < 1) ctx.fail(`k must be at least 1, got ${k}`);
      const n = ctx.env.resolve(x!.shape[ax]);
      if (typeof n === "number" && k > n) ctx.fail(`k = ${k} is larger than the axis (${n})`);
      return [{ dtype: "float32", shape: x!.shape }];
    },
  }),
  defineOp({
    name: "layer_norm",
    summary: "normalises over the last dim (biased variance), then weight ⊙ x̂ + bias",
    inputs: [{ name: "x" }, { name: "weight", optional: true }, { name: "bias", optional: true }],
    attrs: { eps: attr.float("added to the variance", 1e-5) },
    infer: (ctx, [x, w, b]) => {
      ctx.minRank(x!, 1, "x");
      const d = x!.shape[x!.shape.length - 1];
      for (const [t, n] of [[w, "weight"], [b, "bias"]] as const) {
        if (!t) continue;
        ctx.rank(t, 1, n);
        ctx.unify(d, t.shape[0], `${n} length vs the normalised dim`);
      }
      return [{ dtype: "float32", shape: x!.shape }];
    },
  }),
];
