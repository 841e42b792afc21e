import { AttnError, BackendError, ShapeEnv, getOp, type Backend, type CompileOptions, type Graph, type Node, type Tensor } from "@attn/core";
import { CpuExecutable, Executor, locate } from "./executor.js";
import { gemmFor, wasmSimdSupported, type Gemm, type KernelPath } from "./gemm/index.js";
import { defaultThreads, ThreadedGemm, threadsSupported, threadsUnavailable, workerHostKind, type ThreadPool } from "./threads/index.js";
import type { KernelContext } from "./kernel.js";
import { Profiler, type CpuProfile } from "./profile.js";
import { getKernel, supports, supportedOps } from "./registry.js";

/**
 * Which kernels the backend runs:
 * - `"js"`: the portable path, plain JavaScript everywhere (dot products accumulated in double);
 * - `"wasm-simd"`: matmul and linear (and the gradients built from them) on a WebAssembly SIMD128 GEMM,
 *   softmax attention and its gradient on a fused WebAssembly SIMD flash-attention kernel, single-threaded,
 *   accumulating in float32; the other ops as on `"js"`;
 * - `"wasm-simd-threads"`: the same kernels, each large GEMM and attention call split over worker threads
 *   (Node `worker_threads`, or Web Workers when the backend runs in a dedicated Web Worker of a
 *   cross-origin-isolated page; the calling thread takes a share and blocks in `Atomics.wait` for the rest),
 *   with the same results as `"wasm-simd"`, bit for bit;
 * - `"auto"` (default): `"wasm-simd-threads"` where threads can run here and more than one core is
 *   available, else `"wasm-simd"` where `WebAssembly.validate` accepts the SIMD module, else `"js"`.
 */
export type CpuKernels = KernelPath | "auto";

/** Options of `createCpuBackend`. */
export interface CpuBackendOptions {
  /**
   * The kernel path. Absent: the `ATTN_CPU_KERNELS` environment variable where there is one (Node), else
   * `"auto"`. An explicit option wins over the variable.
   */
  readonly kernels?: CpuKernels;
  /**
   * Time every kernel call (opt-in; a `performance.now()` pair per node). `backend.profile()` then gives
   * milliseconds per op over every executable this backend compiled (e.g. the ones a `Trainer` holds),
   * and each executable's `profile()` its own.
   */
  readonly profile?: boolean;
  /**
   * Threads of the `"wasm-simd-threads"` path, the calling thread included (default: the available
   * parallelism, at most 8; else the `ATTN_CPU_THREADS` environment variable where set). 1 runs the
   * threaded code on the calling thread alone.
   */
  readonly threads?: number;
  /**
   * `"wasm-simd-threads"`: calls below this many flops stay on the calling thread (default
   * `MIN_PARALLEL_FLOPS`, 2²³). 0 sends every GEMM and attention call through the threads, split into
   * chunks however small (the test suites use it to exercise the threaded code on small cases).
   */
  readonly threadMinFlops?: number;
  /**
   * The wasm paths: run every softmax `attention` and `attention_grad` call on the fused flash-attention
   * kernel, however small. Default false: a call whose per-head problem fills less than 1/32 of the
   * kernel's 64-query × 64-key tiles (Tq·Tk·32 ≤ ⌈Tq⌉₆₄·⌈Tk⌉₆₄, e.g. any one-query decoder step) runs the
   * portable kernel, which is faster there. The test suites set it to exercise the fused kernel on small
   * cases.
   */
  readonly fuseSmallAttention?: boolean;
}

const PATHS: readonly CpuKernels[] = ["auto", "js", "wasm-simd", "wasm-simd-threads"];

function envVar(name: string): string | undefined {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return v === "" ? undefined : v;
}

/** The thread count of a backend created with `requested` threads (the env variable fills in an absent one). */
export function resolveThreads(requested?: number): number {
  let n = requested;
  if (n === undefined) {
    const env = envVar("ATTN_CPU_THREADS");
    if (env !== undefined) {
      n = Number(env);
      if (!Number.isInteger(n) || n < 1) throw new BackendError(`ATTN_CPU_THREADS is "${env}"; expected an integer ≥ 1`);
    }
  }
  if (n === undefined) return defaultThreads();
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new BackendError(`threads is ${String(n)}; expected an integer from 1 to 256`);
  return n;
}

