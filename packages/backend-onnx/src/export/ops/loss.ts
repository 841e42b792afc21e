// Exporters of the losses and their fused backward ops (PyTorch 1.13 semantics, as the CPU kernels in
// backend-cpu/src/kernels/training): computed in float64, each output rounded once to float32.
// Not reproduced: the CPU's run-time errors for BCE inputs outside [0, 1] and for cross-entropy targets
// outside [0, C) (ONNX has no way to raise; out-of-range targets make ORT's GatherElements fail instead).
import type { Dim } from "@attn/core";
import type { OnnxExportContext } from "../exporter.js";
import { registerExporter } from "../op-exporter.js";
import { ELEM } from "../proto.js";
import { Dbl } from "./dbl.js";
import { full, input, out, rankOf, reduce, shapeOf } from "./util.js";

type Reduction = "mean" | "sum" | "none";

/** Per-element loss and gradients in float64: [loss(x, t)], [dℓ/dx, dℓ/dt]. */
interface LossDef {
  loss(d: Dbl, x: string, t: string): string;
  grad(d: Dbl, x: string, t: string): [string, string];
}

const LOSSES: Record<string, LossDef> = {
  // (x − t)²; 2(x − t), −2(x − t)
  mse_loss: {
    loss: (d, x, t) => {
      const e = d.sub(x, t);
      return d.mul(e, e);
    },
    grad: (d, x, t) => {
      const e2 = d.mul(d.sub(x, t), d.c(2));
      return [e2, d.neg(e2)];
    },
  },
  // −(t·max(log x, −100) + (1 − t)·max(log(1 − x), −100)); (x − t) / max(x(1 − x), 1e-12), log(1 − x) − log x
  binary_cross_entropy: {
    loss: (d, x, t) => {
      const one = d.c(1);
      const lo = d.c(-100);
      const a = d.mul(t, d.max(d.log(x), lo));
      const b = d.mul(d.sub(one, t), d.max(d.log(d.sub(one, x)), lo));
      return d.neg(d.add(a, b));
    },
    grad: (d, x, t) => {
      const one = d.c(1);
      const omx = d.sub(one, x);
      const dx = d.div(d.sub(x, t), d.max(d.mul(omx, x), d.c(1e-12)));
      return [dx, d.sub(d.log(omx), d.log(x))];
    },
  },
  // (1 − t)·x + m + log(e^(−m) + e^(−x−m)), m = max(−x, 0); σ(x) − t, −x
  binary_cross_entropy_with_logits: {
    loss: (d, x, t) => {
      const nx = d.neg(x);
      const m = d.max(nx, d.c(0));
      const lse = d.log(d.add(d.exp(d.neg(m)), d.exp(d.sub(nx, m))));
      return d.add(d.add(d.mul(d.sub(d.c(1), t), x), m), lse);
    },
    grad: (d, x, t) => [d.sub(d.ctx.op("Sigmoid", [x])[0], t), d.neg(x)],
  },
};

for (const [op, def] of Object.entries(LOSSES)) {
  registerExporter(op, (c, node) => {
    const d = new Dbl(full(c));
    const reduction = (node.attrs.reduction as Reduction | undefined) ?? "mean";
    const l = def.loss(d, d.of(input(node, 0)), d.of(input(node, 1)));
    if (reduction === "none") {
      d.round(l, out(node));
      return;
    }
    const s = d.sumAll(l);
    d.round(reduction === "mean" ? d.div(s, d.count(input(node, 0))) : s, out(node));
  });
  registerExporter(`${op}_grad`, (c, node) => {
    const d = new Dbl(full(c));
    const reduction = (node.attrs.reduction as Reduction | undefined) ?? "mean";
    const x = input(node, 0);
    const dy = d.of(input(node, 2));
    const w = reduction === "mean" ? d.div(dy, d.count(x)) : dy;
    const [gx, gt] = def.grad(d, d.of(x), d.of(input(node, 1)));
    d.round(d.mul(w, gx), out(node, 0));
    d.round(d.mul(w, gt), out(node, 1));
  });
}

interface CrossEntropyParts {
  /** The logits in float64. */
  readonly x: string;
  /** log Σ exp over the class axis, [..., 1] float64. */
  readonly lse: string;
  /** Whether each row counts (target ≠ ignore_index), bool [...]. */
  readonly valid: string;
  /** The target with ignored rows set to 0, int64 [..., 1]. */
  readonly index: string;
  /** The number of classes, float64 scalar. */
  readonly classes: string;
}

