import { BackendError, type Dim } from "@attn/core";
import type { OnnxExportContext } from "../exporter.js";
import { registerExporter, type NodeView } from "../op-exporter.js";
import { axisSize, full, input, out, safeHardmax, safeSoftmax, topkSoftmax } from "./util.js";

/**
 * The bool mask (true = masked out) for scores of shape `shape`: the given mask (a key-padding mask
 * bool[B, Tk] is unsqueezed to [B, 1, …, 1, Tk] for scores of rank > 2), or'ed with the causal / window
 * masks built from Range over Tq and Tk at run time (any sequence length). Null when nothing is masked.
 */
export function buildMask(
  ctx: OnnxExportContext,
  scores: string,
  shape: readonly Dim[],
  mask: string | null,
  maskRank: number,
  causal: boolean,
  window: number | null,
): string | null {
  const r = shape.length;
  let m: string | null = null;
  if (mask) {
    m = maskRank === 2 && r > 2 ? ctx.op("Unsqueeze", [mask, ctx.constInt64(Array.from({ length: r - 2 }, (_, i) => i + 1))])[0] : mask;
  }
  if (causal || window !== null) {
    const tq = squeeze(ctx, axisSize(ctx, scores, shape[r - 2], r - 2));
    const tk = squeeze(ctx, axisSize(ctx, scores, shape[r - 1], r - 1));
    const zero = ctx.constInt64([0], []);
    const one = ctx.constInt64([1], []);
    const i = ctx.op("Unsqueeze", [ctx.op("Range", [zero, tq, one])[0], ctx.constInt64([1])])[0];
    const j = ctx.op("Range", [zero, tk, one])[0];
    const diff = ctx.op("Sub", [j, i])[0]; // j − i, [Tq, Tk]
    const parts: string[] = [];
    if (causal) parts.push(ctx.op("Greater", [diff, zero])[0]);
    if (window !== null) {
      if (causal) parts.push(ctx.op("Less", [diff, ctx.constInt64([-window], [])])[0]);
      else parts.push(ctx.op("Greater", [ctx.op("Abs", [diff])[0], ctx.constInt64([window], [])])[0]);
    }
    let pm = parts[0];
    for (const p of parts.slice(1)) pm = ctx.op("Or", [pm, p])[0];
    m = m ? ctx.op("Or", [m, pm])[0] : pm;
  }
  return m;
}

function squeeze(ctx: OnnxExportContext, t: string): string {
  return ctx.op("Squeeze", [t, ctx.constInt64([0])])[0];
}

function applyMask(ctx: OnnxExportContext, scores: string, m: string | null, output?: string): string {
  if (!m) {
    if (output) ctx.node({ opType: "Identity", inputs: [scores], outputs: [output] });
    return output ?? scores;
  }
  const o = output ?? ctx.fresh("masked_scores");
  ctx.node({ opType: "Where", inputs: [m, ctx.constFloat([-Infinity], []), scores], outputs: [o] });
  return o;
}

registerExporter("attention_mask", (c, node) => {
  const ctx = full(c);
  const scores = input(node, 0);
  const shape = node.inputTypes[0]!.shape;
  const m = buildMask(ctx, scores, shape, node.inputs[1] ?? null, node.inputTypes[1]?.shape.length ?? 0, Boolean(node.attrs.causal), (node.attrs.window as number | null | undefined) ?? null);
  applyMask(ctx, scores, m, out(node));
});

type Select = "softmax" | "argmax" | { topk: number };

/** The weights (select of the masked scores) along the last axis. */
function selectWeights(ctx: OnnxExportContext, node: NodeView, masked: string, r: number, select: Select, output?: string): string {
  if (select === "softmax") return safeSoftmax(ctx, masked, r - 1, output);
  if (select === "argmax") return safeHardmax(ctx, masked, r - 1, output);
  if (typeof select === "object" && select && Number.isInteger(select.topk)) return topkSoftmax(ctx, masked, r - 1, select.topk, output);
  throw new BackendError(`attention: unknown select ${JSON.stringify(select)}`, node.span);
}

