import type { Graph, Node } from "./ir/graph.js";
import type { Tensor } from "./tensor.js";

/** Options for compiling a graph on a backend. */
export interface CompileOptions {
  /** Every parameter's value, by full name (see `bindParams`). */
  readonly params: ReadonlyMap<string, Tensor>;
}

/** Options for one run. */
export interface RunOptions {
  /** Outputs to compute (default: all). Unrequested outputs may be skipped entirely. */
  readonly outputs?: readonly string[];
}

/**
 * A compiled graph bound to its parameters. Parameters stay resident on the backend between runs;
 * `run` moves only the feeds in and the requested outputs out.
 */
export interface Executable {
  run(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Promise<Record<string, Tensor>>;
  /** Reads the current parameter values back to host tensors. */
  readParams(): Promise<Map<string, Tensor>>;
  /** Replaces resident parameters by name (each must exist and keep its type). */
  writeParams(params: ReadonlyMap<string, Tensor>): Promise<void>;
  dispose(): void;
}

/** A place graphs run: cpu, webgpu, onnx. */
export interface Backend {
  readonly name: string;
  /** Whether this backend has a kernel for `op` (drives skip lists and compile-time errors). */
  supports(op: string): boolean;
  /** Compiles a whole graph. Throws a BackendError naming the op and its `.attn` line for unsupported ops. */
  compile(graph: Graph, opts: CompileOptions): Promise<Executable>;
  /** Evaluates one node on host tensors (used by constant folding); optional. */
  evaluateNode?(node: Node, inputs: readonly Tensor[]): Tensor[];
}
