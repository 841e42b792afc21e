import { BackendError, formatSpan, isGraph, parseDim, type Dim, type Graph, type Node, type SourceSpan, type Tensor, type TensorType } from "@attn/core";
import { getExporter, type ExportContext, type NodeView, type OnnxAttr, type OnnxNodeSpec } from "./op-exporter.js";
import { ELEM, elemType, onnx, rawBytes, type OnnxNs } from "./proto.js";
import "./ops/index.js";

/** Options of `exportModel`. */
export interface ExportOptions {
  /** Default-domain opset: 17 (decomposed attention, the default) or 23 (standard `Attention` where it fits). */
  readonly opset?: 17 | 23;
  /**
   * Parameter values by full (PyTorch) name; every parameter of an inference graph must be present. For a
   * training step (a graph with `updates`) parameters are graph inputs and `params` is optional: values
   * given here are stored as those inputs' initializers (defaults a runtime may override, so the file
   * carries its starting weights and optimizer state).
   */
  readonly params?: ReadonlyMap<string, Tensor>;
  /**
   * Store initializers larger than 1 KiB in a separate data file (ONNX external data, for models over
   * protobuf's 2 GiB limit). `true` names it `model.onnx.data`; a string names it. The bytes come back in
   * `ExportResult.externalData`; write them next to the model under that name.
   */
  readonly externalData?: boolean | string;
  /** With `externalData`: initializers larger than this many bytes go to the data file (default 1024). */
  readonly externalDataThreshold?: number;
  /** `producer_name` written into the model (default "attn"). */
  readonly producer?: string;
}

/** An exported model. */
export interface ExportResult {
  /** The serialized ModelProto. */
  readonly bytes: Uint8Array;
  /** The ModelProto object (before encoding), for inspection. */
  readonly model: OnnxNs.IModelProto;
  readonly opset: number;
  /** Graph input and output names, in order (attention-weight outputs included). */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Training steps only: each update as the parameter it replaces and the graph output holding its new
   * value (`updated:<param>`), in `graph.updates` order. These outputs are also in `outputNames`.
   */
  readonly updates?: readonly { readonly param: string; readonly output: string }[];
  /** With `externalData`: the data file's name (relative to the model) and contents. */
  readonly externalData?: { readonly location: string; readonly bytes: Uint8Array };
}

/**
 * What op exporters of this package may use beyond `ExportContext`: run-time dims (symbolic dims are
 * computed from the graph inputs' `Shape`), typed constants and a one-call node helper.
 */
export interface OnnxExportContext extends ExportContext {
  /** An int64 [1] tensor holding `d` at run time (a constant for a number). */
  dim(d: Dim): string;
  /** An int64 [dims.length] tensor holding a shape (constant when every dim is). */
  shape(dims: readonly Dim[]): string;
  /** A constant initializer of any ONNX element type (ELEM code); data as numbers (bool: 0/1). */
  constOf(elem: number, values: readonly number[], dims?: readonly number[]): string;
  /** Emits one node with fresh outputs named after `opType`; returns them. */
  op(opType: string, inputs: readonly string[], attributes?: Readonly<Record<string, OnnxAttr>>, numOutputs?: number): string[];
  /** Whether anything (a node or a graph output) reads the tensor named `name`. */
  isRead(name: string): boolean;
  /** The IR node being exported (for error messages). */
  readonly current: Node | undefined;
}

/** The graph output of a training step that holds the new value of parameter `param`. */
export function updatedName(param: string): string {
  return `updated:${param}`;
}

const INT64_MAX = 9223372036854775807n;

function tensorProto(name: string, elem: number, dims: readonly number[], values: readonly number[] | ArrayBufferView): OnnxNs.ITensorProto {
  let raw: Uint8Array;
  if (ArrayBuffer.isView(values)) raw = rawBytes(values);
  else if (elem === ELEM.INT64) raw = rawBytes(BigInt64Array.from(values, (v) => (v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? -INT64_MAX : BigInt(Math.trunc(v)))));
  else if (elem === ELEM.FLOAT) raw = rawBytes(Float32Array.from(values));
  else if (elem === ELEM.DOUBLE) raw = rawBytes(Float64Array.from(values));
  else if (elem === ELEM.INT32) raw = rawBytes(Int32Array.from(values));
  else if (elem === ELEM.BOOL || elem === ELEM.UINT8) raw = Uint8Array.from(values, (v) => (v ? 1 : 0));
  else throw new Error(`unsupported constant element type ${elem}`);
  return { name, dataType: elem, dims: [...dims], rawData: raw };
}

