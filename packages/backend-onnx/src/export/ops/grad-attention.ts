// ONNX exporter for `attention_grad`, decomposed over the full [..., Tq, Tk] score matrix (ONNX has no
// row-streaming form). The scores are recomputed as the forward exporter computes them:
//   S = scale · q kᵀ, masked with −inf (mask input, causal, window: `buildMask`), P = select(S) with attn's
//   conventions (an all-masked row gives zeros), G = P for softmax and top-k (zero outside the kept keys),
//   G = softmax(S) for argmax (the straight-through estimator);
//   dP = d_out vᵀ (+ d_weights), dS = scale · G ⊙ (dP − Σ_keys G ⊙ dP),
//   dq = dS k, dk = dSᵀ q, dv = Pᵀ d_out.
// Masked keys and fully masked rows have G = 0, so they contribute nothing.
import { BackendError, type Dim } from "@attn/core";
import type { OnnxExportContext } from "../exporter.js";
import { registerExporter } from "../op-exporter.js";
import { buildMask } from "./attention.js";
import { full, input, out, reduce, safeHardmax, safeSoftmax, topkSoftmax } from "./util.js";

type Select = "softmax" | "argmax" | { topk: number };

/** x with its last two axes swapped. */
function swapLast(ctx: OnnxExportContext, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return ctx.op("Transpose", [x], { perm: { ints: perm } })[0];
}

registerExporter("attention_grad", (c, node) => {
  const ctx = full(c);
  const q = input(node, 0);
  const k = input(node, 1);
  const v = input(node, 2);
  const mask = node.inputs[3] ?? null;
  const dOut = input(node, 4);
  const dWeights = node.inputs[5] ?? null;
  const qShape = node.inputTypes[0]!.shape;
  const r = qShape.length;
  const kr = node.inputTypes[1]!.shape.length;
  const vr = node.inputTypes[2]!.shape.length;
  const D = qShape[r - 1];
  const causal = Boolean(node.attrs.causal);
  const window = (node.attrs.window as number | null | undefined) ?? null;
  const select = (node.attrs.select ?? "softmax") as Select;
  let scale = node.attrs.scale as number | null | undefined;
  if (scale === undefined || scale === null) {
    if (typeof D !== "number") throw new BackendError(`attention_grad: the default scale needs a concrete head size, got ${D}`, node.span);
    scale = 1 / Math.sqrt(D);
  }

  const raw = ctx.op("MatMul", [q, swapLast(ctx, k, kr)])[0];
  const scores = scale === 1 ? raw : ctx.op("Mul", [raw, ctx.constFloat([scale], [])])[0];
  const sShape: Dim[] = [...qShape.slice(0, r - 1), node.inputTypes[1]!.shape[kr - 2]];
  const m = buildMask(ctx, scores, sShape, mask, node.inputTypes[3]?.shape.length ?? 0, causal, window);
  const masked = m ? ctx.op("Where", [m, ctx.constFloat([-Infinity], []), scores])[0] : scores;
  let P: string;
  let G: string;
  if (select === "softmax") G = P = safeSoftmax(ctx, masked, r - 1);
  else if (select === "argmax") {
    P = safeHardmax(ctx, masked, r - 1);
    G = safeSoftmax(ctx, masked, r - 1);
  } else if (typeof select === "object" && select && Number.isInteger(select.topk)) G = P = topkSoftmax(ctx, masked, r - 1, select.topk);
  else throw new BackendError(`attention_grad: unknown select ${JSON.stringify(select)}`, node.span);

  let dP = ctx.op("MatMul", [dOut, swapLast(ctx, v, vr)])[0];
  if (dWeights) dP = ctx.op("Add", [dP, dWeights])[0];
  const gdp = ctx.op("Mul", [G, dP])[0];
  const dot = reduce(ctx, "ReduceSum", gdp, [r - 1], true);
  let dS = ctx.op("Mul", [G, ctx.op("Sub", [dP, dot])[0]])[0];
  if (scale !== 1) dS = ctx.op("Mul", [dS, ctx.constFloat([scale], [])])[0];
  ctx.node({ opType: "MatMul", inputs: [dS, k], outputs: [out(node, 0)] });
  ctx.node({ opType: "MatMul", inputs: [swapLast(ctx, dS, r), q], outputs: [out(node, 1)] });
  ctx.node({ opType: "MatMul", inputs: [swapLast(ctx, P, r), dOut], outputs: [out(node, 2)] });
});
