// Exporters of the small ops gradients are made of that are not elementwise (zeros_like, erf and sign are
// in elementwise.ts): `pad`, the gradient of slice and select.
import type { Dim } from "@attn/core";
import { registerExporter } from "../op-exporter.js";
import { full, input, normAxis, out, rankOf } from "./util.js";

// pad(x, axis, before, after): ONNX Pad (constant mode, zero of x's type) with pads [0…, before, 0…, 0…,
// after, 0…]; symbolic `before`/`after` are computed at run time from the graph inputs' Shape.
registerExporter("pad", (c, node) => {
  const ctx = full(c);
  const rank = rankOf(node);
  const axis = normAxis(node.attrs.axis as number, rank);
  const asDim = (v: unknown): Dim => (typeof v === "number" ? v : String(v));
  const pads: Dim[] = Array.from({ length: 2 * rank }, () => 0);
  pads[axis] = asDim(node.attrs.before);
  pads[rank + axis] = asDim(node.attrs.after);
  ctx.node({ opType: "Pad", inputs: [input(node, 0), ctx.shape(pads)], outputs: [out(node)], attributes: { mode: { string: "constant" } } });
});