/** What cross_entropy and its gradient share: the float64 logits, their row log-sum-exp, the counted rows. */
function crossEntropyParts(ctx: OnnxExportContext, d: Dbl, logits: string, target: string, C: Dim, ignoreIndex: number): CrossEntropyParts {
  const x = d.of(logits);
  const m = reduce(ctx, "ReduceMax", x, [-1], true);
  // an all −inf row: the plain formula (log Σ exp = −inf), as the CPU kernel
  const m0 = d.where(ctx.op("Equal", [m, d.c(-Infinity)])[0], d.c(0), m);
  const s = ctx.op("ReduceSum", [d.exp(d.sub(x, m0)), ctx.constInt64([-1])], { keepdims: { int: 1 } })[0];
  const lse = d.add(m0, d.log(s));
  const valid = ctx.op("Not", [ctx.op("Equal", [target, ctx.constOf(ELEM.INT32, [ignoreIndex], [])])[0]])[0];
  const safe = ctx.op("Where", [valid, target, ctx.constOf(ELEM.INT32, [0], [])])[0];
  const index = ctx.op("Unsqueeze", [ctx.op("Cast", [safe], { to: { int: ELEM.INT64 } })[0], ctx.constInt64([-1])])[0];
  const classes = typeof C === "number" ? d.c(C) : d.of(ctx.op("Squeeze", [ctx.dim(C), ctx.constInt64([0])])[0]);
  return { x, lse, valid, index, classes };
}

interface CeAttrs {
  readonly ignore_index?: number;
  readonly label_smoothing?: number;
  readonly reduction?: Reduction;
}

// cross_entropy, class axis last: per counted row (1 − ε)·(lse − x_y) + (ε/C)·Σ_c (lse − x_c); ignored rows
// give 0 and do not count; mean divides by the counted rows (0/0 = NaN when none counts, as PyTorch).
registerExporter("cross_entropy", (c, node) => {
  const ctx = full(c);
  const d = new Dbl(ctx);
  const a = node.attrs as CeAttrs;
  const eps = a.label_smoothing ?? 0;
  const reduction = a.reduction ?? "mean";
  const C = shapeOf(node)[rankOf(node) - 1];
  const p = crossEntropyParts(ctx, d, input(node, 0), input(node, 1), C, a.ignore_index ?? -100);
  const xy = ctx.op("GatherElements", [p.x, p.index], { axis: { int: -1 } })[0];
  let row = d.mul(d.c(1 - eps), d.sub(p.lse, xy));
  if (eps !== 0) {
    const smooth = ctx.op("ReduceSum", [d.sub(p.lse, p.x), ctx.constInt64([-1])], { keepdims: { int: 1 } })[0];
    row = d.add(row, d.mul(d.div(d.c(eps), p.classes), smooth));
  }
  const rowLoss = d.where(p.valid, ctx.op("Squeeze", [row, ctx.constInt64([-1])])[0], d.c(0));
  if (reduction === "none") {
    d.round(rowLoss, out(node));
    return;
  }
  const total = d.sumAll(rowLoss);
  d.round(reduction === "mean" ? d.div(total, d.sumAll(d.of(p.valid))) : total, out(node));
});

// cross_entropy_grad: a counted row gets w·(softmax − (1 − ε)·onehot(y) − ε/C), w = dy/count, dy or dy[row];
// ignored rows get 0 (selected, so a 0-count mean's infinite w never reaches them).
registerExporter("cross_entropy_grad", (c, node) => {
  const ctx = full(c);
  const d = new Dbl(ctx);
  const a = node.attrs as CeAttrs;
  const eps = a.label_smoothing ?? 0;
  const reduction = a.reduction ?? "mean";
  const C = shapeOf(node)[rankOf(node) - 1];
  const p = crossEntropyParts(ctx, d, input(node, 0), input(node, 1), C, a.ignore_index ?? -100);
  const dy = d.of(input(node, 2));
  let w = reduction === "mean" ? d.div(dy, d.sumAll(d.of(p.valid))) : dy;
  if (reduction === "none") w = ctx.op("Unsqueeze", [w, ctx.constInt64([-1])])[0];
  const classIds = ctx.op("Range", [ctx.constInt64([0], []), ctx.op("Squeeze", [ctx.dim(C), ctx.constInt64([0])])[0], ctx.constInt64([1], [])])[0];
  const onehot = d.of(ctx.op("Equal", [classIds, p.index])[0]);
  const soft = d.exp(d.sub(p.x, p.lse));
  const g = d.sub(d.sub(soft, d.div(d.c(eps), p.classes)), d.mul(d.c(1 - eps), onehot));
  const validRows = ctx.op("Unsqueeze", [p.valid, ctx.constInt64([-1])])[0];
  d.round(d.where(validRows, d.mul(w, g), d.c(0)), out(node));
});