/**
 * Whether opset 23's standard `Attention` computes this node exactly: softmax select, no mask input, no window, no weights
 * output that is read, q/k/v of rank 3 ([B, T, D], one head) or 4 ([B, H, T, D]) and equal batch dims.
 */
function fitsStandardAttention(ctx: OnnxExportContext, node: NodeView): boolean {
  const r = node.inputTypes[0]!.shape.length;
  // A mask input goes the decomposed way: ORT 1.30's CPU Attention rejects a key-padding mask broadcast as
  // [B, 1, 1, Tk] ("attention_helper" status), and a fully masked row's result is not pinned down there.
  return ctx.opset >= 23 && !node.inputs[3] && (node.attrs.select ?? "softmax") === "softmax" && (node.attrs.window ?? null) === null && (!node.attrs.weights || !ctx.isRead(node.outputs[1])) && (r === 3 || r === 4) &&
    node.inputTypes.slice(0, 3).every((t) => t!.shape.length === r);
}

// attention: decomposed (MatMul, scale, mask via Where with −inf, select with the zero-row convention, MatMul),
// or at opset 23 the standard Attention op where it fits.
registerExporter("attention", (c, node) => {
  const ctx = full(c);
  const q = input(node, 0);
  const k = input(node, 1);
  const v = input(node, 2);
  const qShape = node.inputTypes[0]!.shape;
  const r = qShape.length;
  const D = qShape[r - 1];
  const causal = Boolean(node.attrs.causal);
  const window = (node.attrs.window as number | null | undefined) ?? null;
  const select = (node.attrs.select ?? "softmax") as Select;
  let scale = node.attrs.scale as number | null | undefined;
  if (scale === undefined || scale === null) {
    if (typeof D !== "number") throw new BackendError(`attention: the default scale needs a concrete head size, got ${D}`, node.span);
    scale = 1 / Math.sqrt(D);
  }
  const mask = node.inputs[3] ?? null;
  const maskRank = node.inputTypes[3]?.shape.length ?? 0;

  if (fitsStandardAttention(ctx, node)) {
    // attn_mask of the standard op is true where a key takes part (the opposite of attn's masks) and must
    // broadcast to [B, H, Tq, Tk].
    let keep: string | null = null;
    if (mask) {
      let m4 = mask;
      if (maskRank === 2) m4 = ctx.op("Unsqueeze", [mask, ctx.constInt64([1, 2])])[0];
      else if (r === 3) m4 = ctx.op("Unsqueeze", [mask, ctx.constInt64([1])])[0];
      keep = ctx.op("Not", [m4])[0];
    }
    const attrs: Record<string, { int: number } | { float: number }> = { scale: { float: scale }, is_causal: { int: causal ? 1 : 0 } };
    if (r === 3) Object.assign(attrs, { q_num_heads: { int: 1 }, kv_num_heads: { int: 1 } });
    ctx.node({ opType: "Attention", inputs: keep ? [q, k, v, keep] : [q, k, v], outputs: [out(node)], attributes: attrs });
    return;
  }

  const perm = Array.from({ length: node.inputTypes[1]!.shape.length }, (_, i) => i);
  const kr = perm.length;
  [perm[kr - 2], perm[kr - 1]] = [perm[kr - 1], perm[kr - 2]];
  const kt = ctx.op("Transpose", [k], { perm: { ints: perm } })[0];
  const raw = ctx.op("MatMul", [q, kt])[0];
  const scores = scale === 1 ? raw : ctx.op("Mul", [raw, ctx.constFloat([scale], [])])[0];
  const sShape: Dim[] = [...qShape.slice(0, r - 1), node.inputTypes[1]!.shape[kr - 2]];
  const m = buildMask(ctx, scores, sShape, mask, maskRank, causal, window);
  const masked = applyMask(ctx, scores, m);
  const weights = selectWeights(ctx, node, masked, r, select, node.attrs.weights ? node.outputs[1] : undefined);
  ctx.node({ opType: "MatMul", inputs: [weights, v], outputs: [out(node)] });
});
