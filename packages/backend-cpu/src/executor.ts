import {
  AttnError, BackendError, Tensor, bindFeeds, checkParamTensor, formatType, isGraph, paramForWrite, planLiveness, requestedOutputs,
  type Executable, type Graph, type Node, type RunOptions, type ShapeEnv, type SourceSpan, type ValueId,
} from "@attn/core";
import { jsGemm, type Gemm } from "./gemm/index.js";
import type { Kernel, KernelContext } from "./kernel.js";
import { foldBatchSums } from "./plan/fold-batch-sums.js";
import { foldTransposes, type FoldOptions } from "./plan/fold-transposes.js";
import { Profiler, type CpuProfile } from "./profile.js";
import { getKernel } from "./registry.js";

/** One node of a schedule, with the values that die after it. */
interface Step {
  readonly node: Node;
  readonly kernel: Kernel;
  readonly inputNames: readonly (string | null)[];
  /** Intermediate values whose last reader is this node (or that nobody reads): dropped after it runs. */
  readonly release: readonly ValueId[];
}

/** The nodes needed for one set of requested outputs, in graph order. */
interface Schedule {
  readonly steps: readonly Step[];
}

/**
 * Rethrows an error raised while running `node` with the node's `.attn` span and op name attached. An
 * error that already carries a span (e.g. from a node inside a scan body) is kept as is, since it is
 * more precise.
 */
export function locate(e: unknown, node: Node): Error {
  if (e instanceof AttnError) {
    if (e.span) return e;
    const named = e.detail.startsWith(`${node.op}:`) || e.detail.startsWith(`${node.op} `);
    if (named && !node.span) return e;
    const Ctor = e.constructor as new (message: string, span?: SourceSpan) => AttnError;
    return new Ctor(named ? e.detail : `${node.op}: ${e.detail}`, node.span);
  }
  const err = new BackendError(`${node.op}: ${e instanceof Error ? e.message : String(e)}`, node.span);
  Object.defineProperty(err, "cause", { value: e, enumerable: false });
  return err;
}

/** Nodes of `graph` and of its subgraphs (scan bodies) whose op has no kernel, in graph order. */
export function unsupportedNodes(graph: Graph): { node: Node; graph: Graph }[] {
  const out: { node: Node; graph: Graph }[] = [];
  for (const node of graph.nodes) {
    for (const v of Object.values(node.attrs)) if (isGraph(v)) out.push(...unsupportedNodes(v));
    if (!getKernel(node.op)) out.push({ node, graph });
  }
  return out;
}

/**
 * A graph checked against the kernel registry and bound to its parameters. Schedules (which nodes run,
 * and after which node each intermediate can be dropped) are computed once per set of requested outputs
 * and cached; the one for all outputs is built at compile time. A schedule runs the graph with its
 * foldable transposes folded into their readers and writers (plan/fold-transposes.ts), and each matmul
 * whose only reader sums it over the batch fused with that sum (plan/fold-batch-sums.ts).
 */
export class GraphPlan {
  /** Resident parameters by value id; a training step's updates replace entries after the run. */
  readonly params: Map<ValueId, Tensor>;
  readonly allOutputs: readonly ValueId[];
  private readonly schedules = new Map<string, Schedule>();

  constructor(
    readonly graph: Graph,
    given: ReadonlyMap<string, Tensor>,
    /** Which transposes may fold (default: only into matmul, which every kernel path reads through strides). */
    private readonly fold: FoldOptions = { attention: false },
  ) {
    const missing = unsupportedNodes(graph);
    if (missing.length) {
      const [first] = missing;
      const others = [...new Set(missing.map((m) => m.node.op))].filter((op) => op !== first.node.op);
      throw new BackendError(
        `the cpu backend has no kernel for op "${first.node.op}" (in graph ${first.graph.name})` +
          (others.length ? `; also unsupported: ${others.map((o) => `"${o}"`).join(", ")}` : ""),
        first.node.span,
      );
    }
    const params = new Map<ValueId, Tensor>();
    for (const p of graph.params) {
      const type = graph.values[p.value].type;
      const t = given.get(p.name);
      if (!t) throw new BackendError(`parameter "${p.name}" (${formatType(type)}) is missing from the compile options`, p.span);
      checkParamTensor(graph, p, t);
      params.set(p.value, t);
    }
    this.params = params;
    this.allOutputs = graph.outputs.map((o) => o.value);
  }

