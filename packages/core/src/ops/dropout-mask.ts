import { attr } from "./attrs.js";
import { defineOp } from "./op.js";

/**
 * Training-mode dropout's mask: 1/(1 − p) where `dropoutUniform(step, salt, i) ≥ p`, else 0, shaped like x.
 * Training graphs rewrite `dropout(x)` into `x · dropout_mask(x, step)` (one salt per dropout node), so the
 * gradient is the same mask times the upstream gradient; inference keeps `dropout` as the identity.
 */
export const dropoutMaskOp = defineOp({
  name: "dropout_mask",
  summary: "scaled keep-mask of training-mode dropout, drawn from (step, salt, index)",
  inputs: [{ name: "x", dtypes: ["float32", "int32", "bool"] }, { name: "step", dtypes: ["int32"] }],
  attrs: { p: attr.float("drop probability in [0, 1)"), salt: attr.int("distinguishes dropout nodes", 0) },
  infer: (ctx, [x, step], { p }) => {
    if (p < 0 || p >= 1) ctx.fail(`p must be in [0, 1), got ${p}`);
    ctx.rank(step!, 0, "step");
    return [{ dtype: "float32", shape: x!.shape }];
  },
});
