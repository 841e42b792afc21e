/// <reference types="webgpu" />
import {
  AttnError, BackendError, Tensor, allocArray, bindFeeds, formatType, isGraph, paramForWrite, planLiveness, requestedOutputs,
  type Attrs, type Backend, type CompileOptions, type ConstantValue, type Executable, type Graph, type Node, type RunOptions, type SourceSpan, type ValueId,
} from "@attn/core";
import { BufferPool, readback, upload, writeTensor, type GpuTensor, type PoolStats } from "./buffers.js";
import { acquireDevice, type DeviceOptions, type GpuContext } from "./device.js";
import { PipelineCache, type Kernel, type KernelContext } from "./kernel.js";
import { getKernel, supportedOps } from "./registry.js";

/** Attaches `node`'s op and `.attn` span to an error raised while recording it. */
function locate(e: unknown, node: Node): Error {
  if (e instanceof AttnError) {
    if (e.span) return e;
    const Ctor = e.constructor as new (message: string, span?: SourceSpan) => AttnError;
    return new Ctor(e.detail.startsWith(`${node.op}`) ? e.detail : `${node.op}: ${e.detail}`, node.span);
  }
  const err = new BackendError(`${node.op}: ${e instanceof Error ? e.message : String(e)}`, node.span);
  Object.defineProperty(err, "cause", { value: e, enumerable: false });
  return err;
}

interface Step {
  readonly node: Node;
  readonly kernel: Kernel;
  /** Values whose last reader is this node (or that nobody reads): back to the pool after it. */
  readonly release: readonly ValueId[];
}

/**
 * The WebGPU backend: WGSL compute kernels over device-resident float32 / int32 / bool (u32) buffers. One
 * device per backend, acquired on first compile; parameters and constants stay resident; each run records
 * one command buffer and reads back only the requested outputs.
 */
export class WebGpuBackend implements Backend {
  readonly name = "webgpu";
  private ctx: Promise<GpuContext> | null = null;
  private current: GpuContext | null = null;

  constructor(private readonly opts: DeviceOptions = {}) {}

  supports(op: string): boolean {
    return getKernel(op) !== undefined;
  }

  /** The ops with a WGSL kernel, sorted. */
  ops(): string[] {
    return supportedOps();
  }

  /**
   * The device context (acquired once, and again after a loss; rejects with a one-sentence reason when
   * there is no adapter). Executables compiled on a lost device keep throwing its lost error.
   */
  gpu(): Promise<GpuContext> {
    if (this.current?.lost) this.ctx = this.current = null;
    this.ctx ??= acquireDevice(this.opts).then((c) => (this.current = c));
    this.ctx.catch(() => (this.ctx = null));
    return this.ctx;
  }

  /**
   * Checks every node against the kernel registry (BackendError naming the first unsupported op and its
   * `.attn` span), rejects graphs with `updates`, then uploads the parameters and constants once.
   */
  async compile(graph: Graph, opts: CompileOptions): Promise<WebGpuExecutable> {
    for (const node of graph.nodes) {
      if (!getKernel(node.op) || Object.values(node.attrs).some(isGraph)) {
        throw new BackendError(`the webgpu backend has no WGSL kernel for op "${node.op}" yet (in graph ${graph.name})`, node.span);
      }
    }
    if (graph.updates?.length) throw new BackendError(`${graph.name} updates parameters: training on WebGPU comes with the backward kernels`);
    for (const p of graph.params) {
      const type = graph.values[p.value].type;
      const t = opts.params.get(p.name);
      if (!t) throw new BackendError(`parameter "${p.name}" (${formatType(type)}) is missing from the compile options`, p.span);
      if (t.dtype !== type.dtype || t.shape.length !== type.shape.length || t.shape.some((d, i) => d !== type.shape[i])) {
        throw new BackendError(`parameter "${p.name}" must be ${formatType(type)}, got ${formatType(t)}`, p.span);
      }
    }
    return new WebGpuExecutable(graph, await this.gpu(), opts.params);
  }
}

/** A new WebGPU backend (the device is acquired on the first compile). */
export function createWebGpuBackend(opts: DeviceOptions = {}): WebGpuBackend {
  return new WebGpuBackend(opts);
}