  /** The schedule computing `outputs` (value ids): only the nodes they depend on, with release points. */
  schedule(outputs: readonly ValueId[]): Schedule {
    const key = outputs.join(",");
    let s = this.schedules.get(key);
    if (!s) {
      s = this.build(outputs);
      this.schedules.set(key, s);
    }
    return s;
  }

  private build(outputs: readonly ValueId[]): Schedule {
    const { graph: g, kernels } = foldBatchSums(foldTransposes(this.graph, outputs, this.fold), outputs);
    const name = (id: ValueId) => g.values[id]?.name ?? `#${id}`;
    const steps = planLiveness(g, outputs, this.params.keys()).map(({ node, release }) => ({
      node,
      kernel: kernels.get(node) ?? getKernel(node.op)!,
      inputNames: node.inputs.map((i) => (i === null ? null : name(i))),
      release,
    }));
    return { steps };
  }
}

/** Runs graphs (and their scan bodies) on host tensors. */
export class Executor {
  private readonly plans = new Map<Graph, GraphPlan>();

  constructor(
    private readonly params: ReadonlyMap<string, Tensor>,
    /** The GEMM every matmul and linear of these graphs runs on. */
    readonly gemm: Gemm = jsGemm,
    /** Per-op timing (opt-in): this executor's own profiler, and one it also reports to (the backend's). */
    readonly profiler: Profiler | null = null,
    private readonly sharedProfiler: Profiler | null = null,
    /** `KernelContext.fuseSmallAttention` for every node these graphs run. */
    readonly fuseSmallAttention = false,
  ) {}

  /** The plan of `graph`, created (with every subgraph's) on first use; throws on unsupported ops. */
  plan(graph: Graph): GraphPlan {
    let p = this.plans.get(graph);
    if (p) return p;
    // The fused attention kernel (every path but "js") reads and writes heads in place.
    p = new GraphPlan(graph, this.params, { attention: this.gemm.path !== "js" });
    p.schedule(p.allOutputs);
    this.plans.set(graph, p);
    for (const node of graph.nodes) {
      for (const v of Object.values(node.attrs)) {
        if (!isGraph(v)) continue;
        try {
          this.plan(v);
        } catch (e) {
          throw locate(e, node);
        }
      }
    }
    return p;
  }

  /** Every parameter bound by some plan, by name. */
  boundParams(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const p of this.plans.values()) for (const prm of p.graph.params) out.set(prm.name, p.params.get(prm.value)!);
    return out;
  }

  /**
   * Runs `plan` on `inputs` (one tensor per graph input, already checked) in `env`, computing only what
   * `outputs` need and dropping each intermediate after its last reader.
   */
  execute(plan: GraphPlan, inputs: readonly Tensor[], outputs: readonly ValueId[], env: ShapeEnv): Tensor[] {
    const g = plan.graph;
    if (inputs.length !== g.inputs.length) throw new BackendError(`${g.name} takes ${g.inputs.length} inputs, got ${inputs.length}`);
    const vals = new Array<Tensor | undefined>(g.values.length);
    g.inputs.forEach((id, i) => (vals[id] = inputs[i]));
    for (const [id, t] of plan.params) vals[id] = t;
    const runGraph = (body: Graph, ins: readonly Tensor[]): Tensor[] => {
      const p = this.plan(body);
      return this.execute(p, ins, p.allOutputs, env);
    };
    for (const step of plan.schedule(outputs).steps) {
      const node = step.node;
      const ins = node.inputs.map((id) => {
        if (id === null) return null;
        const t = vals[id];
        if (t === undefined) throw new BackendError(`${node.op}: input "${g.values[id]?.name ?? id}" is not available (internal scheduling error)`, node.span);
        return t;
      });
      const ctx: KernelContext = { op: node.op, env, inputNames: step.inputNames, runGraph, gemm: this.gemm, fuseSmallAttention: this.fuseSmallAttention };
      let outs: Tensor[];
      try {
        outs = this.profiler
          ? this.profiler.time(node.op, () => step.kernel(ins, node.attrs, ctx), this.sharedProfiler)
          : step.kernel(ins, node.attrs, ctx);
      } catch (e) {
        throw locate(e, node);
      }
      if (outs.length !== node.outputs.length) {
        throw new BackendError(`${node.op}: the kernel returned ${outs.length} outputs for a node with ${node.outputs.length}`, node.span);
      }
      for (let i = 0; i < outs.length; i++) vals[node.outputs[i]] = outs[i];
      for (const id of step.release) vals[id] = undefined;
    }
    return outputs.map((id) => vals[id]!);
  }
}