function valueInfo(name: string, type: TensorType): OnnxNs.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elemType(type.dtype),
        shape: { dim: type.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: String(d) })) },
      },
    },
  };
}

function attrProto(name: string, a: OnnxAttr): OnnxNs.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("int" in a) return { name, type: T.INT, i: a.int };
  if ("float" in a) return { name, type: T.FLOAT, f: a.float };
  if ("string" in a) return { name, type: T.STRING, s: new TextEncoder().encode(a.string) };
  if ("ints" in a) return { name, type: T.INTS, ints: [...a.ints] };
  if ("floats" in a) return { name, type: T.FLOATS, floats: [...a.floats] };
  return { name, type: T.GRAPH, g: a.graph as OnnxNs.IGraphProto };
}

function where(span: SourceSpan | undefined): string {
  return span ? formatSpan(span) : "<no span>";
}

/** Parses canonical dim text into terms [coefficient, symbols[]]. */
function dimTerms(d: string): [number, string[]][] {
  const text = String(parseDim(d)).replace(/\s+/g, "");
  const terms: [number, string[]][] = [];
  for (const m of text.matchAll(/([+-]?)([^+-]+)/g)) {
    const sign = m[1] === "-" ? -1 : 1;
    let coef = sign;
    const syms: string[] = [];
    for (const f of m[2].split("*")) {
      if (/^\d+$/.test(f)) coef *= Number(f);
      else syms.push(f);
    }
    terms.push([coef, syms]);
  }
  return terms;
}

/** State shared by a model and its subgraphs: unique names, initializers. */
class Shared {
  readonly used = new Set<string>();
  readonly initializers: OnnxNs.ITensorProto[] = [];
  private readonly constCache = new Map<string, string>();
  nodeCounter = 0;

  constructor(readonly opset: number) {}

  unique(base: string): string {
    const clean = base || "t";
    let name = clean;
    for (let k = 1; this.used.has(name); k++) name = `${clean}_${k}`;
    this.used.add(name);
    return name;
  }

  constant(elem: number, values: readonly number[], dims: readonly number[]): string {
    const key = `${elem}|${dims.join(",")}|${values.join(",")}`;
    const hit = values.length <= 16 ? this.constCache.get(key) : undefined;
    if (hit) return hit;
    const name = this.unique(`const_${elem === ELEM.INT64 ? "i64" : elem === ELEM.FLOAT ? "f32" : `t${elem}`}`);
    this.initializers.push(tensorProto(name, elem, dims, values));
    if (values.length <= 16) this.constCache.set(key, name);
    return name;
  }
}

/** One graph scope (the model's graph or a subgraph): its nodes and run-time dims. */
class Scope implements OnnxExportContext {
  readonly nodes: OnnxNs.INodeProto[] = [];
  readonly readNames = new Set<string>();
  current: Node | undefined;
  private readonly dimCache = new Map<string, string>();
  private perNode = 0;

  constructor(
    readonly shared: Shared,
    /** symbol → [tensor name, axis] where it can be read at run time. */
    private readonly symbols: Map<string, [string, number]>,
    private readonly parent?: Scope,
  ) {}

  isRead(name: string): boolean {
    return this.readNames.has(name);
  }

  get opset(): number {
    return this.shared.opset;
  }

  fresh(prefix: string): string {
    return this.shared.unique(prefix);
  }

  node(spec: OnnxNodeSpec): void {
    const n = this.current;
    const id = this.shared.nodeCounter++;
    const base = n ? `${n.op}_${n.id}${n.span ? `@${where(n.span)}` : ""}` : "attn";
    const attributes = Object.entries(spec.attributes ?? {}).map(([k, a]) => attrProto(k, a));
    this.nodes.push({
      name: `${base}/${spec.opType}_${this.perNode++}_${id}`,
      opType: spec.opType,
      domain: spec.domain ?? "",
      input: [...spec.inputs],
      output: [...spec.outputs],
      attribute: attributes,
      docString: n ? `attn ${n.op} at ${where(n.span)}` : "attn export",
    });
  }

