import { BackendError, inferNode, Tensor, type Attrs, type DType, type Graph, type ShapeEnv } from "@attn/core";
import type { Gemm } from "./gemm/index.js";

/** What a kernel may ask of the executor while it runs one node. */
export interface KernelContext {
  /** The op being run (shape errors and messages name it). */
  readonly op: string;
  /** Symbol bindings of this run (from the feeds); symbolic attributes such as reshape targets evaluate here. */
  readonly env: ShapeEnv;
  /** Names of the node's input values in the graph (for messages that name a tensor). */
  readonly inputNames: readonly (string | null)[];
  /** Runs a subgraph (the body of `scan`) on concrete inputs and returns all its outputs. */
  runGraph(graph: Graph, inputs: readonly Tensor[]): Tensor[];
  /** The GEMM of the backend's kernel path (portable JS or WebAssembly SIMD): matmul and linear run on it. */
  readonly gemm: Gemm;
  /**
   * Run every softmax attention call of a wasm path on the fused kernel, however small (the backend's
   * `fuseSmallAttention` option). Absent or false: per-head problems too small for the kernel's 64 × 64
   * tiles run the portable kernel instead (`smallAttention` in kernels/flash.ts).
   */
  readonly fuseSmallAttention?: boolean;
}

/**
 * A kernel computes one node: inputs (null for an absent optional input), the node's attributes, and the
 * context. It returns one tensor per node output and never mutates its inputs.
 */
export type Kernel = (inputs: readonly (Tensor | null)[], attrs: Attrs, ctx: KernelContext) => Tensor[];

/** An output dim that is still symbolic after binding the feeds (e.g. a reshape to an unbound symbol). */
export class UnresolvedShapeError extends BackendError {}

/** A concrete output type. */
export interface OutputType {
  readonly dtype: DType;
  readonly shape: number[];
}

/** The normalised attributes and concrete output types of a node, from core's shape function. */
export interface Inferred<A> {
  readonly attrs: A;
  readonly outputs: OutputType[];
}

/** What shape inference reads of an input: its type (a tensor, or the type a kernel reads it as). */
export type InputType = Pick<Tensor, "dtype" | "shape">;

/**
 * Runs core's shape function (`inferNode`) on the concrete input types, so every backend validates inputs
 * the same way and gets the same messages; returns normalised attributes (defaults filled) and concrete
 * output shapes.
 */
export function inferOutputs<A>(ctx: KernelContext, inputs: readonly (InputType | null)[], attrs: Attrs): Inferred<A> {
  const types = inputs.map((t) => (t === null ? null : { dtype: t.dtype, shape: t.shape }));
  const r = inferNode(ctx.env, ctx.op, types, attrs);
  const outputs = r.outputs.map((t, i) => ({
    dtype: t.dtype,
    shape: t.shape.map((d, k) => {
      const v = ctx.env.evaluate(d);
      if (v === undefined) {
        throw new UnresolvedShapeError(`${ctx.op}: dim ${k} of output ${i} is ${d}, which the inputs of this run do not bind`);
      }
      if (v < 0) throw new BackendError(`${ctx.op}: dim ${k} of output ${i} evaluates to ${v}`);
      return v;
    }),
  }));
  return { attrs: r.attrs as unknown as A, outputs };
}

/** A zero-filled tensor of an inferred output type. */
export function allocate(t: OutputType): Tensor {
  return new Tensor(t.dtype, t.shape);
}

/** The name of input `i` for messages: the graph value's name, else a placeholder. */
export function inputName(ctx: KernelContext, i: number, fallback: string): string {
  return ctx.inputNames[i] ?? fallback;
}
