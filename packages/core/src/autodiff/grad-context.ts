import type { Dim } from "../dim.js";
import type { DType } from "../dtype.js";
import type { GraphBuilder } from "../ir/builder.js";
import type { Attrs, ValueId } from "../ir/graph.js";
import type { SourceSpan } from "../span.js";
import type { TensorType } from "../types.js";

/**
 * What a gradient function uses to emit IR: node creation (spans point at the forward node's source
 * line), constants, and the reductions that undo broadcasting.
 */
export class GradContext {
  constructor(
    readonly b: GraphBuilder,
    /** The forward node's span: backward nodes report errors against the same `.attn` line. */
    readonly span?: SourceSpan,
  ) {}

  typeOf(id: ValueId): TensorType {
    return this.b.typeOf(id);
  }

  rank(id: ValueId): number {
    return this.b.typeOf(id).shape.length;
  }

  add(op: string, inputs: readonly (ValueId | null)[], attrs: Record<string, unknown> = {}): ValueId[] {
    return this.b.add(op, inputs, attrs as Attrs, { span: this.span });
  }

  add1(op: string, inputs: readonly (ValueId | null)[], attrs: Record<string, unknown> = {}): ValueId {
    return this.b.add1(op, inputs, attrs as Attrs, { span: this.span });
  }

  /** A scalar constant (broadcasts in elementwise ops). */
  scalar(v: number, dtype: DType = "float32"): ValueId {
    return this.add1("constant", [], { value: { dtype, shape: [], data: [v] } });
  }

  zerosLike(x: ValueId): ValueId {
    return this.add1("zeros_like", [x]);
  }

  /** `a + b`, treating null as zero (accumulating gradient contributions). */
  sum(a: ValueId | null, b: ValueId | null): ValueId | null {
    if (a === null) return b;
    if (b === null) return a;
    return this.add1("add", [a, b]);
  }

  /** Elementwise a * b. */
  mul(a: ValueId, b: ValueId): ValueId {
    return this.add1("mul", [a, b]);
  }

  /** bool/int → float32 (for masks used as multipliers). */
  toFloat(x: ValueId): ValueId {
    return this.typeOf(x).dtype === "float32" ? x : this.add1("cast", [x], { to: "float32" });
  }

  /**
   * Reduces `dx` (the gradient of a broadcast result) back to the shape of `target`: sums the leading
   * axes `target` lacks and the axes where `target` has size 1, then reshapes to `target`'s shape.
   */
  unbroadcast(dx: ValueId, target: ValueId): ValueId {
    const from = this.typeOf(dx).shape;
    const to = this.typeOf(target).shape;
    if (sameShape(from, to)) return dx;
    const lead = from.length - to.length;
    const axes: number[] = [];
    for (let i = 0; i < from.length; i++) {
      if (i < lead) axes.push(i);
      else if (to[i - lead] === 1 && from[i] !== 1) axes.push(i);
    }
    const summed = axes.length ? this.add1("reduce_sum", [dx], { axes, keepdims: true }) : dx;
    return this.add1("reshape", [summed], { shape: to.map((d) => (d === 1 ? 1 : d)) as Dim[] });
  }

  /** `dy` (reduced over `axes`, with or without kept dims) broadcast back to the shape of `x`. */
  expandTo(dy: ValueId, x: ValueId, axes: readonly number[], keepdims: boolean): ValueId {
    const r = this.rank(x);
    const norm = axes.map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
    const kept = keepdims ? dy : this.add1("unsqueeze", [dy], { axes: norm });
    return this.add1("add", [this.zerosLike(x), kept]);
  }
}

function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