  op(opType: string, inputs: readonly string[], attributes?: Readonly<Record<string, OnnxAttr>>, numOutputs = 1): string[] {
    const outs = Array.from({ length: numOutputs }, () => this.fresh(opType.toLowerCase()));
    this.node({ opType, inputs, outputs: outs, attributes });
    return outs;
  }

  constInt64(values: readonly number[], dims?: readonly number[]): string {
    return this.shared.constant(ELEM.INT64, values, dims ?? [values.length]);
  }

  constFloat(values: readonly number[], dims?: readonly number[]): string {
    return this.shared.constant(ELEM.FLOAT, values, dims ?? [values.length]);
  }

  constOf(elem: number, values: readonly number[], dims?: readonly number[]): string {
    return this.shared.constant(elem, values, dims ?? [values.length]);
  }

  private symbol(s: string): string {
    const key = `sym:${s}`;
    const hit = this.dimCache.get(key);
    if (hit) return hit;
    const src = this.symbols.get(s);
    if (!src) {
      if (this.parent) return this.parent.symbol(s);
      throw new BackendError(`cannot export: dimension "${s}" is not the size of any graph input axis, so it cannot be computed at run time`, this.current?.span);
    }
    const [t] = this.op("Shape", [src[0]], { start: { int: src[1] }, end: { int: src[1] + 1 } });
    this.dimCache.set(key, t);
    return t;
  }

  dim(d: Dim): string {
    if (typeof d === "number") return this.constInt64([d]);
    const hit = this.dimCache.get(d);
    if (hit) return hit;
    let acc: string | undefined;
    let constant = 0;
    for (const [coef, syms] of dimTerms(d)) {
      if (syms.length === 0) {
        constant += coef;
        continue;
      }
      let term = this.symbol(syms[0]);
      for (const s of syms.slice(1)) [term] = this.op("Mul", [term, this.symbol(s)]);
      if (coef !== 1) [term] = this.op("Mul", [term, this.constInt64([coef])]);
      acc = acc === undefined ? term : this.op("Add", [acc, term])[0];
    }
    if (acc === undefined) return this.constInt64([constant]);
    if (constant !== 0) [acc] = this.op("Add", [acc, this.constInt64([constant])]);
    this.dimCache.set(d, acc);
    return acc;
  }

  shape(dims: readonly Dim[]): string {
    if (dims.every((d) => typeof d === "number")) return this.constInt64(dims as number[]);
    return this.op("Concat", dims.map((d) => this.dim(d)), { axis: { int: 0 } })[0];
  }

  subgraph(graph: Graph, inputNames: readonly string[], outputNames: readonly string[]): unknown {
    if (inputNames.length !== graph.inputs.length || outputNames.length !== graph.outputs.length) {
      throw new BackendError(`subgraph ${graph.name}: ${graph.inputs.length} inputs / ${graph.outputs.length} outputs, given ${inputNames.length} / ${outputNames.length} names`, this.current?.span);
    }
    for (const n of [...inputNames, ...outputNames]) this.shared.used.add(n);
    const names = new Map<number, string>();
    graph.inputs.forEach((id, i) => names.set(id, inputNames[i]));
    const symbols = symbolSources(graph, names);
    const inner = new Scope(this.shared, symbols, this);
    if (graph.params.length) {
      throw new BackendError(`subgraph ${graph.name} declares parameters; a scan body must receive them as captures`, this.current?.span);
    }
    translateNodes(inner, graph, names);
    const outputs = graph.outputs.map((o, i) => {
      const src = names.get(o.value)!;
      if (src !== outputNames[i]) inner.node({ opType: "Identity", inputs: [src], outputs: [outputNames[i]] });
      return valueInfo(outputNames[i], graph.values[o.value].type);
    });
    return {
      name: this.shared.unique(graph.name || "body"),
      node: inner.nodes,
      input: graph.inputs.map((id, i) => valueInfo(inputNames[i], graph.values[id].type)),
      output: outputs,
    } satisfies OnnxNs.IGraphProto;
  }
}

/** Where each lone symbol of the graph inputs' shapes can be read (first input and axis that has it). */
function symbolSources(graph: Graph, names: ReadonlyMap<number, string>): Map<string, [string, number]> {
  const out = new Map<string, [string, number]>();
  for (const id of graph.inputs) {
    graph.values[id].type.shape.forEach((d, axis) => {
      if (typeof d === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d) && !out.has(d)) out.set(d, [names.get(id)!, axis]);
    });
  }
  return out;
}