/**
 * A graph compiled for the cpu backend. Parameters are the host tensors given to `compile` (used in place,
 * never copied or modified); `run` validates the feeds with core's `bindFeeds`, runs only what the
 * requested outputs need and returns tensors that share no memory with the feeds or parameters.
 */
export class CpuExecutable implements Executable {
  private executor: Executor | null;
  private readonly plan: GraphPlan;

  constructor(
    readonly graph: Graph,
    params: ReadonlyMap<string, Tensor>,
    gemm: Gemm = jsGemm,
    /** Per-op timing: this executable keeps its own profile and also feeds `profiler` (the backend's). */
    profiler: Profiler | null = null,
    /** Run every softmax attention call on the fused kernel, however small (`KernelContext.fuseSmallAttention`). */
    fuseSmallAttention = false,
  ) {
    this.executor = new Executor(params, gemm, profiler ? new Profiler() : null, profiler, fuseSmallAttention);
    this.plan = this.executor.plan(graph);
  }

  /**
   * Milliseconds per op of every run of this executable so far (self time: a scan's body nodes are
   * charged to their own ops), slowest first. Needs a backend created with `{ profile: true }`; `reset`
   * starts over (e.g. after a warm-up run).
   */
  profile(opts?: { reset?: boolean }): CpuProfile {
    const p = this.live().profiler;
    if (!p) throw new BackendError(`profile(): this executable was compiled without profiling; create the backend with createCpuBackend({ profile: true })`);
    const snap = p.snapshot();
    if (opts?.reset) p.reset();
    return snap;
  }

  async run(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Promise<Record<string, Tensor>> {
    return this.runSync(feeds, opts);
  }

  /** `run`, synchronously. */
  runSync(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Record<string, Tensor> {
    const exec = this.live();
    const g = this.graph;
    const { names, ids } = requestedOutputs(g, opts);
    const env = bindFeeds(g, feeds);
    // Updates are computed in the same pass as the outputs, then assigned (so every read saw the old values).
    const updates = g.updates ?? [];
    const all = exec.execute(this.plan, g.inputs.map((id) => feeds[g.values[id].name]), [...ids, ...updates.map((u) => u.value)], env);
    const results = all.slice(0, ids.length);
    updates.forEach((u, i) => {
      const p = g.params.find((x) => x.name === u.param)!;
      this.plan.params.set(p.value, all[ids.length + i]);
    });
    const owned = new Set<ArrayBufferLike>();
    for (const t of Object.values(feeds)) owned.add(t.data.buffer);
    for (const t of this.plan.params.values()) owned.add(t.data.buffer);
    const out: Record<string, Tensor> = {};
    names.forEach((n, i) => {
      const t = results[i];
      // A view (reshape, a contiguous slice) of a feed or parameter is copied, and so is a view of part of
      // an intermediate's buffer: every returned tensor owns exactly its data.
      const partial = t.data.byteOffset !== 0 || t.data.byteLength !== t.data.buffer.byteLength;
      out[n] = owned.has(t.data.buffer) || partial ? new Tensor(t.dtype, t.shape, t.data.slice()) : t;
    });
    return out;
  }

  async readParams(): Promise<Map<string, Tensor>> {
    const out = new Map<string, Tensor>();
    for (const [name, t] of this.live().boundParams()) out.set(name, new Tensor(t.dtype, t.shape, t.data.slice()));
    return out;
  }

  async writeParams(params: ReadonlyMap<string, Tensor>): Promise<void> {
    this.live();
    for (const [name, t] of params) {
      const p = paramForWrite(this.graph, name, t);
      // A copy: the executable owns its resident tensors (a later update must not alias the caller's).
      this.plan.params.set(p.value, new Tensor(t.dtype, t.shape, t.data.slice()));
    }
  }

  dispose(): void {
    this.executor = null;
  }

  private live(): Executor {
    if (!this.executor) throw new BackendError(`this executable of ${this.graph.name} has been disposed`);
    return this.executor;
  }
}
