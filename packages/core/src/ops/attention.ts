import { attr, type AttrSchema } from "./attrs.js";
import { defineOp, type InferContext, type OpDef } from "./op.js";
import type { TensorType } from "../types.js";
import { formatType } from "../types.js";
import { broadcastShapes } from "./broadcast.js";

/** How attention turns scores into weights. */
export type AttentionSelect = "softmax" | "argmax" | { readonly topk: number };

/**
 * Checks a mask against scores [B, ..., Tq, Tk]: either a key-padding mask bool[B, Tk] or a bool tensor of
 * the scores' rank that broadcasts to them.
 */
export function checkAttentionMask(ctx: InferContext, scores: readonly (string | number)[], mask: TensorType): void {
  const r = scores.length;
  if (mask.shape.length === 2 && r > 2) {
    ctx.unify(scores[0], mask.shape[0], `batch of the key-padding mask ${formatType(mask)}`);
    ctx.unify(scores[r - 1], mask.shape[1], `keys of the key-padding mask ${formatType(mask)}`);
    return;
  }
  if (mask.shape.length !== r) {
    ctx.fail(`mask ${formatType(mask)} must be a key-padding mask [B, Tk] or have the scores' rank ${r}`);
  }
  const b = broadcastShapes(ctx, scores, mask.shape);
  b.forEach((d, i) => ctx.unify(scores[i], d, `mask ${formatType(mask)} must broadcast to the scores`));
}

const maskAttrs = {
  causal: attr.bool("mask key j for query i when j > i", false),
  window: attr.optionalInt("mask keys farther than this from the query (|i − j| > w); one-sided with causal"),
};

function checkWindow(ctx: InferContext, window: number | null): void {
  if (window !== null && window < 0) ctx.fail(`window must be ≥ 0, got ${window}`);
}

export const attentionMaskOp = defineOp({
  name: "attention_mask",
  summary: "sets masked scores to -inf (padding mask, causal, local window)",
  inputs: [{ name: "scores" }, { name: "mask", optional: true, dtypes: ["bool"] }],
  attrs: maskAttrs,
  infer: (ctx, [scores, mask], { window }) => {
    ctx.minRank(scores!, 2, "scores");
    checkWindow(ctx, window);
    if (mask) checkAttentionMask(ctx, scores!.shape, mask);
    return [scores!];
  },
});

export const attentionOp = defineOp({
  name: "attention",
  summary: "fused attention: select(mask(scale · q kᵀ)) v, optionally returning the weights",
  inputs: [{ name: "q" }, { name: "k" }, { name: "v" }, { name: "mask", optional: true, dtypes: ["bool"] }],
  attrs: {
    scale: attr.float("multiplies q kᵀ"),
    ...maskAttrs,
    select: attr.json<AttentionSelect>('"softmax", "argmax" or { "topk": k }', "softmax"),
    weights: attr.bool("also return the attention weights", false),
  },
  numOutputs: (a) => (a.weights ? 2 : 1),
  infer: (ctx, [q, k, v, mask], { window, select, weights }) => {
    ctx.minRank(q!, 2, "q");
    ctx.rank(k!, q!.shape.length, "k");
    ctx.rank(v!, q!.shape.length, "v");
    checkWindow(ctx, window);
    const r = q!.shape.length;
    for (let i = 0; i < r - 2; i++) {
      ctx.unify(q!.shape[i], k!.shape[i], `batch dim ${i} of q ${formatType(q!)} and k ${formatType(k!)}`);
      ctx.unify(k!.shape[i], v!.shape[i], `batch dim ${i} of k and v`);
    }
    ctx.unify(q!.shape[r - 1], k!.shape[r - 1], `feature dim of q ${formatType(q!)} and k ${formatType(k!)}`);
    ctx.unify(k!.shape[r - 2], v!.shape[r - 2], `key count of k ${formatType(k!)} and v ${formatType(v!)}`);
    if (select !== "softmax" && select !== "argmax") {
      if (typeof select !== "object" || select === null || !Number.isInteger(select.topk) || select.topk < 1) {
        ctx.fail(`select must be "softmax", "argmax" or { "topk": k ≥ 1 }, got ${JSON.stringify(select)}`);
      }
    }
    const lead = q!.shape.slice(0, -1).map((d) => ctx.env.resolve(d));
    const scores = [...lead, ctx.env.resolve(k!.shape[r - 2])];
    if (mask) checkAttentionMask(ctx, scores, mask);
    const out: TensorType[] = [{ dtype: "float32", shape: [...lead, ctx.env.resolve(v!.shape[r - 1])] }];
    if (weights) out.push({ dtype: "float32", shape: scores });
    return out;
  },
});

export const attentionOps: OpDef<AttrSchema>[] = [attentionMaskOp, attentionOp];
