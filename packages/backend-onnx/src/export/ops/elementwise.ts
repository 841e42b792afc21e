import { BackendError, type DType } from "@attn/core";
import { registerExporter } from "../op-exporter.js";
import { ELEM, elemType } from "../proto.js";
import { full, input, out } from "./util.js";

const DIRECT_UNARY: Record<string, string> = {
  relu: "Relu", tanh: "Tanh", sigmoid: "Sigmoid", exp: "Exp", log: "Log", neg: "Neg", sqrt: "Sqrt", abs: "Abs", erf: "Erf", sign: "Sign",
};
for (const [op, onnxOp] of Object.entries(DIRECT_UNARY)) {
  registerExporter(op, (ctx, node) => ctx.node({ opType: onnxOp, inputs: [input(node, 0)], outputs: [out(node)] }));
}

// silu(x) = x · sigmoid(x)
registerExporter("silu", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  ctx.node({ opType: "Mul", inputs: [x, ctx.op("Sigmoid", [x])[0]], outputs: [out(node)] });
});

// gelu: exact 0.5·x·(1 + erf(x/√2)) (PyTorch's default), or the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
registerExporter("gelu", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  let inner: string;
  if (node.attrs.approximate === "tanh") {
    const x3 = ctx.op("Mul", [ctx.op("Mul", [x, x])[0], x])[0];
    const poly = ctx.op("Add", [x, ctx.op("Mul", [x3, ctx.constFloat([0.044715], [])])[0]])[0];
    inner = ctx.op("Tanh", [ctx.op("Mul", [poly, ctx.constFloat([Math.sqrt(2 / Math.PI)], [])])[0]])[0];
  } else {
    inner = ctx.op("Erf", [ctx.op("Mul", [x, ctx.constFloat([Math.SQRT1_2], [])])[0]])[0];
  }
  const onePlus = ctx.op("Add", [inner, ctx.constFloat([1], [])])[0];
  const half = ctx.op("Mul", [x, ctx.constFloat([0.5], [])])[0];
  ctx.node({ opType: "Mul", inputs: [half, onePlus], outputs: [out(node)] });
});

// Binary arithmetic. ONNX Div on integers truncates toward zero, as the IR's int32 div.
const BINARY: Record<string, string> = {
  add: "Add", sub: "Sub", mul: "Mul", div: "Div", maximum: "Max", minimum: "Min",
  equal: "Equal", less: "Less", greater: "Greater", logical_and: "And", logical_or: "Or",
};
for (const [op, onnxOp] of Object.entries(BINARY)) {
  registerExporter(op, (ctx, node) => ctx.node({ opType: onnxOp, inputs: [input(node, 0), input(node, 1)], outputs: [out(node)] }));
}
registerExporter("not_equal", (c, node) => {
  const ctx = full(c);
  ctx.node({ opType: "Not", inputs: [ctx.op("Equal", [input(node, 0), input(node, 1)])[0]], outputs: [out(node)] });
});
registerExporter("logical_not", (ctx, node) => ctx.node({ opType: "Not", inputs: [input(node, 0)], outputs: [out(node)] }));

// cast: ONNX Cast gives bool→0/1, number→bool as x ≠ 0, float→int32 truncating toward zero.
registerExporter("cast", (ctx, node) => {
  const to = node.attrs.to as DType;
  ctx.node({ opType: "Cast", inputs: [input(node, 0)], outputs: [out(node)], attributes: { to: { int: elemType(to) } } });
});

// identity, and dropout at inference.
for (const op of ["identity", "dropout"]) {
  registerExporter(op, (ctx, node) => ctx.node({ opType: "Identity", inputs: [input(node, 0)], outputs: [out(node)] }));
}

// constant: an initializer, then Identity to the node's output name.
registerExporter("constant", (c, node) => {
  const ctx = full(c);
  const v = node.attrs.value as { dtype: DType; shape: number[]; data: (number | boolean)[] } | undefined;
  if (!v) throw new BackendError("constant: missing value", node.span);
  const elem = elemType(v.dtype);
  const init = ctx.constOf(elem, v.data.map((x) => Number(x)), v.shape);
  ctx.node({ opType: "Identity", inputs: [init], outputs: [out(node)] });
});

// zeros_like: a zero of x's dtype expanded to x's run-time shape.
registerExporter("zeros_like", (c, node) => {
  const ctx = full(c);
  const dtype = node.inputTypes[0]!.dtype;
  const zero = ctx.constOf(dtype === "float32" ? ELEM.FLOAT : dtype === "int32" ? ELEM.INT32 : ELEM.BOOL, [0], []);
  ctx.node({ opType: "Expand", inputs: [zero, ctx.op("Shape", [input(node, 0)])[0]], outputs: [out(node)] });
});
