/// <reference types="webgpu" />
import {
  BackendError, Tensor, allocArray, bindFeeds, formatType, paramForWrite, requestedOutputs,
  type Attrs, type Backend, type CompileOptions, type ConstantValue, type Executable, type Graph, type RunOptions, type ValueId,
} from "@attn/core";
import { BufferPool, readback, upload, WORD, writeTensor, type GpuTensor, type PoolStats } from "./buffers.js";
import { CheckChannel } from "./checks.js";
import { acquireDevice, type DeviceOptions, type GpuContext } from "./device.js";
import { PipelineCache } from "./kernel.js";
import { allNodes, firstUnsupported, planSteps, recordSteps, type Step } from "./record.js";
import { getKernel, supportedOps } from "./registry.js";

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
   * `.attn` span), then uploads the parameters and constants once.
   */
  async compile(graph: Graph, opts: CompileOptions): Promise<WebGpuExecutable> {
    const missing = firstUnsupported(graph);
    if (missing) throw new BackendError(`the webgpu backend has no WGSL kernel for op "${missing.node.op}" yet (in graph ${missing.graph.name})`, missing.node.span);
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
    this.pipelines = PipelineCache.for(this.device);
    for (const p of graph.params) this.params.set(p.value, upload(this.device, this.pool, params.get(p.name)!, true));
    for (const n of allNodes(graph)) {
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
    const pool = this.pool;
    // every buffer this run takes is on the pool's ledger, so a run that fails partway hands back what
    // its half-recorded values, a kernel's temporaries or a scan body still held (see closeRun below)
    pool.openRun();
    let completed = false;
    const scratch: GPUBuffer[] = [];
    this.device.pushErrorScope("validation");
    let scoped = true;
    const popScope = async () => {
      if (!scoped) return;
      scoped = false;
      const err = await this.device.popErrorScope();
      if (err) throw new BackendError(`WebGPU validation error while running ${g.name}: ${err.message}`);
    };
    try {
      const vals = new Map<ValueId, GpuTensor>(this.params);
      const owned: GpuTensor[] = [];
      for (const id of g.inputs) {
        const t = upload(this.device, pool, feeds[g.values[id].name], false);
        vals.set(id, t);
        owned.push(t);
      }
      const encoder = this.device.createCommandEncoder();
      const checks = new CheckChannel(pool, encoder);
      const paramsByName = new Map(g.params.map((p) => [p.name, this.params.get(p.value)!]));
      const base = { device: this.device, pool, pipelines: this.pipelines, encoder, env, scratch, constants: this.constants, paramsByName, checks };
      const updates = g.updates ?? [];
      recordSteps(this.schedule([...ids, ...updates.map((u) => u.value)]), vals, base);
      const outputs = ids.map((id) => vals.get(id)!);
      const values = updates.map((u) => vals.get(u.value)!);
      // A run with data checks copies its updates into the parameters only once the checks have passed:
      // a failing run must leave weights and optimizer state as they were, as on the cpu backend (whose
      // kernel throws before any update). Runs without checks keep the single submit.
      const deferUpdates = checks.tensors.length > 0 && values.length > 0;
      const recorded = deferUpdates ? { results: outputs, held: [] as GpuTensor[] } : this.recordUpdates(encoder, outputs, values);
      const results = recorded.results;
      let held = recorded.held;
      this.device.queue.submit([encoder.finish()]);
      await popScope();
      // one readback: the requested outputs and the status words of the run's checks
      const host = await readback(pool, [...results, ...checks.tensors]);
      if (this.gpu.lost) throw this.gpu.lost;
      const failure = checks.verdict(host.slice(results.length).map((t) => t.data));
      if (failure) throw failure;
      if (deferUpdates) held = this.submitUpdates(values);
      for (const t of new Set([...owned, ...results, ...held, ...checks.tensors])) pool.release(t);
      const out: Record<string, Tensor> = {};
      names.forEach((n, i) => (out[n] = host[i]));
      completed = true;
      return out;
    } finally {
      await popScope().catch(() => undefined);
      pool.releaseScratch(scratch);
      // a run that threw: its encoder was never submitted, or it completed (the readback waited for it),
      // so every buffer it still holds can go back to the pool
      pool.closeRun(!completed);
    }
  }

  /** Records and submits the copies of `graph.updates` on their own (after a run's checks passed); returns the tensors to release. */
  private submitUpdates(values: GpuTensor[]): GpuTensor[] {
    const encoder = this.device.createCommandEncoder();
    const { held } = this.recordUpdates(encoder, [], values);
    this.device.queue.submit([encoder.finish()]);
    return held;
  }

  /**
   * Records `graph.updates` after the run's kernels: each update's value is copied into its parameter's
   * resident buffer, so weights and optimizer state stay on the device across steps. Every read of the run
   * was recorded before these copies, so it saw the old values (docs/ir.md). Two aliasing cases need a
   * staging copy first: a requested output held in an updated parameter's buffer (it must show the value
   * from before the run, and is read back only after the copies), and an update value held in another
   * updated parameter's buffer (a swap would otherwise read a buffer an earlier copy overwrote). A value
   * that already is its parameter's buffer (an optimizer state passed through) needs no copy. Returns the
   * outputs to read back and the tensors to release once they are read.
   */
  private recordUpdates(encoder: GPUCommandEncoder, outputs: GpuTensor[], values: GpuTensor[]): { results: GpuTensor[]; held: GpuTensor[] } {
    if (!values.length) return { results: outputs, held: [] };
    const targets = this.graph.updates!.map((u) => this.params.get(this.graph.params.find((p) => p.name === u.param)!.value)!);
    const overwritten = new Set(targets.map((t) => t.storage));
    const held: GpuTensor[] = [...values];
    const stage = (t: GpuTensor) => {
      const copy = this.pool.tensor(t.dtype, t.shape);
      if (t.size > 0) encoder.copyBufferToBuffer(t.buffer, 0, copy.buffer, 0, t.size * WORD);
      held.push(copy);
      return copy;
    };
    const results = outputs.map((t) => (overwritten.has(t.storage) ? stage(t) : t));
    const sources = values.map((v, i) => (v.storage === targets[i].storage ? null : overwritten.has(v.storage) ? stage(v) : v));
    sources.forEach((v, i) => {
      if (v && v.size > 0) encoder.copyBufferToBuffer(v.buffer, 0, targets[i].buffer, 0, v.size * WORD);
    });
    return { results, held };
  }

  /** The steps computing `outputs`: only the nodes they need, each with the values that die after it. */
  private schedule(outputs: readonly ValueId[]): Step[] {
    const key = outputs.join(",");
    const cached = this.schedules.get(key);
    if (cached) return cached;
    const steps = planSteps(this.graph, outputs, this.params.keys());
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
