import type { Attrs, Graph, SourceSpan, TensorType } from "@attn/core";

/** An ONNX attribute value (the exporter picks the AttributeProto field from the JS type). */
export type OnnxAttr =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly string: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly graph: unknown };

/** One ONNX node to emit. Inputs/outputs are tensor names ("" for an omitted optional input). */
export interface OnnxNodeSpec {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, OnnxAttr>>;
  /** Default: the standard ONNX domain. */
  readonly domain?: string;
}

/**
 * What an op exporter may do while translating one IR node: emit ONNX nodes (named and documented after the
 * IR node and its `.attn` span automatically), add constant initializers, make fresh tensor names, read
 * types, and export a subgraph (a scan body) as a GraphProto.
 */
export interface ExportContext {
  /** The target opset of the default domain (17 or 23). */
  readonly opset: number;
  /** A fresh, unique tensor name starting with `prefix`. */
  fresh(prefix: string): string;
  node(spec: OnnxNodeSpec): void;
  /** An int64 initializer (shape defaults to [values.length]); returns its name. */
  constInt64(values: readonly number[], dims?: readonly number[]): string;
  /** A float32 initializer; returns its name. */
  constFloat(values: readonly number[], dims?: readonly number[]): string;
  /**
   * Exports `graph` as an ONNX GraphProto (for Scan/Loop bodies) whose inputs and outputs are named
   * `inputNames` / `outputNames`; returns the proto object to put in a `{ graph }` attribute.
   */
  subgraph(graph: Graph, inputNames: readonly string[], outputNames: readonly string[]): unknown;
}

/** The IR node being exported, with its tensors' ONNX names and types. */
export interface NodeView {
  readonly op: string;
  readonly attrs: Attrs;
  /** ONNX names of the inputs (null for an absent optional input). */
  readonly inputs: readonly (string | null)[];
  readonly outputs: readonly string[];
  readonly inputTypes: readonly (TensorType | null)[];
  readonly outputTypes: readonly TensorType[];
  readonly span?: SourceSpan;
}

/** Translates one IR node into ONNX nodes. One exporter per op (or family), registered by op name. */
export type OpExporter = (ctx: ExportContext, node: NodeView) => void;

const registry = new Map<string, OpExporter>();

export function registerExporter(op: string, fn: OpExporter): void {
  if (registry.has(op)) throw new Error(`ONNX exporter for ${op} is registered twice`);
  registry.set(op, fn);
}

export function getExporter(op: string): OpExporter | undefined {
  return registry.get(op);
}

/** IR ops the ONNX exporter can translate, sorted. */
export function exportableOps(): string[] {
  return [...registry.keys()].sort();
}
