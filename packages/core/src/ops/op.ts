import type { Dim } from "../dim.js";
import type { Attrs } from "../ir/graph.js";
import { ShapeError } from "../errors.js";
import type { ShapeEnv } from "../shape-env.js";
import type { TensorType } from "../types.js";
import type { DType } from "../dtype.js";
import { formatType } from "../types.js";
import { normalizeAttrs, type AttrSchema, type AttrsOf } from "./attrs.js";

/** One input slot of an op. A `variadic` slot takes one or more values (concat). */
export interface InputSpec {
  readonly name: string;
  readonly optional?: boolean;
  readonly variadic?: boolean;
  /** Allowed dtypes; default float32 only. */
  readonly dtypes?: readonly DType[];
}

/**
 * What a shape function can ask: unify two dims (binding symbols), fail with a message, and read the
 * environment. Shape functions run both on symbolic types (checking, export) and on concrete ones
 * (backends), so there is one shape rule per op.
 */
export class InferContext {
  constructor(
    readonly env: ShapeEnv,
    readonly op: string,
  ) {}
  unify(a: Dim, b: Dim, what: string): Dim {
    return this.env.unify(a, b, `${this.op}: ${what}`);
  }
  fail(message: string): never {
    throw new ShapeError(`${this.op}: ${message}`);
  }
  /** Normalises a possibly negative axis for a tensor of `rank`. */
  axis(axis: number, rank: number, what = "axis"): number {
    if (axis < -rank || axis >= Math.max(rank, 1)) this.fail(`${what} ${axis} is out of range for a rank-${rank} tensor`);
    return axis < 0 ? axis + rank : axis;
  }
  /** Requires `t` to have exactly `rank` dims. */
  rank(t: TensorType, rank: number, name: string): void {
    if (t.shape.length !== rank) this.fail(`${name} must have rank ${rank}, got ${formatType(t)}`);
  }
  minRank(t: TensorType, rank: number, name: string): void {
    if (t.shape.length < rank) this.fail(`${name} must have rank ≥ ${rank}, got ${formatType(t)}`);
  }
}

/** The definition of one IR op: the single source of truth for its inputs, attributes and shapes. */
export interface OpDef<S extends AttrSchema = AttrSchema> {
  readonly name: string;
  readonly summary: string;
  readonly inputs: readonly InputSpec[];
  readonly attrs: S;
  /** Number of outputs given the (normalised) attributes and the number of inputs. */
  numOutputs?(attrs: AttrsOf<S>, numInputs: number): number;
  infer(ctx: InferContext, inputs: readonly (TensorType | null)[], attrs: AttrsOf<S>): TensorType[];
}

/** Declares an op with typed attributes (the type parameter flows into `infer`). */
export function defineOp<S extends AttrSchema>(def: OpDef<S>): OpDef<S> {
  return def;
}

const registry = new Map<string, OpDef>();

export function registerOp(def: OpDef<AttrSchema>): void {
  if (registry.has(def.name)) throw new Error(`op ${def.name} is registered twice`);
  registry.set(def.name, def);
}

/** Looks an op up; throws a ShapeError listing the known ops when it does not exist. */
export function getOp(name: string): OpDef {
  const def = registry.get(name);
  if (!def) throw new ShapeError(`unknown op "${name}"`);
  return def;
}

export function hasOp(name: string): boolean {
  return registry.has(name);
}

/** All registered op names, sorted. */
export function opNames(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Checks input arity and dtypes, normalises attributes and runs the op's shape function.
 * Returns the normalised attributes and the output types.
 */
export function inferNode(
  env: ShapeEnv,
  opName: string,
  inputs: readonly (TensorType | null)[],
  rawAttrs: Attrs,
): { attrs: Attrs; outputs: TensorType[] } {
  const def = getOp(opName);
  const attrs = normalizeAttrs(opName, def.attrs, rawAttrs);
  checkInputs(def, inputs);
  const ctx = new InferContext(env, opName);
  const outputs = def.infer(ctx, inputs, attrs);
  return { attrs: attrs as Attrs, outputs };
}

function checkInputs(def: OpDef, inputs: readonly (TensorType | null)[]): void {
  const specs = def.inputs;
  const variadic = specs.findIndex((s) => s.variadic);
  const min = specs.filter((s) => !s.optional).length;
  if (variadic < 0 && inputs.length > specs.length) {
    throw new ShapeError(`${def.name} takes at most ${specs.length} inputs (${specs.map((s) => s.name).join(", ")}), got ${inputs.length}`);
  }
  if (inputs.length < min) {
    throw new ShapeError(`${def.name} needs ${min} inputs (${specs.filter((s) => !s.optional).map((s) => s.name).join(", ")}), got ${inputs.length}`);
  }
  inputs.forEach((t, i) => {
    const spec = variadic >= 0 && i >= variadic ? specs[variadic] : specs[i];
    if (t === null) {
      if (!spec.optional) throw new ShapeError(`${def.name}: input "${spec.name}" is required`);
      return;
    }
    const allowed = spec.dtypes ?? ["float32"];
    if (!allowed.includes(t.dtype)) {
      throw new ShapeError(`${def.name}: input "${spec.name}" must be ${allowed.join(" or ")}, got ${formatType(t)}`);
    }
  });
}
