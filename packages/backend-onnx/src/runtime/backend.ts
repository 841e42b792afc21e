import { BackendError, Tensor, bindFeeds, checkParamTensor, paramForWrite, requestedOutputs, type Backend, type CompileOptions, type Executable, type Graph, type RunOptions } from "@attn/core";
import { exportModel, updatedName } from "../export/exporter.js";
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
 * A training step (a graph with `updates`) exports with its parameters as graph inputs; its executable keeps
 * them as ORT tensors between runs and replaces each with its `updated:<param>` output after every run.
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

  async compile(graph: Graph, opts: CompileOptions): Promise<OnnxExecutable | OnnxTrainingExecutable> {
    if (graph.updates?.length) return this.compileTraining(graph, opts?.params ?? new Map<string, Tensor>());
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

  /** A training step: one session per compile (its resident parameters are per executable). */
  private async compileTraining(graph: Graph, params: ReadonlyMap<string, Tensor>): Promise<OnnxTrainingExecutable> {
    for (const p of graph.params) {
      const t = params.get(p.name);
      if (!t) throw new BackendError(`parameter "${p.name}" of ${graph.name} has no value (pass it in params)`, p.span);
      checkParamTensor(graph, p, t);
    }
    const { bytes } = exportModel(graph, { opset: trainingOpset(graph, this.opset) });
    const session = await this.createSession(bytes);
    const ort = await this.ort();
    return new OnnxTrainingExecutable(this, graph, session, ort, new Map(graph.params.map((p) => [p.name, toOrt(ort, copy(params.get(p.name)!))])));
  }
}

/**
 * The opset a training step exports at: the backend's, unless the step draws dropout masks, whose hash needs
 * BitwiseXor (opset 18), then 23. The step is our own internal model, never a file the user asked for, so it
 * takes the opset its ops need rather than failing on `dropout(x, p)` in a model trained at the default 17.
 */
function trainingOpset(graph: Graph, opset: 17 | 23): 17 | 23 {
  return opset < 23 && graph.nodes.some((n) => n.op === "dropout_mask") ? 23 : opset;
}

function copy(t: Tensor): Tensor {
  return new Tensor(t.dtype, t.shape, t.data.slice());
}

/** Checks the requested outputs and the feeds of a run; returns the output names. */
function prepareRun(g: Graph, feeds: Readonly<Record<string, Tensor>>, opts: RunOptions | undefined): readonly string[] {
  const { names } = requestedOutputs(g, opts);
  bindFeeds(g, feeds);
  return names;
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
    const names = prepareRun(g, feeds, opts);
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
      paramForWrite(this.graph, name, t);
      next.set(name, copy(t));
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

/**
 * A training step on ONNX Runtime. The exported model takes every parameter (weights and optimizer state) as
 * an input and returns each update as `updated:<param>`; this executable keeps the parameters as ORT
 * tensors, feeds them with the batch, and after each run swaps in the `updated:` outputs (ORT's own output
 * tensors, fed straight back: no conversion to attn tensors in between). Only the requested outputs are
 * converted to attn tensors.
 */
export class OnnxTrainingExecutable implements Executable {
  private disposed = false;
  private readonly fetches: readonly [param: string, output: string][];

  constructor(
    private readonly backend: OnnxBackend,
    readonly graph: Graph,
    private readonly session: OrtSession,
    private readonly ort: Ort,
    /** The resident parameters by name. */
    private readonly resident: Map<string, OrtTensor>,
  ) {
    this.fetches = (graph.updates ?? []).map((u) => [u.param, updatedName(u.param)]);
  }

  async run(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Promise<Record<string, Tensor>> {
    this.live();
    const g = this.graph;
    const names = prepareRun(g, feeds, opts);
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const id of g.inputs) {
      const name = g.values[id].name;
      ortFeeds[name] = toOrt(this.ort, feeds[name]);
    }
    for (const [name, t] of this.resident) ortFeeds[name] = t;
    let results: Record<string, OrtTensor>;
    try {
      results = (await this.session.run(ortFeeds, [...new Set([...names, ...this.fetches.map(([, o]) => o)])])) as Record<string, OrtTensor>;
    } catch (e) {
      throw new BackendError(`ONNX Runtime (${this.backend.runtime}) failed running ${g.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const out: Record<string, Tensor> = {};
    for (const n of names) {
      out[n] = fromOrt(results[n], n);
      results[n].dispose?.();
    }
    // Every read of this run saw the old values; now the updates take their place.
    const old = new Set(this.resident.values());
    for (const [param, o] of this.fetches) this.resident.set(param, results[o]);
    const kept = new Set(this.resident.values());
    for (const t of old) if (!kept.has(t)) t.dispose?.();
    return out;
  }

  async readParams(): Promise<Map<string, Tensor>> {
    this.live();
    const out = new Map<string, Tensor>();
    for (const p of this.graph.params) out.set(p.name, fromOrt(this.resident.get(p.name)!, p.name));
    return out;
  }

  /** Replaces resident parameters by name (no new session: parameters are inputs of a training step). */
  async writeParams(params: ReadonlyMap<string, Tensor>): Promise<void> {
    this.live();
    for (const [name, t] of params) paramForWrite(this.graph, name, t);
    for (const [name, t] of params) {
      const prev = this.resident.get(name);
      this.resident.set(name, toOrt(this.ort, copy(t)));
      if (prev && ![...this.resident.values()].includes(prev)) prev.dispose?.();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of new Set(this.resident.values())) t.dispose?.();
    this.resident.clear();
    void this.session.release();
  }

  private live(): void {
    if (this.disposed) throw new BackendError(`this executable of ${this.graph.name} has been disposed`);
  }
}
