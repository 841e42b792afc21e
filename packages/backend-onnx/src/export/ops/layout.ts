import type { Dim } from "@attn/core";
import { registerExporter } from "../op-exporter.js";
import { full, input, normAxis, out, rankOf } from "./util.js";

registerExporter("transpose", (ctx, node) => {
  const r = rankOf(node);
  const perm = (node.attrs.perm as number[]).map((p) => normAxis(p, r));
  ctx.node({ opType: "Transpose", inputs: [input(node, 0)], outputs: [out(node)], attributes: { perm: { ints: perm } } });
});

// reshape: the target shape is a constant when every dim is concrete; symbolic entries are computed at run
// time from the graph inputs' Shape (the output type carries them resolved). One -1 is passed through.
registerExporter("reshape", (c, node) => {
  const ctx = full(c);
  const target = node.attrs.shape as Dim[];
  const resolved = node.outputTypes[0].shape;
  const dims = target.map((d, i) => (d === -1 ? -1 : resolved[i]));
  const zero = dims.some((d) => d === 0);
  ctx.node({
    opType: "Reshape",
    inputs: [input(node, 0), ctx.shape(dims)],
    outputs: [out(node)],
    attributes: zero ? { allowzero: { int: 1 } } : undefined,
  });
});

// squeeze / unsqueeze: axes are an input since opset 13.
for (const [op, onnxOp] of [["squeeze", "Squeeze"], ["unsqueeze", "Unsqueeze"]] as const) {
  registerExporter(op, (ctx, node) => {
    ctx.node({ opType: onnxOp, inputs: [input(node, 0), ctx.constInt64(node.attrs.axes as number[])], outputs: [out(node)] });
  });
}

registerExporter("concat", (ctx, node) => {
  const ins = node.inputs.filter((x): x is string => x !== null);
  ctx.node({ opType: "Concat", inputs: ins, outputs: [out(node)], attributes: { axis: { int: normAxis(node.attrs.axis as number, rankOf(node)) } } });
});

// split: piece sizes as an int64 input (symbolic sizes computed at run time).
registerExporter("split", (c, node) => {
  const ctx = full(c);
  const axis = normAxis((node.attrs.axis as number | undefined) ?? -1, rankOf(node));
  const sizes = node.outputTypes.map((t) => t.shape[axis]);
  ctx.node({ opType: "Split", inputs: [input(node, 0), ctx.shape(sizes)], outputs: [...node.outputs], attributes: { axis: { int: axis } } });
});

// slice: Slice with starts/ends/axes/steps inputs; an omitted end is ±INT64_MAX (clamped by ONNX).
registerExporter("slice", (ctx, node) => {
  const axis = normAxis(node.attrs.axis as number, rankOf(node));
  const start = (node.attrs.start as number | undefined) ?? 0;
  const step = (node.attrs.step as number | undefined) ?? 1;
  const endAttr = node.attrs.end as number | null | undefined;
  const end = endAttr === null || endAttr === undefined ? (step > 0 ? 9.3e18 : -9.3e18) : endAttr;
  ctx.node({
    opType: "Slice",
    inputs: [input(node, 0), ctx.constInt64([start]), ctx.constInt64([end]), ctx.constInt64([axis]), ctx.constInt64([step])],
    outputs: [out(node)],
  });
});

// select: Gather with a scalar index removes the axis; negative indices count from the end in both.
registerExporter("select", (ctx, node) => {
  const axis = normAxis(node.attrs.axis as number, rankOf(node));
  ctx.node({ opType: "Gather", inputs: [input(node, 0), ctx.constInt64([node.attrs.index as number], [])], outputs: [out(node)], attributes: { axis: { int: axis } } });
});
