import { BackendError } from "@attn/core";
import { registerExporter } from "../op-exporter.js";
import { ELEM } from "../proto.js";
import { axisSize, full, input, out } from "./util.js";

const LN_10000 = Math.log(10000);

// positional_encoding: x + PE[S, D], the sinusoid table computed at run time from Range over S (any S works),
// in double precision and rounded once, as backend-cpu: PE[p, j] = sin/cos(p · ω_{j/2}), ω_i = exp(2i · (−ln 10000 / D)).
registerExporter("positional_encoding", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  const [, S, D] = node.inputTypes[0]!.shape;
  if (typeof D !== "number") throw new BackendError(`positional_encoding: the model dim must be concrete to export, got ${D}`, node.span);
  const freq: number[] = [];
  const odd: number[] = [];
  for (let j = 0; j < D; j++) {
    freq.push(Math.exp(2 * (j >> 1) * (-LN_10000 / D)));
    odd.push(j % 2);
  }
  const s = ctx.op("Squeeze", [axisSize(ctx, x, S, 1), ctx.constInt64([0])])[0];
  const pos = ctx.op("Range", [ctx.constOf(ELEM.DOUBLE, [0], []), ctx.op("Cast", [s], { to: { int: ELEM.DOUBLE } })[0], ctx.constOf(ELEM.DOUBLE, [1], [])])[0];
  const col = ctx.op("Unsqueeze", [pos, ctx.constInt64([1])])[0]; // [S, 1]
  const angle = ctx.op("Mul", [col, ctx.constOf(ELEM.DOUBLE, freq, [D])])[0]; // [S, D]
  const table = ctx.op("Where", [ctx.constOf(ELEM.BOOL, odd, [D]), ctx.op("Cos", [angle])[0], ctx.op("Sin", [angle])[0]])[0];
  const pe = ctx.op("Cast", [table], { to: { int: ELEM.FLOAT } })[0];
  ctx.node({ opType: "Add", inputs: [x, pe], outputs: [out(node)] });
});

// embedding: Gather rows of weight [V, D]. An index outside [0, V) is ONNX Runtime's own run-time error
// (it names the Gather node, whose name carries the `.attn` span), not attn's message.
registerExporter("embedding", (ctx, node) => {
  ctx.node({ opType: "Gather", inputs: [input(node, 0), input(node, 1)], outputs: [out(node)], attributes: { axis: { int: 0 } } });
});
