import { dimDiv, formatType, type ValueId } from "@attn/core";
import type { Args } from "../args.js";
import { badArgument, concreteDim, type EmitContext } from "../emit-context.js";
import { LowerError } from "../lower-error.js";
import { Diagnostics } from "../../diagnostics/messages.js";

/** Attention kinds by score function; `hard` and `local` are scaled-dot defaults with a selection/window. */
export const ATTENTION_KINDS = ["dot", "scaled_dot", "general", "concat", "additive", "multihead", "hard", "local"] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

const uniform = (bound: number) => ({ kind: "uniform", bound }) as const;

/** Swaps the last two axes. */
function transposeLast(ctx: EmitContext, x: ValueId): ValueId {
  const r = ctx.typeOf(x).shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return ctx.add1("transpose", [x], { perm });
}

/** scores = q kᵀ (· scale) — the exact chain the fuse-attention pass recognises. */
function dotScores(ctx: EmitContext, q: ValueId, k: ValueId, scale: number): ValueId {
  const s = ctx.add1("matmul", [q, transposeLast(ctx, k)]);
  return scale === 1 ? s : ctx.add1("mul", [s, ctx.constant([scale], [])]);
}

/** vᵀ tanh(qp[.., Tq, 1, U] + kp[.., 1, Tk, U]) → [.., Tq, Tk], for additive and concat scores. */
function additiveScores(ctx: EmitContext, qp: ValueId, kp: ValueId, v: ValueId): ValueId {
  const r = ctx.typeOf(qp).shape.length;
  const e = ctx.add1("tanh", [ctx.add1("add", [ctx.add1("unsqueeze", [qp], { axes: [r - 1] }), ctx.add1("unsqueeze", [kp], { axes: [r - 2] })])]);
  return ctx.add1("squeeze", [ctx.add1("linear", [e, v, null])], { axes: [-1] });
}

interface Selection {
  readonly op: "softmax" | "hardmax" | "topk_softmax";
  readonly attrs: Record<string, unknown>;
}

function selection(a: Args, kind: AttentionKind): Selection {
  if (a.has("topk")) return { op: "topk_softmax", attrs: { axis: -1, k: a.int("topk", 1) } };
  const sel = a.word("select") ?? (kind === "hard" ? "argmax" : "softmax");
  if (sel === "argmax") return { op: "hardmax", attrs: { axis: -1 } };
  return { op: "softmax", attrs: { axis: -1 } };
}

/**
 * `attention KIND(query, keys[, values], options…)` → [output, weights]. A one-step query [B, Dq] is
 * lifted to [B, 1, Dq] and the results are squeezed back ([B, Dv], [B, Tk]).
 */
