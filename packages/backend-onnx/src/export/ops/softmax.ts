import { registerExporter } from "../op-exporter.js";
import { axisSize, full, input, normAxis, out, rankOf, safeHardmax, safeLogSoftmax, safeSoftmax, topkSoftmax } from "./util.js";

const axisOf = (node: { attrs: Record<string, unknown> }, r: number) => normAxis((node.attrs.axis as number | undefined) ?? -1, r);

registerExporter("softmax", (c, node) => void safeSoftmax(full(c), input(node, 0), axisOf(node, rankOf(node)), out(node)));
registerExporter("log_softmax", (c, node) => safeLogSoftmax(full(c), input(node, 0), axisOf(node, rankOf(node)), out(node)));
registerExporter("hardmax", (c, node) => void safeHardmax(full(c), input(node, 0), axisOf(node, rankOf(node)), out(node)));
registerExporter("topk_softmax", (c, node) => void topkSoftmax(full(c), input(node, 0), axisOf(node, rankOf(node)), node.attrs.k as number, out(node)));

// layer_norm: LayerNormalization over the last axis (biased variance); a missing weight is ones, a missing bias zeros.
registerExporter("layer_norm", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  const shape = node.inputTypes[0]!.shape;
  const D = shape[shape.length - 1];
  let w = node.inputs[1];
  if (!w) w = ctx.op("Expand", [ctx.constFloat([1], []), axisSize(ctx, x, D, shape.length - 1)])[0];
  const ins = node.inputs[2] ? [x, w, node.inputs[2]] : [x, w];
  ctx.node({ opType: "LayerNormalization", inputs: ins, outputs: [out(node)], attributes: { axis: { int: -1 }, epsilon: { float: (node.attrs.eps as number | undefined) ?? 1e-5 } } });
});
