import { GraphError } from "../errors.js";
import type { GraphBuilder } from "../ir/builder.js";
import type { ValueId } from "../ir/graph.js";
import type { SourceSpan } from "../span.js";

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** The norm: 2 (default, Euclidean over all gradients as one vector) or `"inf"` (largest |g|). */
  readonly normType?: 2 | "inf";
  /** Span the emitted nodes report errors against. */
  readonly span?: SourceSpan;
}

/** What {@link clipGradNorm} emits. */
export interface ClippedGradients {
  /** The clipped gradients, in the order given. */
  readonly clipped: ValueId[];
  /** The total norm of the gradients before clipping (float32 scalar), PyTorch's return value. */
  readonly norm: ValueId;
  /** The factor every gradient was multiplied by: min(1, max_norm / (norm + 1e-6)). */
  readonly coef: ValueId;
}

/**
 * PyTorch 1.13's `torch.nn.utils.clip_grad_norm_` as IR nodes added to `b`:
 *
 * ```
 * norm  = sqrt(Σᵢ Σ gᵢ²)                 (normType 2: the 2-norm of all gradients as one vector)
 *       = maxᵢ max |gᵢ|                  (normType "inf")
 * coef  = min(max_norm / (norm + 1e-6), 1)
 * gᵢ'   = gᵢ · coef                      (always multiplied, even when coef is 1, as PyTorch does)
 * ```
 *
 * Built from `mul`, `reduce_sum`, `abs`, `reduce_max`, `add`, `maximum`, `sqrt`, `div`, `minimum` and
 * `constant`, so it runs on any backend. A non-finite norm is not an error (PyTorch's default
 * `error_if_nonfinite=False`): the gradients become NaN and the trainer's finite-loss check reports it.
 * With no gradients the norm is the constant 0, as in PyTorch.
 */
export function clipGradNorm(b: GraphBuilder, grads: readonly ValueId[], maxNorm: number, opts: ClipGradNormOptions = {}): ClippedGradients {
  if (!(Number.isFinite(maxNorm) && maxNorm >= 0)) throw new GraphError(`clip_grad_norm: max_norm must be a finite number ≥ 0, got ${maxNorm}`, opts.span);
  const normType = opts.normType ?? 2;
  const span = opts.span ? { span: opts.span } : {};
  const add1 = (op: string, inputs: ValueId[], attrs: Record<string, unknown> = {}) => b.add1(op, inputs, attrs as never, span);
  const scalar = (v: number) => add1("constant", [], { value: { dtype: "float32", shape: [], data: [v] } });
  for (const g of grads) {
    const t = b.typeOf(g);
    if (t.dtype !== "float32") throw new GraphError(`clip_grad_norm: gradient "${b.valueName(g)}" must be float32, got ${t.dtype}`, opts.span);
  }
  let total: ValueId | null = null;
  for (const g of grads) {
    const axes = b.typeOf(g).shape.map((_, k) => k);
    let part: ValueId;
    if (normType === "inf") {
      const a = add1("abs", [g]);
      part = axes.length ? add1("reduce_max", [a], { axes, keepdims: false }) : a;
      total = total === null ? part : add1("maximum", [total, part]);
    } else {
      const sq = add1("mul", [g, g]);
      part = axes.length ? add1("reduce_sum", [sq], { axes, keepdims: false }) : sq;
      total = total === null ? part : add1("add", [total, part]);
    }
  }
  const norm = total === null ? scalar(0) : normType === "inf" ? total : add1("sqrt", [total]);
  const coef = add1("minimum", [add1("div", [scalar(maxNorm), add1("add", [norm, scalar(1e-6)])]), scalar(1)]);
  return { clipped: grads.map((g) => add1("mul", [g, coef])), norm, coef };
}
