import { BackendError, Tensor, bindFeeds, formatType, type Backend, type CompileOptions, type Executable, type Graph, type RunOptions } from "@attn/core";
import { exportModel } from "../export/exporter.js";
import { getExporter } from "../export/op-exporter.js";
import { loadOrt, type OnnxRuntimeKind, type Ort } from "./ort.js";

/** Options of the ONNX backend. */
export interface OnnxBackendOptions {
  /** `"node"`: onnxruntime-node (native CPU, default); `"web"`: onnxruntime-web's wasm provider (Node or browsers). */
  readonly runtime?: OnnxRuntimeKind;
  /** Intra-op threads (node) or wasm threads (web; sets `ort.env.wasm.numThreads` before the first session). */
  readonly numThreads?: number;
  /** Default-domain opset of the exported models: 17 (decomposed attention, default) or 23. */
  readonly opset?: 17 | 23;
}

type OrtSession = Awaited<ReturnType<Ort["InferenceSession"]["create"]>>;
type OrtTensor = InstanceType<Ort["Tensor"]>;

interface Shared {
  session: OrtSession;
  refs: number;
}

/**
 * Runs attn graphs on ONNX Runtime: `compile` exports the graph once (parameters as initializers) and
 * creates an InferenceSession, shared by every compile of the same graph object with the same params map.
 * Graphs with `updates` (training steps) are rejected: training on ONNX Runtime comes with the training export.
 */
export class OnnxBackend implements Backend {
  readonly name = "onnx";
  readonly runtime: OnnxRuntimeKind;
  readonly opset: 17 | 23;
  private readonly numThreads: number | undefined;
  private readonly sessions = new WeakMap<Graph, Map<ReadonlyMap<string, Tensor>, Promise<Shared>>>();

  constructor(opts: OnnxBackendOptions = {}) {
    this.runtime = opts.runtime ?? "node";
    this.numThreads = opts.numThreads;
    this.opset = opts.opset ?? 17;
  }

  /** Whether the exporter can translate `op`. */
  supports(op: string): boolean {
    return getExporter(op) !== undefined;
  }

  /** Loads this backend's ONNX Runtime build (rejects when it is not installed). */
  async ort(): Promise<Ort> {
    const ort = await loadOrt(this.runtime);
    if (this.runtime === "web" && this.numThreads !== undefined) ort.env.wasm.numThreads = this.numThreads;
    return ort;
  }

  /** Creates an InferenceSession for exported model bytes. */
  async createSession(bytes: Uint8Array): Promise<OrtSession> {
    const ort = await this.ort();
    const opts: Parameters<Ort["InferenceSession"]["create"]>[1] = this.runtime === "node" && this.numThreads !== undefined ? { intraOpNumThreads: this.numThreads } : {};
    return ort.InferenceSession.create(bytes, opts);
  }

  async compile(graph: Graph, opts: CompileOptions): Promise<OnnxExecutable> {
    if (graph.updates?.length) {
      throw new BackendError(`graph ${graph.name} updates parameters after each run: training on ONNX Runtime comes with the training export (the next step of #4)`);
    }
    const params = opts?.params ?? new Map<string, Tensor>();
    let byParams = this.sessions.get(graph);
    if (!byParams) this.sessions.set(graph, (byParams = new Map()));
    let shared = byParams.get(params);
    if (!shared) {
      const bytes = exportModel(graph, { opset: this.opset, params }).bytes;
      shared = this.createSession(bytes).then((session) => ({ session, refs: 0 }));
      shared.catch(() => byParams.delete(params));
      byParams.set(params, shared);
    }
    const s = await shared;
    s.refs++;
    const release = () => {
      if (--s.refs === 0) {
        if (byParams.get(params) === shared) byParams.delete(params);
        void s.session.release();
      }
    };
    return new OnnxExecutable(this, graph, params, s.session, release, await this.ort());
  }
}

/** A new ONNX Runtime backend. */
export function createOnnxBackend(opts: OnnxBackendOptions = {}): OnnxBackend {
  return new OnnxBackend(opts);
}

