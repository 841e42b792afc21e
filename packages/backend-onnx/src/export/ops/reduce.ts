import { registerExporter } from "../op-exporter.js";
import { ELEM } from "../proto.js";
import { full, input, normAxis, out, rankOf, reduce } from "./util.js";

const REDUCE: Record<string, string> = { reduce_sum: "ReduceSum", reduce_mean: "ReduceMean", reduce_max: "ReduceMax" };
for (const [op, onnxOp] of Object.entries(REDUCE)) {
  registerExporter(op, (c, node) => {
    const ctx = full(c);
    const r = rankOf(node);
    const axes = (node.attrs.axes as number[]).map((a) => normAxis(a, r));
    reduce(ctx, onnxOp, input(node, 0), axes, Boolean(node.attrs.keepdims), out(node));
  });
}

// argmax: first index on ties (select_last_index 0), int64 → int32.
registerExporter("argmax", (c, node) => {
  const ctx = full(c);
  const axis = normAxis(node.attrs.axis as number, rankOf(node));
  const idx = ctx.op("ArgMax", [input(node, 0)], { axis: { int: axis }, keepdims: { int: node.attrs.keepdims ? 1 : 0 }, select_last_index: { int: 0 } })[0];
  ctx.node({ opType: "Cast", inputs: [idx], outputs: [out(node)], attributes: { to: { int: ELEM.INT32 } } });
});
