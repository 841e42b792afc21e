import { formatType, type GraphBuilder, type Initializer, type TensorType, type ValueId, type DType } from "@attn/core";
import type { SourceSpan } from "../span.js";
import { Diagnostics } from "../diagnostics/messages.js";
import { LowerError } from "./lower-error.js";

/**
 * What a layer emitter may do: add nodes to the current graph, create parameters in its scope, make
 * constants, and fail with a diagnostic at the call's span.
 */
export interface EmitContext {
  readonly b: GraphBuilder;
  /** The call being lowered (errors point here). */
  readonly span: SourceSpan;
  /** `callee` as the user wrote it (`linear`, `attention additive`), for messages. */
  readonly callee: string;
  /** Creates (or captures) a parameter `<scope>.<local>`; throws if the statement has no scope. */
  param(local: string, shape: readonly number[], init: Initializer): ValueId;
  /** A constant tensor. */
  constant(data: readonly number[], shape: readonly number[], dtype?: DType): ValueId;
  typeOf(id: ValueId): TensorType;
  /** Adds a node, naming its outputs after the statement's targets where it is the statement's result. */
  add(op: string, inputs: readonly (ValueId | null)[], attrs?: Record<string, unknown>): ValueId[];
  add1(op: string, inputs: readonly (ValueId | null)[], attrs?: Record<string, unknown>): ValueId;
}

/** Fails with "argument `arg` of callee <problem>". */
export function badArgument(ctx: Pick<EmitContext, "callee">, arg: string, problem: string, span: SourceSpan, hint?: string): never {
  throw new LowerError(Diagnostics.InvalidArgument, { arg, callee: ctx.callee, problem }, span, hint);
}

/** Requires a concrete (integer) dim; parameters need concrete shapes. */
export function concreteDim(ctx: EmitContext, id: ValueId, axis: number, what: string): number {
  const t = ctx.typeOf(id);
  const d = t.shape[axis < 0 ? t.shape.length + axis : axis];
  if (typeof d !== "number") {
    throw new LowerError(Diagnostics.NeedsConcreteDim, { callee: ctx.callee, what, type: formatType(t) }, ctx.span);
  }
  return d;
}
