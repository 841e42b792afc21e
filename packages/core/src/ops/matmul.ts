import { defineOp } from "./op.js";
import { broadcastShapes } from "./broadcast.js";
import { formatType } from "../types.js";
import type { Dim } from "../dim.js";

export const matmulOp = defineOp({
  name: "matmul",
  summary: "batched matrix product with NumPy broadcasting of batch dims",
  inputs: [{ name: "a" }, { name: "b" }],
  attrs: {},
  infer: (ctx, [a, b]) => {
    if (a!.shape.length === 0 || b!.shape.length === 0) ctx.fail(`operands must not be scalars (${formatType(a!)}, ${formatType(b!)})`);
    const as = a!.shape.length === 1 ? [1, a!.shape[0]] : a!.shape;
    const bs = b!.shape.length === 1 ? [b!.shape[0], 1] : b!.shape;
    ctx.unify(as[as.length - 1], bs[bs.length - 2], `inner dimensions (${formatType(a!)} @ ${formatType(b!)})`);
    const batch = broadcastShapes(ctx, as.slice(0, -2), bs.slice(0, -2));
    const out: Dim[] = [...batch];
    if (a!.shape.length > 1) out.push(ctx.env.resolve(as[as.length - 2]));
    if (b!.shape.length > 1) out.push(ctx.env.resolve(bs[bs.length - 1]));
    return [{ dtype: "float32", shape: out }];
  },
});

export const linearOp = defineOp({
  name: "linear",
  summary: "y = x Wᵀ + b with W [out, in] (PyTorch nn.Linear layout)",
  inputs: [{ name: "x" }, { name: "weight" }, { name: "bias", optional: true }],
  attrs: {},
  infer: (ctx, [x, w, b]) => {
    ctx.minRank(x!, 1, "x");
    ctx.rank(w!, 2, "weight");
    ctx.unify(w!.shape[1], x!.shape[x!.shape.length - 1], `weight ${formatType(w!)} expects ${w!.shape[1]} input features, x is ${formatType(x!)};`);
    if (b) {
      ctx.rank(b, 1, "bias");
      ctx.unify(w!.shape[0], b.shape[0], "bias length vs output features");
    }
    return [{ dtype: "float32", shape: [...x!.shape.slice(0, -1), ctx.env.resolve(w!.shape[0])] }];
  },
});
