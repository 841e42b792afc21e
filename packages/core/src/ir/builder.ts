import { AttnError } from "../errors.js";
import { ShapeEnv } from "../shape-env.js";
import type { SourceSpan } from "../span.js";
import type { TensorType } from "../types.js";
import type { Initializer } from "../init/initializer.js";
import { getOp, inferNode } from "../ops/op.js";
import { parseDim } from "../dim.js";
import { withSpan } from "./infer.js";
import type { Attrs, Graph, Node, Output, Param, Update, Value, ValueId } from "./graph.js";
import { GraphError } from "../errors.js";

/**
 * Builds a graph one node at a time, inferring each node's output types as it is added, so a front end
 * learns shapes while lowering (e.g. the input size of a `linear`) and every shape error carries the
 * span of the statement that caused it.
 */
export class GraphBuilder {
  private readonly values: Value[] = [];
  private readonly nodes: Node[] = [];
  private readonly inputs: ValueId[] = [];
  private readonly params: Param[] = [];
  private readonly outputs: Output[] = [];
  private readonly updates: Update[] = [];
  private readonly names = new Set<string>();

  constructor(
    readonly name: string,
    readonly env: ShapeEnv = new ShapeEnv(),
  ) {}

  /** A builder for a subgraph (a scan body) that shares this one's symbol bindings. */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, this.env);
  }

  private newValue(name: string, type: TensorType): ValueId {
    const id = this.values.length;
    let unique = name;
    for (let k = 1; this.names.has(unique); k++) unique = `${name}_${k}`;
    this.names.add(unique);
    this.values.push({ id, name: unique, type });
    return id;
  }

  /** The current type of a value, with every symbol binding applied. */
  typeOf(id: ValueId): TensorType {
    const v = this.values[id];
    if (!v) throw new GraphError(`${this.name}: no value ${id}`);
    return { dtype: v.type.dtype, shape: this.env.resolveShape(v.type.shape) };
  }

  /**
   * Gives a value a readable name (the source variable it is bound to), keeping names unique. Graph
   * inputs keep theirs, since they are what callers feed.
   */
  rename(id: ValueId, name: string): void {
    const v = this.values[id];
    if (!v || this.inputs.includes(id) || v.name === name || this.params.some((p) => p.value === id)) return;
    this.names.delete(v.name);
    let unique = name;
    for (let k = 1; this.names.has(unique); k++) unique = `${name}_${k}`;
    this.names.add(unique);
    this.values[id] = { ...v, name: unique };
  }

  valueName(id: ValueId): string {
    return this.values[id].name;
  }

  input(name: string, type: TensorType): ValueId {
    const id = this.newValue(name, type);
    this.inputs.push(id);
    return id;
  }

  param(name: string, type: TensorType, init: Initializer, span?: SourceSpan, role?: "state"): ValueId {
    if (this.params.some((p) => p.name === name)) throw new GraphError(`parameter "${name}" is declared twice`, span);
    for (const d of type.shape) {
      if (typeof this.env.resolve(d) !== "number") {
        throw new GraphError(`parameter "${name}" needs a concrete shape, got [${type.shape.join(", ")}]`, span);
      }
    }
    const id = this.newValue(name, { dtype: type.dtype, shape: this.env.resolveShape(type.shape) });
    this.params.push({ name, value: id, init, ...(span ? { span } : {}), ...(role ? { role } : {}) });
    return id;
  }

  /** Adds a node; returns its output value ids. Shape errors are rethrown with `span`. */
  add(op: string, inputs: readonly (ValueId | null)[], attrs: Attrs = {}, opts: { span?: SourceSpan; names?: readonly string[] } = {}): ValueId[] {
    let result: { attrs: Attrs; outputs: TensorType[] };
    try {
      result = inferNode(this.env, op, inputs.map((id) => (id === null ? null : this.typeOf(id))), attrs);
    } catch (e) {
      if (e instanceof AttnError) withSpan(e, opts.span);
      throw e;
    }
    const outputs = result.outputs.map((t, i) => this.newValue(opts.names?.[i] ?? (result.outputs.length > 1 ? `${op}_${i}` : op), t));
    this.nodes.push({ id: this.nodes.length, op, inputs: [...inputs], outputs, attrs: result.attrs, ...(opts.span ? { span: opts.span } : {}) });
    return outputs;
  }

  /** Adds a single-output node. */
  add1(op: string, inputs: readonly (ValueId | null)[], attrs: Attrs = {}, opts: { span?: SourceSpan; name?: string } = {}): ValueId {
    return this.add(op, inputs, attrs, { span: opts.span, names: opts.name ? [opts.name] : undefined })[0];
  }

  output(name: string, value: ValueId, role?: "attention"): void {
    if (this.outputs.some((o) => o.name === name)) throw new GraphError(`output "${name}" is declared twice`);
    this.outputs.push({ name, value, ...(role ? { role } : {}) });
  }

  /** After each run, parameter `param` takes `value` (same type). */
  update(param: string, value: ValueId): void {
    const p = this.params.find((x) => x.name === param);
    if (!p) throw new GraphError(`cannot update "${param}": no such parameter`);
    if (this.updates.some((u) => u.param === param)) throw new GraphError(`parameter "${param}" is updated twice`);
    const want = this.typeOf(p.value);
    const got = this.typeOf(value);
    if (want.dtype !== got.dtype || want.shape.length !== got.shape.length || want.shape.some((d, i) => d !== got.shape[i])) {
      throw new GraphError(`update of "${param}" must be ${want.dtype}[${want.shape.join(", ")}], got ${got.dtype}[${got.shape.join(", ")}]`);
    }
    this.updates.push({ param, value });
  }

  /** The finished graph, with every type resolved through the final symbol bindings. */
  build(span?: SourceSpan): Graph {
    const values = this.values.map((v) => ({ ...v, type: { dtype: v.type.dtype, shape: this.env.resolveShape(v.type.shape) } }));
    const nodes = this.nodes.map((n) => ({ ...n, attrs: this.resolveDimAttrs(n.op, n.attrs) }));
    return {
      name: this.name, values, inputs: [...this.inputs], params: [...this.params], nodes, outputs: [...this.outputs],
      ...(this.updates.length ? { updates: [...this.updates] } : {}), ...(span ? { span } : {}),
    };
  }

  /** Symbolic dims in attributes (a reshape target) are rewritten with the final bindings, like value types. */
  private resolveDimAttrs(op: string, attrs: Attrs): Attrs {
    const schema = getOp(op).attrs;
    let out: Record<string, Attrs[string]> | undefined;
    for (const [k, v] of Object.entries(attrs)) {
      if (!schema[k]?.dims || v === null) continue;
      const resolve = (d: number | string) => (typeof d === "string" ? this.env.resolve(parseDim(d)) : d);
      out ??= { ...attrs };
      out[k] = Array.isArray(v) ? (v as (number | string)[]).map((d) => (d === -1 ? -1 : resolve(d))) : resolve(v as number | string);
    }
    return out ?? attrs;
  }
}