/** The kernel path a backend created with `requested` uses here (the env variable fills in an absent one). */
export function resolveKernels(requested?: CpuKernels): KernelPath {
  let want = requested;
  if (want === undefined) {
    const env = envVar("ATTN_CPU_KERNELS");
    if (env !== undefined) {
      if (!PATHS.includes(env as CpuKernels)) {
        throw new BackendError(`ATTN_CPU_KERNELS is "${env}"; expected one of ${PATHS.map((p) => `"${p}"`).join(", ")}`);
      }
      want = env as CpuKernels;
    }
  }
  want ??= "auto";
  if (!PATHS.includes(want)) throw new BackendError(`kernels is "${String(want)}"; expected one of ${PATHS.map((p) => `"${p}"`).join(", ")}`);
  if (want === "auto") {
    if (threadsSupported() && defaultThreads() > 1) return "wasm-simd-threads";
    return wasmSimdSupported() ? "wasm-simd" : "js";
  }
  if (want === "wasm-simd" && !wasmSimdSupported()) {
    throw new BackendError(`kernels "wasm-simd" was asked for, but this runtime cannot run WebAssembly SIMD; use "js" or "auto"`);
  }
  const why = want === "wasm-simd-threads" ? threadsUnavailable() : null;
  if (why !== null) {
    throw new BackendError(
      `kernels "wasm-simd-threads" was asked for, but it cannot run here: ${why}. It needs WebAssembly SIMD, SharedArrayBuffer and Atomics, workers (Node's worker_threads, or Web Workers in a cross-origin-isolated page) and a calling thread that may block in Atomics.wait (in browsers, a dedicated Web Worker); use "wasm-simd" or "auto"`,
    );
  }
  return want;
}

/**
 * The reference CPU backend: float32 kernels for every op of the IR catalogue (docs/ir.md), run node by
 * node over host tensors; matmul and linear on the GEMM of its kernel path (see `CpuKernels`).
 */
export class CpuBackend implements Backend {
  readonly name = "cpu";
  /** The kernel path in use (never `"auto"`: resolved when the backend is created). */
  readonly kernels: KernelPath;
  /** One line naming the backend and its kernel path, e.g. `cpu (wasm-simd: WebAssembly SIMD128 GEMM and flash attention, 1 thread)`. */
  readonly description: string;
  /** Threads the kernels use (1 except on `"wasm-simd-threads"`). */
  readonly threads: number;
  private readonly gemm: Gemm;
  private readonly profiler: Profiler | null;
  private readonly fuseSmallAttention: boolean;

  constructor(opts: CpuBackendOptions = {}) {
    this.profiler = opts.profile ? new Profiler() : null;
    this.fuseSmallAttention = opts.fuseSmallAttention === true;
    this.kernels = resolveKernels(opts.kernels);
    if (this.kernels === "wasm-simd-threads") {
      this.threads = resolveThreads(opts.threads);
      this.gemm = new ThreadedGemm(this.threads, opts.threadMinFlops);
    } else {
      this.threads = 1;
      this.gemm = gemmFor(this.kernels);
    }
    this.description =
      this.kernels === "js"
        ? "cpu (js: portable JavaScript kernels)"
        : this.kernels === "wasm-simd"
          ? "cpu (wasm-simd: WebAssembly SIMD128 GEMM and flash attention, 1 thread)"
          : `cpu (wasm-simd-threads: WebAssembly SIMD128 GEMM and flash attention, ${this.threads} thread${this.threads === 1 ? "" : "s"})`;
  }

  /**
   * The worker pool of the `"wasm-simd-threads"` path (null on the other paths). Its counters
   * (`workers`, `readyWorkers`, `workerChunks`) tell whether calls really ran on worker threads.
   */
  get threadPool(): ThreadPool | null {
    return this.gemm instanceof ThreadedGemm ? this.gemm.pool : null;
  }