export function emitAttention(kind: AttentionKind, ctx: EmitContext, a: Args): ValueId[] {
  let q = a.tensor("query");
  const k = a.tensor("keys");
  const v = a.optionalTensor("values") ?? k;
  const kr = ctx.typeOf(k).shape.length;
  const oneStep = ctx.typeOf(q).shape.length === kr - 1;
  if (oneStep) q = ctx.add1("unsqueeze", [q], { axes: [-2] });
  if (ctx.typeOf(q).shape.length !== kr || kr < 2) {
    throw new LowerError(Diagnostics.AttentionRanks, { callee: ctx.callee, query: formatType(ctx.typeOf(a.tensor("query"))), keys: formatType(ctx.typeOf(k)) }, a.spanOf("query"));
  }
  const mask = a.optionalTensor("mask");
  const causal = a.bool("causal");
  const window = a.optionalInt("window", 0);
  const sel = selection(a, kind);
  const dq = concreteDim(ctx, q, -1, "the query features");
  const dk = concreteDim(ctx, k, -1, "the key features");

  let qh = q;
  let kh = k;
  let vh = v;
  let scores: ValueId;
  let heads = 0;
  switch (kind) {
    case "dot":
    case "scaled_dot":
    case "hard":
    case "local": {
      const score = a.word("score") ?? (kind === "dot" ? "dot" : "scaled_dot");
      scores = dotScores(ctx, q, k, a.has("scale") ? a.float("scale") : score === "dot" ? 1 : 1 / Math.sqrt(dq));
      break;
    }
    case "general": {
      const W = ctx.param("W.weight", [dq, dk], uniform(1 / Math.sqrt(dk)));
      qh = ctx.add1("matmul", [q, W]);
      scores = dotScores(ctx, qh, k, a.has("scale") ? a.float("scale") : 1);
      break;
    }
    case "additive": {
      const units = a.int("units", 1);
      const Wq = ctx.param("W_q.weight", [units, dq], uniform(1 / Math.sqrt(dq)));
      const Wk = ctx.param("W_k.weight", [units, dk], uniform(1 / Math.sqrt(dk)));
      const vw = ctx.param("v.weight", [1, units], uniform(1 / Math.sqrt(units)));
      scores = additiveScores(ctx, ctx.add1("linear", [q, Wq, null]), ctx.add1("linear", [k, Wk, null]), vw);
      break;
    }
    case "concat": {
      const units = a.int("units", 1);
      const W = ctx.param("W.weight", [units, dq + dk], uniform(1 / Math.sqrt(dq + dk)));
      const vw = ctx.param("v.weight", [1, units], uniform(1 / Math.sqrt(units)));
      const Wq = ctx.add1("slice", [W], { axis: 1, start: 0, end: dq });
      const Wk = ctx.add1("slice", [W], { axis: 1, start: dq, end: null });
      scores = additiveScores(ctx, ctx.add1("linear", [q, Wq, null]), ctx.add1("linear", [k, Wk, null]), vw);
      break;
    }
    case "multihead": {
      heads = a.int("heads", 1);
      const E = dq;
      if (dk !== E || concreteDim(ctx, v, -1, "the value features") !== E) {
        throw new LowerError(Diagnostics.MultiheadDims, { callee: ctx.callee, e: E, keys: formatType(ctx.typeOf(k)), values: formatType(ctx.typeOf(v)) }, a.spanOf("keys"));
      }
      const dh = dimDiv(E, heads);
      if (typeof dh !== "number") badArgument(ctx, "heads", `must divide the model dim ${E}`, a.spanOf("heads"));
      const inW = ctx.param("in_proj_weight", [3 * E, E], { kind: "xavier_uniform" });
      const inB = ctx.param("in_proj_bias", [3 * E], { kind: "zeros" });
      const proj = (x: ValueId, i: number) => {
        const w = ctx.add1("slice", [inW], { axis: 0, start: i * E, end: (i + 1) * E });
        const b = ctx.add1("slice", [inB], { axis: 0, start: i * E, end: (i + 1) * E });
        const y = ctx.add1("linear", [x, w, b]);
        const [B, T] = ctx.typeOf(y).shape;
        return ctx.add1("transpose", [ctx.add1("reshape", [y], { shape: [B, T, heads, dh] })], { perm: [0, 2, 1, 3] });
      };
      qh = proj(q, 0);
      kh = proj(k, 1);
      vh = proj(v, 2);
      scores = dotScores(ctx, qh, kh, a.has("scale") ? a.float("scale") : 1 / Math.sqrt(dh));
      break;
    }
  }
  const masked = mask !== null || causal || window !== null ? ctx.add1("attention_mask", [scores, mask], { causal, window }) : scores;
  let weights = ctx.add1(sel.op, [masked], sel.attrs);
  let out = ctx.add1("matmul", [weights, vh]);
  if (kind === "multihead") {
    const [B, , T] = ctx.typeOf(out).shape;
    out = ctx.add1("reshape", [ctx.add1("transpose", [out], { perm: [0, 2, 1, 3] })], { shape: [B, T, dq] });
    out = ctx.add1("linear", [out, ctx.param("out_proj.weight", [dq, dq], uniform(1 / Math.sqrt(dq))), ctx.param("out_proj.bias", [dq], { kind: "zeros" })]);
    weights = ctx.add1("reduce_mean", [weights], { axes: [1], keepdims: false });
  }
  if (oneStep) {
    out = ctx.add1("squeeze", [out], { axes: [-2] });
    weights = ctx.add1("squeeze", [weights], { axes: [-2] });
  }
  return [out, weights];
}