/** Ops of `graph` (subgraphs included) with no exporter, first first. */
function missingExporters(graph: Graph): Node[] {
  const out: Node[] = [];
  for (const node of graph.nodes) {
    for (const v of Object.values(node.attrs)) if (isGraph(v)) out.push(...missingExporters(v));
    if (!getExporter(node.op)) out.push(node);
  }
  return out;
}

function translateNodes(scope: Scope, graph: Graph, names: Map<number, string>): void {
  const read = new Set<number>(graph.outputs.map((o) => o.value));
  for (const n of graph.nodes) for (const i of n.inputs) if (i !== null) read.add(i);
  for (const node of graph.nodes) {
    for (const o of node.outputs) {
      names.set(o, scope.fresh(graph.values[o].name));
      if (read.has(o)) scope.readNames.add(names.get(o)!);
    }
    const view: NodeView = {
      op: node.op,
      attrs: node.attrs,
      inputs: node.inputs.map((i) => (i === null ? null : names.get(i)!)),
      outputs: node.outputs.map((o) => names.get(o)!),
      inputTypes: node.inputs.map((i) => (i === null ? null : graph.values[i].type)),
      outputTypes: node.outputs.map((o) => graph.values[o].type),
      span: node.span,
    };
    for (const [k, i] of node.inputs.entries()) {
      if (i !== null && !names.has(i)) throw new BackendError(`${node.op} reads "${graph.values[i]?.name}" (input ${k}) before it is defined`, node.span);
    }
    scope.current = node;
    try {
      getExporter(node.op)!(scope, view);
    } catch (e) {
      if (e instanceof BackendError) throw e.span ? e : new BackendError(`${node.op}: ${e.detail}`, node.span);
      throw new BackendError(`cannot export ${node.op} at ${where(node.span)}: ${e instanceof Error ? e.message : String(e)}`, node.span);
    } finally {
      scope.current = undefined;
    }
  }
}

/** IR version written for each opset (ONNX 1.12 → IR 8 for opset 17; ONNX 1.18 → IR 11 for opset 23). */
const IR_VERSION: Record<number, number> = { 17: 8, 23: 11 };

/**
 * Exports an attn IR graph as a standard ONNX model. Graph inputs and outputs keep their IR names and carry
 * symbolic dims as `dim_param` (one file serves every batch size and sequence length); parameters become
 * initializers under their PyTorch names; every node's name and `doc_string` cite the `.attn` span it came
 * from; outputs marked `role: "attention"` are ordinary extra outputs. Throws a `BackendError` naming the op
 * and its `.attn` line for an op without an exporter.
 *
 * A training step (a graph with `updates`) exports as one standalone model: every parameter (weights and
 * `role: "state"` optimizer state) is a graph input after the graph's own inputs (the batch, `lr`, ...),
 * and after the graph's outputs come one output per update, `updated:<param>`, holding the parameter's
 * value for the next step. Driving it means feeding the batch and the current parameters, then feeding
 * each `updated:<param>` back as `<param>` on the next run.
 */
