import type { OnnxExportContext } from "../exporter.js";
import { ELEM } from "../proto.js";

/**
 * Double-precision helpers for the loss and optimizer exporters: the CPU kernels compute these ops in
 * float64 and round each output once, so the exported graphs cast to double, compute, and cast back.
 */
export class Dbl {
  constructor(readonly ctx: OnnxExportContext) {}

  /** x (float32 or int) as float64. */
  of(x: string): string {
    return this.ctx.op("Cast", [x], { to: { int: ELEM.DOUBLE } })[0];
  }

  /** A float64 scalar constant. */
  c(v: number): string {
    return this.ctx.constOf(ELEM.DOUBLE, [v], []);
  }

  /** Rounds a float64 tensor to float32, into `output` (fresh when omitted). */
  round(x: string, output?: string): string {
    const o = output ?? this.ctx.fresh("f32");
    this.ctx.node({ opType: "Cast", inputs: [x], outputs: [o], attributes: { to: { int: ELEM.FLOAT } } });
    return o;
  }

  add(a: string, b: string): string {
    return this.ctx.op("Add", [a, b])[0];
  }
  sub(a: string, b: string): string {
    return this.ctx.op("Sub", [a, b])[0];
  }
  mul(a: string, b: string): string {
    return this.ctx.op("Mul", [a, b])[0];
  }
  div(a: string, b: string): string {
    return this.ctx.op("Div", [a, b])[0];
  }
  max(a: string, b: string): string {
    return this.ctx.op("Max", [a, b])[0];
  }
  neg(a: string): string {
    return this.ctx.op("Neg", [a])[0];
  }
  log(a: string): string {
    return this.ctx.op("Log", [a])[0];
  }
  exp(a: string): string {
    return this.ctx.op("Exp", [a])[0];
  }
  sqrt(a: string): string {
    return this.ctx.op("Sqrt", [a])[0];
  }
  where(cond: string, a: string, b: string): string {
    return this.ctx.op("Where", [cond, a, b])[0];
  }
  /** Sum of every element (a scalar). */
  sumAll(x: string): string {
    return this.ctx.op("ReduceSum", [x], { keepdims: { int: 0 } })[0];
  }
  /** The number of elements of x, as a float64 scalar. */
  count(x: string): string {
    return this.of(this.ctx.op("Size", [x])[0]);
  }
}