/** A graph compiled for WebGPU: resident parameters and constants, pipelines cached across runs. */
export class WebGpuExecutable implements Executable {
  private readonly device: GPUDevice;
  private readonly pool: BufferPool;
  private readonly pipelines: PipelineCache;
  private readonly params = new Map<ValueId, GpuTensor>();
  private readonly constants = new Map<Attrs, GpuTensor>();
  private readonly schedules = new Map<string, Step[]>();
  private disposed = false;
  /** Runs are serialised: pooled buffers are reused only once the previous run completed. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly graph: Graph,
    private readonly gpu: GpuContext,
    params: ReadonlyMap<string, Tensor>,
  ) {
    this.device = gpu.device;
    this.pool = new BufferPool(this.device);
    this.pipelines = new PipelineCache(this.device);
    for (const p of graph.params) this.params.set(p.value, upload(this.device, this.pool, params.get(p.name)!, true));
    for (const n of graph.nodes) {
      if (n.op !== "constant") continue;
      const { dtype, data, shape } = n.attrs.value as unknown as ConstantValue;
      const host = allocArray(dtype, data.length);
      for (let i = 0; i < data.length; i++) {
        const v = data[i] as number | boolean;
        host[i] = typeof v === "boolean" ? (v ? 1 : 0) : dtype === "bool" ? (v !== 0 ? 1 : 0) : v;
      }
      this.constants.set(n.attrs, upload(this.device, this.pool, new Tensor(dtype, shape, host), true));
    }
  }

  /** Buffers the pool created so far (reuse keeps this flat across runs). */
  get buffersCreated(): number {
    return this.pool.created;
  }

  /** The buffer pool's counters: buffers created, bytes allocated, live, in use and pooled. */
  memory(): PoolStats {
    return this.pool.stats();
  }

  run(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Promise<Record<string, Tensor>> {
    const r = this.queue.then(() => this.runNow(feeds, opts)).catch((e: unknown) => this.lostOr(e));
    this.queue = r.catch(() => undefined);
    return r;
  }

  /**
   * Rethrows `e`, or the device's lost error when the device went away under the run (Dawn rejects an
   * in-flight readback with a bare AbortError; `device.lost` settles a task later).
   */
  private async lostOr(e: unknown): Promise<never> {
    if (!this.gpu.lost) await new Promise((r) => setTimeout(r, 0));
    throw this.gpu.lost ?? e;
  }

  private async runNow(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Promise<Record<string, Tensor>> {
    this.live();
    const g = this.graph;
    const { names, ids } = requestedOutputs(g, opts);
    const env = bindFeeds(g, feeds);
    const vals = new Map<ValueId, GpuTensor>(this.params);
    const owned: GpuTensor[] = [];
    for (const id of g.inputs) {
      const t = upload(this.device, this.pool, feeds[g.values[id].name], false);
      vals.set(id, t);
      owned.push(t);
    }
    const scratch: GPUBuffer[] = [];
    this.device.pushErrorScope("validation");
    let scoped = true;
    const popScope = async () => {
      if (!scoped) return;
      scoped = false;
      const err = await this.device.popErrorScope();
      if (err) throw new BackendError(`WebGPU validation error while running ${g.name}: ${err.message}`);
    };
    const encoder = this.device.createCommandEncoder();
    const base = { device: this.device, pool: this.pool, pipelines: this.pipelines, encoder, env, scratch, constants: this.constants };
    try {
      for (const step of this.schedule(ids)) {
        const node = step.node;
        const ins = node.inputs.map((id) => (id === null ? null : vals.get(id)!));
        const ctx: KernelContext = { ...base, op: node.op };
        let outs: GpuTensor[];
        try {
          outs = step.kernel(ins, node.attrs, ctx);
        } catch (e) {
          throw locate(e, node);
        }
        node.outputs.forEach((o, i) => vals.set(o, outs[i]));
        for (const id of step.release) {
          this.pool.release(vals.get(id)!);
          vals.delete(id);
        }
      }
      this.device.queue.submit([encoder.finish()]);
      const results = ids.map((id) => vals.get(id)!);
      await popScope();
      const host = await readback(this.pool, results);
      if (this.gpu.lost) throw this.gpu.lost;
      for (const t of new Set([...owned, ...results])) this.pool.release(t);
      const out: Record<string, Tensor> = {};
      names.forEach((n, i) => (out[n] = host[i]));
      return out;
    } finally {
      await popScope().catch(() => undefined);
      this.pool.releaseScratch(scratch);
    }
  }

  /** The steps computing `outputs`: only the nodes they need, each with the values that die after it. */
  private schedule(outputs: readonly ValueId[]): Step[] {
    const key = outputs.join(",");
    const cached = this.schedules.get(key);
    if (cached) return cached;
    const steps = planLiveness(this.graph, outputs, this.params.keys()).map(({ node, release }) => ({ node, kernel: getKernel(node.op)!, release }));
    this.schedules.set(key, steps);
    return steps;
  }

  async readParams(): Promise<Map<string, Tensor>> {
    this.live();
    await this.queue;
    const ps = this.graph.params;
    const host = await readback(this.pool, ps.map((p) => this.params.get(p.value)!));
    return new Map(ps.map((p, i) => [p.name, host[i]]));
  }

  async writeParams(params: ReadonlyMap<string, Tensor>): Promise<void> {
    this.live();
    await this.queue;
    for (const [name, t] of params) {
      const p = paramForWrite(this.graph, name, t);
      writeTensor(this.device, this.params.get(p.value)!, t);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.destroy();
  }

  private live(): void {
    if (this.disposed) throw new BackendError(`this executable of ${this.graph.name} has been disposed`);
    if (this.gpu.lost) throw this.gpu.lost;
  }
}