export function exportModel(graph: Graph, opts: ExportOptions = {}): ExportResult {
  const opset = opts.opset ?? 17;
  if (opset !== 17 && opset !== 23) throw new BackendError(`ONNX export supports opset 17 or 23, got ${String(opset)}`);
  const training = (graph.updates?.length ?? 0) > 0;
  const missing = missingExporters(graph);
  if (missing.length) {
    const first = missing[0];
    const others = [...new Set(missing.map((n) => n.op))].filter((o) => o !== first.op);
    throw new BackendError(
      `no ONNX exporter for op "${first.op}" (at ${where(first.span)})` + (others.length ? `; also unsupported: ${others.map((o) => `"${o}"`).join(", ")}` : ""),
      first.span,
    );
  }
  const shared = new Shared(opset);
  const names = new Map<number, string>();
  const inputs: OnnxNs.IValueInfoProto[] = [];
  for (const id of graph.inputs) {
    const v = graph.values[id];
    if (shared.used.has(v.name)) throw new BackendError(`two graph inputs are named "${v.name}"`);
    shared.used.add(v.name);
    names.set(id, v.name);
    inputs.push(valueInfo(v.name, v.type));
  }
  const params = opts.params ?? new Map<string, Tensor>();
  for (const p of graph.params) {
    const type = graph.values[p.value].type;
    const t = params.get(p.name);
    if (training) {
      if (shared.used.has(p.name)) throw new BackendError(`parameter "${p.name}" has the name of a graph input`, p.span);
      shared.used.add(p.name);
      names.set(p.value, p.name);
      inputs.push(valueInfo(p.name, type));
      if (!t) continue;
    }
    if (!t) throw new BackendError(`parameter "${p.name}" is missing from the export options (pass params)`, p.span);
    if (t.dtype !== type.dtype || t.shape.length !== type.shape.length || t.shape.some((d, i) => d !== type.shape[i])) {
      throw new BackendError(`parameter "${p.name}" must be ${type.dtype}[${type.shape.join(", ")}], got ${t.dtype}[${t.shape.join(", ")}]`, p.span);
    }
    if (!training) {
      if (shared.used.has(p.name)) throw new BackendError(`parameter "${p.name}" has the name of a graph input`, p.span);
      shared.used.add(p.name);
      names.set(p.value, p.name);
    }
    shared.initializers.push(tensorProto(p.name, elemType(t.dtype), t.shape, t.data));
  }
  for (const o of graph.outputs) {
    if (!shared.used.has(o.name)) shared.used.add(o.name);
    else if (names.get(o.value) !== o.name) throw new BackendError(`output "${o.name}" clashes with an input or parameter name`);
  }
  const updates = (graph.updates ?? []).map((u) => {
    if (!graph.params.some((p) => p.name === u.param)) throw new BackendError(`graph ${graph.name} updates "${u.param}", which is not one of its parameters`);
    const output = updatedName(u.param);
    if (shared.used.has(output)) throw new BackendError(`update output "${output}" clashes with an input, parameter or output name`);
    shared.used.add(output);
    return { param: u.param, output, value: u.value };
  });
  const scope = new Scope(shared, symbolSources(graph, names));
  translateNodes(scope, graph, names);
  const outputs: OnnxNs.IValueInfoProto[] = [];
  for (const o of graph.outputs) {
    const src = names.get(o.value);
    if (src === undefined) throw new BackendError(`output "${o.name}" of ${graph.name} is never defined`);
    if (src !== o.name) scope.node({ opType: "Identity", inputs: [src], outputs: [o.name] });
    const info = valueInfo(o.name, graph.values[o.value].type);
    if (o.role === "attention") info.docString = "attention weights";
    outputs.push(info);
  }
  for (const u of updates) {
    const src = names.get(u.value);
    if (src === undefined) throw new BackendError(`the new value of "${u.param}" in ${graph.name} is never defined`);
    scope.node({ opType: "Identity", inputs: [src], outputs: [u.output] });
    const info = valueInfo(u.output, graph.values[u.value].type);
    info.docString = `new value of parameter ${u.param} (feed it back as ${u.param} on the next step)`;
    outputs.push(info);
  }

  let external: { location: string; bytes: Uint8Array } | undefined;
  if (opts.externalData) {
    const location = typeof opts.externalData === "string" ? opts.externalData : "model.onnx.data";
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const t of shared.initializers) {
      const raw = t.rawData;
      if (!raw || raw.length <= (opts.externalDataThreshold ?? 1024)) continue;
      const pad = (64 - (offset % 64)) % 64;
      if (pad) chunks.push(new Uint8Array(pad));
      offset += pad;
      chunks.push(raw);
      t.externalData = [
        { key: "location", value: location },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(raw.length) },
      ];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.rawData = undefined;
      offset += raw.length;
    }
    const bytes = new Uint8Array(offset);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    external = { location, bytes };
  }

  const model: OnnxNs.IModelProto = {
    irVersion: IR_VERSION[opset],
    producerName: opts.producer ?? "attn",
    producerVersion: "0.0.0",
    docString: graph.span ? `exported from ${where(graph.span)}` : `exported from attn graph ${graph.name}`,
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name: graph.name,
      node: scope.nodes,
      initializer: shared.initializers,
      input: inputs,
      output: outputs,
      docString: `attn graph ${graph.name}`,
    },
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  return {
    bytes,
    model,
    opset,
    inputNames: inputs.map((i) => i.name!),
    outputNames: outputs.map((o) => o.name!),
    ...(training ? { updates: updates.map(({ param, output }) => ({ param, output })) } : {}),
    externalData: external,
  };
}
