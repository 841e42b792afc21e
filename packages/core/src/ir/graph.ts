import type { SourceSpan } from "../span.js";
import type { TensorType } from "../types.js";
import type { Initializer } from "../init/initializer.js";

/** Index of a value in its graph's `values` table. */
export type ValueId = number;

/** Attribute values: JSON data, plus whole graphs (the body of `scan`). */
export type AttrValue = number | string | boolean | null | Graph | readonly AttrValue[] | { readonly [k: string]: AttrValue };
export type Attrs = Readonly<Record<string, AttrValue>>;

/** A typed value produced by a node, fed as a graph input, or held as a parameter. */
export interface Value {
  readonly id: ValueId;
  /** Readable name from the source (unique within its graph). */
  readonly name: string;
  readonly type: TensorType;
}

/** One op application. Optional inputs that are absent are `null`. */
export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly (ValueId | null)[];
  readonly outputs: readonly ValueId[];
  readonly attrs: Attrs;
  /** The `.attn` source this node was lowered from; errors about it quote this span. */
  readonly span?: SourceSpan;
}

/** A named trainable or loaded tensor. `name` is the full dotted PyTorch-style path. */
export interface Param {
  readonly name: string;
  readonly value: ValueId;
  readonly init: Initializer;
  readonly span?: SourceSpan;
  /**
   * `"state"` marks a resident tensor that is not a model weight (optimizer moments, the step counter):
   * it starts from its initialiser, is saved in checkpoints but not in weights files.
   */
  readonly role?: "state";
}

/** After a run, the resident parameter `param` takes `value` (a training step's update). */
export interface Update {
  readonly param: string;
  readonly value: ValueId;
}

/** A named graph output. */
export interface Output {
  readonly name: string;
  readonly value: ValueId;
  /** `"attention"` marks attention weights that the source named (printed by `attn run`, exported as extra outputs). */
  readonly role?: "attention";
}

/**
 * A typed dataflow graph in topological order. Graphs are plain data (serialisable with `toJson`);
 * build them with `GraphBuilder`.
 */
export interface Graph {
  readonly name: string;
  readonly values: readonly Value[];
  readonly inputs: readonly ValueId[];
  readonly params: readonly Param[];
  readonly nodes: readonly Node[];
  readonly outputs: readonly Output[];
  /** In-place assignments applied after each run (training steps); absent for inference graphs. */
  readonly updates?: readonly Update[];
  readonly span?: SourceSpan;
}

/** True if `x` looks like a Graph (used to tell subgraph attributes apart from JSON data). */
export function isGraph(x: unknown): x is Graph {
  return typeof x === "object" && x !== null && Array.isArray((x as Graph).nodes) && Array.isArray((x as Graph).values);
}

/** Maps each value id to the node that produces it. */
export function producers(graph: Graph): Map<ValueId, Node> {
  const m = new Map<ValueId, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) m.set(o, n);
  return m;
}

/** Maps each value id to the nodes that read it. */
export function consumers(graph: Graph): Map<ValueId, Node[]> {
  const m = new Map<ValueId, Node[]>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      if (i === null) continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  }
  return m;
}
