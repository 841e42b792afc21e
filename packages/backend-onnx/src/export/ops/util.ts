import { BackendError, type Dim } from "@attn/core";
import type { OnnxExportContext } from "../exporter.js";
import type { ExportContext, NodeView } from "../op-exporter.js";

/** The exporter's full context (every context the exporter creates is one). */
export function full(ctx: ExportContext): OnnxExportContext {
  return ctx as OnnxExportContext;
}

/** A negative axis counted from the end, made non-negative. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function rankOf(node: NodeView, i = 0): number {
  return node.inputTypes[i]!.shape.length;
}

export function shapeOf(node: NodeView, i = 0): readonly Dim[] {
  return node.inputTypes[i]!.shape;
}

/** A required input's ONNX name. */
export function input(node: NodeView, i: number): string {
  const n = node.inputs[i];
  if (n === null || n === undefined) throw new BackendError(`${node.op}: input ${i} is required`, node.span);
  return n;
}

/** Output k of the IR node, as one ONNX node's output. */
export function out(node: NodeView, k = 0): string {
  return node.outputs[k];
}

/** Reduce-family node: axes as an input for ReduceSum (13+) and every reduce at 18+, as an attribute otherwise. */
export function reduce(ctx: OnnxExportContext, opType: string, x: string, axes: readonly number[], keepdims: boolean, output?: string): string {
  const axesAsInput = opType === "ReduceSum" || ctx.opset >= 18;
  const o = output ?? ctx.fresh(opType.toLowerCase());
  ctx.node({
    opType,
    inputs: axesAsInput ? [x, ctx.constInt64(axes)] : [x],
    outputs: [o],
    attributes: axesAsInput ? { keepdims: { int: keepdims ? 1 : 0 } } : { axes: { ints: axes }, keepdims: { int: keepdims ? 1 : 0 } },
  });
  return o;
}

/** Int64 scalar tensor of dim `d` (Squeeze of the [1] form). */
export function scalarDim(ctx: OnnxExportContext, d: Dim): string {
  if (typeof d === "number") return ctx.constInt64([d], []);
  return ctx.op("Squeeze", [ctx.dim(d), ctx.constInt64([0])])[0];
}

/** Size of axis `axis` of tensor `x` at run time, int64 [1] (constant when `d` is). */
export function axisSize(ctx: OnnxExportContext, x: string, d: Dim, axis: number): string {
  if (typeof d === "number") return ctx.constInt64([d]);
  return ctx.op("Shape", [x], { start: { int: axis }, end: { int: axis + 1 } })[0];
}

/**
 * Softmax along `axis` with attn's conventions: stable (row max subtracted), an all −inf row gives zeros.
 * The row sum is ≥ 1 whenever the row has a finite maximum, so dividing by max(sum, 1) only changes the
 * all −inf rows (sum 0 → 0 / 1 = 0).
 */
export function safeSoftmax(ctx: OnnxExportContext, x: string, axis: number, output?: string): string {
  const m = reduce(ctx, "ReduceMax", x, [axis], true);
  const isInf = ctx.op("Equal", [m, ctx.constFloat([-Infinity], [])])[0];
  const m0 = ctx.op("Where", [isInf, ctx.constFloat([0], []), m])[0];
  const e = ctx.op("Exp", [ctx.op("Sub", [x, m0])[0]])[0];
  const s = reduce(ctx, "ReduceSum", e, [axis], true);
  const d = ctx.op("Max", [s, ctx.constFloat([1], [])])[0];
  const o = output ?? ctx.fresh("softmax");
  ctx.node({ opType: "Div", inputs: [e, d], outputs: [o] });
  return o;
}

/** log_softmax: x − m − log Σ exp(x − m); an all −inf row stays −inf. */
export function safeLogSoftmax(ctx: OnnxExportContext, x: string, axis: number, output: string): void {
  const m = reduce(ctx, "ReduceMax", x, [axis], true);
  const isInf = ctx.op("Equal", [m, ctx.constFloat([-Infinity], [])])[0];
  const m0 = ctx.op("Where", [isInf, ctx.constFloat([0], []), m])[0];
  const shifted = ctx.op("Sub", [x, m0])[0];
  const s = reduce(ctx, "ReduceSum", ctx.op("Exp", [shifted])[0], [axis], true);
  const ls = ctx.op("Sub", [shifted, ctx.op("Log", [s])[0]])[0];
  ctx.node({ opType: "Where", inputs: [isInf, x, ls], outputs: [output] });
}

/** One-hot at the first maximum along `axis`; an all −inf row gives zeros. */
export function safeHardmax(ctx: OnnxExportContext, x: string, axis: number, output?: string): string {
  const h = ctx.op("Hardmax", [x], { axis: { int: axis } })[0];
  const m = reduce(ctx, "ReduceMax", x, [axis], true);
  const isInf = ctx.op("Equal", [m, ctx.constFloat([-Infinity], [])])[0];
  const o = output ?? ctx.fresh("hardmax");
  ctx.node({ opType: "Where", inputs: [isInf, ctx.constFloat([0], []), h], outputs: [o] });
  return o;
}

/** Softmax over the k largest entries along `axis` (first index wins ties), zeros elsewhere. */
export function topkSoftmax(ctx: OnnxExportContext, x: string, axis: number, k: number, output?: string): string {
  const [vals, idx] = ctx.op("TopK", [x, ctx.constInt64([k])], { axis: { int: axis }, largest: { int: 1 }, sorted: { int: 1 } }, 2);
  const sm = safeSoftmax(ctx, vals, axis);
  const zeros = ctx.op("Expand", [ctx.constFloat([0], []), ctx.op("Shape", [x])[0]])[0];
  const o = output ?? ctx.fresh("topk_softmax");
  ctx.node({ opType: "ScatterElements", inputs: [zeros, idx, sm], outputs: [o], attributes: { axis: { int: axis } } });
  return o;
}