function toOrt(ort: Ort, t: Tensor): OrtTensor {
  if (t.dtype === "bool") return new ort.Tensor("bool", t.data as Uint8Array, [...t.shape]);
  if (t.dtype === "int32") return new ort.Tensor("int32", t.data as Int32Array, [...t.shape]);
  return new ort.Tensor("float32", t.data as Float32Array, [...t.shape]);
}

function fromOrt(t: OrtTensor, name: string): Tensor {
  const shape = t.dims.map(Number);
  const data = t.data;
  switch (t.type) {
    case "float32":
      return new Tensor("float32", shape, Float32Array.from(data as Float32Array), name);
    case "int32":
      return new Tensor("int32", shape, Int32Array.from(data as Int32Array), name);
    case "bool":
      return new Tensor("bool", shape, Uint8Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0)), name);
    default:
      throw new BackendError(`output "${name}": ONNX Runtime returned ${t.type}, which attn has no dtype for`);
  }
}

/**
 * A graph exported to ONNX and loaded into an InferenceSession. Parameters are the model's initializers:
 * `writeParams` re-exports the model with the new values and replaces the session (the old one is released).
 */
export class OnnxExecutable implements Executable {
  private disposed = false;

  constructor(
    private readonly backend: OnnxBackend,
    readonly graph: Graph,
    private params: ReadonlyMap<string, Tensor>,
    private session: OrtSession,
    private release: () => void,
    private readonly ort: Ort,
  ) {}

  async run(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Promise<Record<string, Tensor>> {
    this.live();
    const g = this.graph;
    const names = opts?.outputs ?? g.outputs.map((o) => o.name);
    for (const n of names) {
      if (!g.outputs.some((o) => o.name === n)) throw new BackendError(`unknown output "${n}"; ${g.name} has ${g.outputs.map((x) => x.name).join(", ") || "no outputs"}`);
    }
    bindFeeds(g, feeds);
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const id of g.inputs) {
      const name = g.values[id].name;
      ortFeeds[name] = toOrt(this.ort, feeds[name]);
    }
    let results: Record<string, OrtTensor>;
    try {
      results = (await this.session.run(ortFeeds, [...names])) as Record<string, OrtTensor>;
    } catch (e) {
      throw new BackendError(`ONNX Runtime (${this.backend.runtime}) failed running ${g.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const out: Record<string, Tensor> = {};
    for (const n of names) {
      const t = results[n];
      out[n] = fromOrt(t, n);
      t.dispose?.();
    }
    return out;
  }

  async readParams(): Promise<Map<string, Tensor>> {
    this.live();
    const out = new Map<string, Tensor>();
    for (const p of this.graph.params) {
      const t = this.params.get(p.name);
      if (t) out.set(p.name, new Tensor(t.dtype, t.shape, t.data.slice()));
    }
    return out;
  }

  /**
   * Replaces parameters by name. ONNX Runtime keeps initializers inside the session, so this re-exports the
   * model and creates a new session (a slow call; cheap runs afterwards).
   */
  async writeParams(params: ReadonlyMap<string, Tensor>): Promise<void> {
    this.live();
    const next = new Map(this.params);
    for (const [name, t] of params) {
      const p = this.graph.params.find((x) => x.name === name);
      if (!p) throw new BackendError(`cannot write "${name}": ${this.graph.name} has no such parameter`);
      const want = this.graph.values[p.value].type;
      if (t.dtype !== want.dtype || t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i])) {
        throw new BackendError(`cannot write "${name}": must be ${formatType(want)}, got ${formatType(t)}`);
      }
      next.set(name, new Tensor(t.dtype, t.shape, t.data.slice()));
    }
    const session = await this.backend.createSession(exportModel(this.graph, { opset: this.backend.opset, params: next }).bytes);
    this.release();
    this.session = session;
    this.params = next;
    this.release = () => void session.release();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release();
  }

  private live(): void {
    if (this.disposed) throw new BackendError(`this executable of ${this.graph.name} has been disposed`);
  }
}
