// Exporters of the optimizer updates: PyTorch 1.13's single-tensor formulas (as backend-cpu's
// kernels/training/optimizers.ts), computed in float64 from the float32 inputs, each output rounded once.
// `step` is the float32 count of steps already taken (0 on the first update), `lr` this step's rate.
import { registerExporter } from "../op-exporter.js";
import { Dbl } from "./dbl.js";
import { full, input, out } from "./util.js";

interface SgdAttrs {
  readonly momentum?: number;
  readonly dampening?: number;
  readonly nesterov?: boolean;
  readonly weight_decay?: number;
  readonly maximize?: boolean;
}

// sgd_update(param, grad, buf, step, lr) → param', buf':
//   d = ±grad (+ weight_decay·param); with momentum: buf = (step == 0 ? d : momentum·buf + (1 − dampening)·d)
//   (a Where on step == 0: PyTorch starts the buffer at the first gradient), d = nesterov ? d + momentum·buf : buf;
//   param' = param − lr·d. With momentum 0 the buffer passes through unchanged.
registerExporter("sgd_update", (c, node) => {
  const ctx = full(c);
  const d = new Dbl(ctx);
  const a = node.attrs as SgdAttrs;
  const momentum = a.momentum ?? 0;
  const weightDecay = a.weight_decay ?? 0;
  const p = d.of(input(node, 0));
  let g = d.of(input(node, 1));
  if (a.maximize) g = d.neg(g);
  if (weightDecay !== 0) g = d.add(g, d.mul(d.c(weightDecay), p));
  const lr = d.of(input(node, 4));
  if (momentum !== 0) {
    const first = ctx.op("Equal", [input(node, 3), ctx.constFloat([0], [])])[0];
    const running = d.add(d.mul(d.c(momentum), d.of(input(node, 2))), d.mul(d.c(1 - (a.dampening ?? 0)), g));
    const buf = d.where(first, g, running);
    d.round(buf, out(node, 1));
    g = a.nesterov ? d.add(g, d.mul(d.c(momentum), buf)) : buf;
  } else {
    ctx.node({ opType: "Identity", inputs: [input(node, 2)], outputs: [out(node, 1)] });
  }
  d.round(d.sub(p, d.mul(lr, g)), out(node, 0));
});

interface AdamAttrs {
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly weight_decay?: number;
  readonly decoupled?: boolean;
  readonly amsgrad?: boolean;
  readonly maximize?: boolean;
}

// adam_update(param, grad, m, v, step, lr[, max_v]) → param', m', v'[, max_v'], with t = step + 1 read from
// the step input at run time (bias corrections 1 − β1ᵗ and sqrt(1 − β2ᵗ)):
//   g = ±grad; AdamW (decoupled): param·(1 − lr·weight_decay), else g += weight_decay·param;
//   m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; v̂ = amsgrad ? max(max_v, float32(v)) : v;
//   param' = param − (lr / (1 − β1ᵗ))·m / (sqrt(v̂)/sqrt(1 − β2ᵗ) + eps)   (eps after the bias correction).
registerExporter("adam_update", (c, node) => {
  const ctx = full(c);
  const d = new Dbl(ctx);
  const a = node.attrs as AdamAttrs;
  const beta1 = a.beta1 ?? 0.9;
  const beta2 = a.beta2 ?? 0.999;
  const weightDecay = a.weight_decay ?? 0;
  let p = d.of(input(node, 0));
  let g = d.of(input(node, 1));
  if (a.maximize) g = d.neg(g);
  const lr = d.of(input(node, 5));
  const t = d.add(d.of(input(node, 4)), d.c(1));
  const bc1 = d.sub(d.c(1), ctx.op("Pow", [d.c(beta1), t])[0]);
  const bc2Sqrt = d.sqrt(d.sub(d.c(1), ctx.op("Pow", [d.c(beta2), t])[0]));
  const stepSize = d.div(lr, bc1);
  if (a.decoupled) p = d.mul(p, d.sub(d.c(1), d.mul(lr, d.c(weightDecay))));
  else if (weightDecay !== 0) g = d.add(g, d.mul(d.c(weightDecay), p));
  const m = d.add(d.mul(d.c(beta1), d.of(input(node, 2))), d.mul(d.c(1 - beta1), g));
  const v = d.add(d.mul(d.c(beta2), d.of(input(node, 3))), d.mul(d.mul(d.c(1 - beta2), g), g));
  let vHat = v;
  if (a.amsgrad) {
    // PyTorch takes the max of the stored (float32) values
    vHat = d.max(d.of(input(node, 6)), d.of(d.round(v)));
    d.round(vHat, out(node, 3));
  }
  const denom = d.add(d.div(d.sqrt(vHat), bc2Sqrt), d.c(a.eps ?? 1e-8));
  d.round(d.sub(p, d.div(d.mul(stepSize, m), denom)), out(node, 0));
  d.round(m, out(node, 1));
  d.round(v, out(node, 2));
});
