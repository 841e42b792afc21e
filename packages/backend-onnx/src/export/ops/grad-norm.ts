// ONNX exporter for `layer_norm_grad`, decomposed exactly as the cpu kernel's formula (per row of the last
// axis D): mean, var = mean((x − mean)²), rstd = 1/√(var + eps), x̂ = (x − mean)·rstd, g = dy ⊙ weight
// (dy without weight), dx = rstd·(g − mean(g) − x̂·mean(g ⊙ x̂)), dweight = Σ_rows dy ⊙ x̂, dbias = Σ_rows dy.
// ReduceMean/ReduceSum over the last axis (keepdims) and over every other axis for the parameter gradients.
import { registerExporter } from "../op-exporter.js";
import { full, input, out, rankOf, reduce } from "./util.js";

registerExporter("layer_norm_grad", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  const w = node.inputs[1] ?? null;
  const dy = input(node, 2);
  const r = rankOf(node, 0);
  const eps = (node.attrs.eps as number | undefined) ?? 1e-5;
  const last = r - 1;
  const mean = reduce(ctx, "ReduceMean", x, [last], true);
  const xc = ctx.op("Sub", [x, mean])[0];
  const variance = reduce(ctx, "ReduceMean", ctx.op("Mul", [xc, xc])[0], [last], true);
  const std = ctx.op("Sqrt", [ctx.op("Add", [variance, ctx.constFloat([eps], [])])[0]])[0];
  const rstd = ctx.op("Reciprocal", [std])[0];
  const xhat = ctx.op("Mul", [xc, rstd])[0];
  const g = w ? ctx.op("Mul", [dy, w])[0] : dy;
  const mg = reduce(ctx, "ReduceMean", g, [last], true);
  const mgx = reduce(ctx, "ReduceMean", ctx.op("Mul", [g, xhat])[0], [last], true);
  const inner = ctx.op("Sub", [ctx.op("Sub", [g, mg])[0], ctx.op("Mul", [xhat, mgx])[0]])[0];
  ctx.node({ opType: "Mul", inputs: [rstd, inner], outputs: [out(node, 0)] });
  const rows = Array.from({ length: r - 1 }, (_, i) => i);
  const dyx = ctx.op("Mul", [dy, xhat])[0];
  if (rows.length === 0) {
    ctx.node({ opType: "Identity", inputs: [dyx], outputs: [out(node, 1)] });
    ctx.node({ opType: "Identity", inputs: [dy], outputs: [out(node, 2)] });
  } else {
    reduce(ctx, "ReduceSum", dyx, rows, false, out(node, 1));
    reduce(ctx, "ReduceSum", dy, rows, false, out(node, 2));
  }
});
