import { registerExporter } from "../op-exporter.js";
import { full, input, out } from "./util.js";

// matmul: ONNX MatMul has NumPy semantics (batch broadcast, rank-1 operands).
registerExporter("matmul", (ctx, node) => ctx.node({ opType: "MatMul", inputs: [input(node, 0), input(node, 1)], outputs: [out(node)] }));

// linear: y = x Wᵀ + b with W [out, in] (PyTorch layout). Rank-2 x: one Gemm(transB = 1); otherwise MatMul with
// the transposed weight (ORT folds the Transpose of an initializer at load time) and Add.
registerExporter("linear", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  const w = input(node, 1);
  const b = node.inputs[2];
  if (node.inputTypes[0]!.shape.length === 2) {
    ctx.node({ opType: "Gemm", inputs: b ? [x, w, b] : [x, w], outputs: [out(node)], attributes: { transB: { int: 1 } } });
    return;
  }
  const wt = ctx.op("Transpose", [w], { perm: { ints: [1, 0] } })[0];
  if (!b) {
    ctx.node({ opType: "MatMul", inputs: [x, wt], outputs: [out(node)] });
    return;
  }
  ctx.node({ opType: "Add", inputs: [ctx.op("MatMul", [x, wt])[0], b], outputs: [out(node)] });
});