  /**
   * Terminates the worker threads of the `"wasm-simd-threads"` path (a no-op on the other paths). The
   * workers never keep a process alive, so this is for freeing them early; executables compiled by this
   * backend keep working (a later threaded call starts new workers).
   */
  dispose(): Promise<void> {
    return this.gemm instanceof ThreadedGemm ? this.gemm.dispose() : Promise.resolve();
  }

  /** `dispose()`. */
  close(): Promise<void> {
    return this.dispose();
  }

  supports(op: string): boolean {
    return supports(op);
  }

  /** The ops this backend implements, sorted. */
  ops(): string[] {
    return supportedOps();
  }

  /**
   * Checks every node (scan bodies included) against the kernel registry, binds the parameters and
   * plans the run. Rejects with a BackendError naming an unsupported op and its `.attn` span, or a
   * missing or mis-shaped parameter. On `"wasm-simd-threads"` in a browser it also starts the Web Workers
   * and waits until they serve (`ThreadPool.ready`): a browser starts them only while this thread is back
   * in its event loop, which the synchronous kernels never give it.
   */
  async compile(graph: Graph, opts?: CompileOptions): Promise<CpuExecutable> {
    const exe = this.compileSync(graph, opts);
    const pool = this.threadPool;
    if (pool && pool.threads > 1 && workerHostKind() === "web") await pool.ready();
    return exe;
  }

  /** `compile`, synchronously. */
  compileSync(graph: Graph, opts?: CompileOptions): CpuExecutable {
    return new CpuExecutable(graph, opts?.params ?? new Map(), this.gemm, this.profiler, this.fuseSmallAttention);
  }

  /**
   * Milliseconds per op over every run of every executable this backend compiled (self time, slowest
   * first). Needs `{ profile: true }`; `reset` starts over (e.g. after warm-up steps).
   */
  profile(opts?: { reset?: boolean }): CpuProfile {
    if (!this.profiler) throw new BackendError(`profile(): this backend was created without profiling; use createCpuBackend({ profile: true })`);
    const snap = this.profiler.snapshot();
    if (opts?.reset) this.profiler.reset();
    return snap;
  }

  /**
   * Evaluates one node on host tensors (core's constant folding). `inputs` holds the node's present
   * inputs in order. Returns `[]` (leave the node unfolded) when the node cannot be evaluated without the
   * feeds, e.g. a reshape to `[B, 4]` whose `B` only the feeds bind, and also on any other attn error: a
   * node that really is wrong then fails at run time, where the error carries the run's bindings and the
   * node's span. Errors that are not attn errors (bugs) propagate.
   */
  evaluateNode(node: Node, inputs: readonly Tensor[]): Tensor[] {
    const kernel = getKernel(node.op);
    if (!kernel) throw new BackendError(`the cpu backend has no kernel for op "${node.op}"`, node.span);
    let next = 0;
    const ins = inputs.length === node.inputs.length ? [...inputs] : node.inputs.map((id) => (id === null ? null : (inputs[next++] ?? null)));
    const specs = getOp(node.op).inputs;
    const variadic = specs.findIndex((s) => s.variadic);
    const inputNames = ins.map((_, i) => specs[variadic >= 0 && i >= variadic ? variadic : i]?.name ?? null);
    const executor = new Executor(new Map(), this.gemm, null, null, this.fuseSmallAttention);
    const env = new ShapeEnv();
    const ctx: KernelContext = {
      op: node.op,
      env,
      inputNames,
      gemm: this.gemm,
      fuseSmallAttention: this.fuseSmallAttention,
      runGraph: (body, bodyInputs) => {
        const plan = executor.plan(body);
        return executor.execute(plan, bodyInputs, plan.allOutputs, env);
      },
    };
    try {
      return kernel(ins, node.attrs, ctx);
    } catch (e) {
      if (e instanceof AttnError) return [];
      throw locate(e, node);
    }
  }
}

/** A new CPU backend (kernel path: `opts.kernels`, else `ATTN_CPU_KERNELS`, else `"auto"`). */
export function createCpuBackend(opts: CpuBackendOptions = {}): CpuBackend {
  return new CpuBackend(opts);
}
