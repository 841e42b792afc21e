import type { ValueId, Dim, DType } from "@attn/core";
import type { SourceSpan } from "../span.js";
import { parseDim } from "@attn/core";
import { Diagnostics } from "../diagnostics/messages.js";
import { positionalArgs, type ArgSpec, type LiteralValue } from "../layers/catalogue.js";
import { LowerError, PoisonedError } from "./lower-error.js";
import { describeVal, type ArgVal, type Val } from "./values.js";

/**
 * The evaluated arguments of one call, read by name with type checks that point at the argument itself.
 * Positional arguments are matched to the catalogue's positional names, and absent arguments take the
 * catalogue's default, so no emitter repeats a default. Names and arity were already checked.
 */
export class Args {
  private readonly byName = new Map<string, ArgVal>();
  private readonly defaults = new Map<string, LiteralValue>();

  constructor(
    readonly callee: string,
    readonly callSpan: SourceSpan,
    specs: readonly ArgSpec[],
    readonly positional: readonly ArgVal[],
    named: ReadonlyMap<string, ArgVal>,
  ) {
    positionalArgs(specs).forEach((s, i) => {
      if (positional[i]) this.byName.set(s.name, positional[i]);
    });
    for (const [k, v] of named) this.byName.set(k, v);
    for (const s of specs) if (s.default !== undefined) this.defaults.set(s.name, s.default);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  spanOf(name: string): SourceSpan {
    return this.byName.get(name)?.span ?? this.callSpan;
  }

  private fail(arg: string, expected: string, a: ArgVal): never {
    if (a.value.kind === "poison") throw new PoisonedError();
    throw new LowerError(Diagnostics.ArgumentType, { arg, callee: this.callee, expected, found: describeVal(a.value) }, a.span);
  }

  /** The argument's value, or its catalogue default as a value, or undefined. */
  private value(name: string): ArgVal | undefined {
    const a = this.byName.get(name);
    if (a) return a;
    const d = this.defaults.get(name);
    if (d === undefined) return undefined;
    const lit = (v: number | boolean | string): Val =>
      typeof v === "number" ? { kind: "number", value: v } : typeof v === "boolean" ? { kind: "bool", value: v } : { kind: "string", value: v };
    const value: Val = Array.isArray(d) ? { kind: "list", items: d.map(lit) } : lit(d as number | boolean | string);
    return { value, span: this.callSpan };
  }

  private required(name: string): ArgVal {
    const a = this.value(name);
    if (!a) throw new LowerError(Diagnostics.MissingArgument, { callee: this.callee, name }, this.callSpan);
    return a;
  }

  tensor(name: string): ValueId {
    const a = this.required(name);
    if (a.value.kind !== "tensor") this.fail(name, "a tensor", a);
    return a.value.id;
  }

  optionalTensor(name: string): ValueId | null {
    return this.value(name) ? this.tensor(name) : null;
  }

  /** Positional tensors from index `from` on (variadic functions such as concat). */
  tensors(from = 0): ValueId[] {
    return this.positional.slice(from).map((a, k) => {
      if (a.value.kind !== "tensor") this.fail(`#${from + k + 1}`, "a tensor", a);
      return a.value.id;
    });
  }

  int(name: string, min = Number.NEGATIVE_INFINITY): number {
    const a = this.required(name);
    if (a.value.kind !== "number" || !Number.isInteger(a.value.value)) this.fail(name, "an integer", a);
    if (a.value.value < min) this.fail(name, `an integer ≥ ${min}`, a);
    return a.value.value;
  }

  optionalInt(name: string, min = Number.NEGATIVE_INFINITY): number | null {
    return this.value(name) ? this.int(name, min) : null;
  }

  float(name: string): number {
    const a = this.required(name);
    if (a.value.kind !== "number") this.fail(name, "a number", a);
    return a.value.value;
  }

  bool(name: string): boolean {
    const a = this.required(name);
    if (a.value.kind !== "bool") this.fail(name, "true or false", a);
    return a.value.value;
  }

  /** An integer or a list of integers (axes, kernel sizes). */
  ints(name: string): number[] {
    const a = this.required(name);
    if (a.value.kind === "number" && Number.isInteger(a.value.value)) return [a.value.value];
    if (a.value.kind === "list" && a.value.items.every((v) => v.kind === "number" && Number.isInteger(v.value))) {
      return a.value.items.map((v) => (v as { value: number }).value);
    }
    return this.fail(name, "an integer or a list of integers", a);
  }

  /** Like `ints`, for a pair such as a kernel size: one integer means both. */
  pair(name: string): [number, number] {
    const v = this.ints(name);
    if (v.length === 1) return [v[0], v[0]];
    if (v.length !== 2) this.fail(name, "one integer or two", this.required(name));
    return [v[0], v[1]];
  }

  /** A list of dims: integers, hyperparameters, symbolic dims. */
  dims(name: string): Dim[] {
    const a = this.required(name);
    if (a.value.kind !== "list") this.fail(name, "a list of dimensions", a);
    return a.value.items.map((v) => {
      if (v.kind === "number" && Number.isInteger(v.value)) return v.value;
      if (v.kind === "dim") return typeof v.dim === "string" ? parseDim(v.dim) : v.dim;
      return this.fail(name, "a list of dimensions", a);
    });
  }

  dtype(name: string): DType {
    const a = this.required(name);
    if (a.value.kind !== "dtype") this.fail(name, "a dtype (float32, int32 or bool)", a);
    return a.value.value;
  }

  /** A bare word from a fixed list (`select: argmax`), or undefined when absent without default. */
  word(name: string): string | undefined {
    const a = this.value(name);
    if (!a) return undefined;
    if (a.value.kind !== "string") this.fail(name, "a word", a);
    return a.value.value;
  }
}
