// ONNX exporter for `embedding_grad`: dweight [V, D] = ScatterND(zeros of weight's shape, indices as int64
// [..., 1], dy [..., D], reduction "add" (opset 16+)), so rows of dy at a repeated index accumulate.
// weight is read for its shape only (Shape → ConstantOfShape, whose default value is float32 0).
import { registerExporter } from "../op-exporter.js";
import { full, input, out } from "./util.js";

registerExporter("embedding_grad", (c, node) => {
  const ctx = full(c);
  const w = input(node, 0);
  const indices = input(node, 1);
  const dy = input(node, 2);
  const zeros = ctx.op("ConstantOfShape", [ctx.op("Shape", [w])[0]])[0];
  const rank = node.inputTypes[1]!.shape.length;
  const idx = ctx.op("Unsqueeze", [ctx.op("Cast", [indices], { to: { int: 7 } })[0], ctx.constInt64([rank])])[0];
  ctx.node({ opType: "ScatterND", inputs: [zeros, idx, dy], outputs: [out(node)], attributes: { reduction: { string: "add" } } });
});
