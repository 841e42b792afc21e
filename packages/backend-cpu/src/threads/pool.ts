import { BackendError } from "@attn/core";
import type { FlashProblem } from "../flash/wasm.js";
import type { GemmArgs } from "../gemm/types.js";
import { wasmSimdSupported } from "../gemm/wasm.js";
import { decodeModule, webAssembly, type WasmMemory } from "../util/wasm-api.js";
import { ATTENTION_SHARED_WASM } from "../wasm/attention.js";
import { GEMM_SHARED_WASM } from "../wasm/gemm.js";
import { hostParallelism, workerHost, workersUnavailable, type HostedWorker, type WorkerHost } from "./host.js";
import { CTL, FLASH_BITS, JOB, P, threadProgram, type ThreadRunner } from "./program.js";

/**
 * Whether the calling thread may block in `Atomics.wait` (Node: any thread; browsers: workers only); null
 * where there is no SharedArrayBuffer to try it on (a page that is not cross-origin isolated).
 */
function canBlock(): boolean | null {
  if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") return null;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let unavailable: string | null | undefined;
/**
 * Why `"wasm-simd-threads"` cannot run on this thread (every reason, joined by "; "), or null when it can.
 * It needs WebAssembly SIMD, SharedArrayBuffer and Atomics (in browsers: a cross-origin-isolated page),
 * workers to start (Node's `worker_threads`, reached through `process.getBuiltinModule`; Web Workers from a
 * Blob URL in browsers), and a calling thread that may block in `Atomics.wait` (in browsers: a dedicated
 * Web Worker, never the page's main thread).
 */
export function threadsUnavailable(): string | null {
  if (unavailable === undefined) {
    const why: string[] = [];
    if (!wasmSimdSupported()) why.push("this runtime has no WebAssembly SIMD");
    const workers = workersUnavailable();
    if (workers !== null) why.push(workers);
    else if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") why.push("this runtime has no SharedArrayBuffer and Atomics");
    // Without SharedArrayBuffer the wait cannot be tried; a page's main thread (it has a document) never may.
    const blocks = canBlock() ?? (typeof (globalThis as { document?: unknown }).document === "object" ? false : null);
    if (blocks === false) why.push("this thread may not block in Atomics.wait (a browser page's main thread: run the model in a dedicated Web Worker)");
    unavailable = why.length > 0 ? why.join("; ") : null;
  }
  return unavailable;
}

/**
 * Whether `"wasm-simd-threads"` can run here (`threadsUnavailable()` is null): Node ≥ 20.16, or a dedicated
 * Web Worker of a cross-origin-isolated page.
 */
export function threadsSupported(): boolean {
  return threadsUnavailable() === null;
}

/** The default thread count: the runtime's available parallelism, at most 8 (1 where unknown). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(8, Math.floor(hostParallelism()) || 1));
}

/**
 * Below this many flops (2·M·N·K over the products of a GEMM, 4·heads·Tq·Tk·D for attention) a call stays
 * on the calling thread's single-threaded kernels (a job costs some 10–50 µs of hand-off and wake-up).
 */
export const MIN_PARALLEL_FLOPS = 2 ** 23;
/**
 * What the calling thread does after publishing a job, while the workers start on it: copies the job's
 * operands into the arena (`[source, arena offset]`), then touches the pages of the freshly allocated
 * result buffers in `touch` (see `touchPages`). With `groups` > 0 (attention) each operand holds that many
 * equal head groups, copied group by group, and ctl[LOADED] counts the groups in; with `groups` 0 (GEMM)
 * the operands are copied in arena order, in slices, and ctl[LOADED] is the arena offset (floats) below
 * which everything is in (program.ts: `loaded`).
 */
interface Loader {
  readonly groups: number;
  readonly parts: readonly (readonly [Float32Array, number])[];
  readonly touch?: readonly Float32Array[];
}
/** The floats a GEMM operand is copied in per announcement (1 MiB). */
const LOAD_SLICE = 2 ** 18;
/** ctl[LOADED] of a job that copies nothing after publishing. */
const ALL_LOADED = 0x7fffffff;
/** How long the calling thread polls for the workers' last chunks before it sleeps (ms). */
const WAIT_SPIN_MS = 0.5;
/** The most chunks one job may have (the claim word holds a 16-bit index). */
const MAX_CHUNKS = 0xfff0;
/** The largest arena (bytes); a call that needs more runs single-threaded. */
const MAX_ARENA = 2 ** 31 - 2 ** 16;
/**
 * The arena bytes above which an attention job runs in batches of head groups: the arena (which never
 * shrinks) then holds a few heads' operands rather than copies of whole tensors, which keeps the threaded
 * path's peak memory near the single-threaded one's at long sequences.
 */
const BATCH_BYTES = 32 * 2 ** 20;
const PAGE = 65536;
/** The longest worker error message kept (UTF-16 code units). */
const ERR_TEXT = 1024;

let modules: { gemm: object; flash: object } | null = null;
/** The shared-memory builds of the GEMM and attention modules, which every thread instantiates on the arena. */
function wasmModules(): { gemm: object; flash: object } {
  const wa = webAssembly();
  if (!wa) throw new BackendError("wasm-simd-threads: this runtime has no WebAssembly");
  return (modules ??= {
    gemm: new wa.Module(decodeModule("wasm gemm (shared memory)", GEMM_SHARED_WASM)),
    flash: new wa.Module(decodeModule("wasm attention (shared memory)", ATTENTION_SHARED_WASM)),
  });
}

/**
 * The arena: a shared `WebAssembly.Memory` (not a SharedArrayBuffer) because growing it needs no message to
 * the workers (see program.ts). Its maximum is only reserved address space; where a runtime cannot reserve
 * 2 GiB (a 32-bit browser), smaller maxima are tried, and calls past the one granted run single-threaded.
 */
function arenaMemory(bytes: number): WasmMemory {
  const wa = webAssembly()!;
  const initial = arenaSize(bytes, 0) / PAGE;
  let err: unknown;
  for (const maximum of [MAX_ARENA / PAGE, 2 ** 14, 2 ** 12]) {
    if (maximum < initial) break;
    try {
      return new wa.Memory({ initial, maximum, shared: true });
    } catch (e) {
      err = e;
    }
  }
  throw new BackendError(`wasm-simd-threads: cannot make a shared WebAssembly.Memory of ${bytes} bytes (${String(err)})`);
}

/** A pool's workers and the host that started them. */
interface Workers {
  readonly host: WorkerHost | null;
  readonly slots: HostedWorker[];
}

// Workers of a pool that was garbage-collected without dispose() are terminated too.
const orphans = new FinalizationRegistry<Workers>((w) => {
  for (const s of w.slots) void s.terminate();
  w.host?.close();
});

/** The running state of a pool: shared blocks, the calling thread's runner, the workers. */
interface State {
  readonly ctl: Int32Array;
  readonly params: Float64Array;
  readonly errText: Uint16Array;
  readonly arena: WasmMemory;
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
  u8: Uint8Array;
  readonly runner: ThreadRunner;
  readonly workers: Workers;
}

/** What a worker runs: the thread program, then its serve loop (text, for host.ts to start). */
const PROGRAM = `function (init) {\n  (${threadProgram.toString()})(init).serve();\n}`;

/**
 * A pool of `threads − 1` worker threads plus the calling thread, which hands out a job through a shared
 * control block and takes a share of it itself: chunks are claimed with a compare-and-swap on one word
 * (`generation << 16 | next`), so a worker that is slow to start (or absent) only means the calling thread
 * runs more chunks. Workers start on first use, are unref'd (they never keep a process alive) and are
 * terminated by `dispose()` (a later call starts new ones).
 */
export class ThreadPool {
  readonly threads: number;
  /** The flops below which calls are declined (0: every call runs on the pool, split even when tiny). */
  readonly minFlops: number;
  private state: State | null = null;
  private gen = 0;
  private serial = 0;
  /** The arena bytes above which attention jobs run in batches of head groups (see `BATCH_BYTES`). */
  readonly batchBytes: number;
  constructor(threads: number, minFlops = MIN_PARALLEL_FLOPS, batchBytes = BATCH_BYTES) {
    if (!Number.isInteger(threads) || threads < 1) throw new BackendError(`threads is ${threads}; expected an integer ≥ 1`);
    this.threads = threads;
    this.minFlops = minFlops;
    this.batchBytes = batchBytes;
  }

  /** Number of live worker threads (0 before first use and after dispose). */
  get workers(): number {
    return this.state?.workers.slots.length ?? 0;
  }

  /**
   * Workers that have started serving (for tests). In a browser a worker may start only once the thread
   * that created it returns to its event loop; until then the calling thread runs every chunk itself.
   */
  get readyWorkers(): number {
    return this.state ? Atomics.load(this.state.ctl, CTL.READY) : 0;
  }

  /**
   * Starts the workers (if they are not running) and resolves once every one of them serves, or after
   * `timeoutMs` (a worker that is still starting only leaves more chunks to the calling thread). Browsers
   * start a worker only when the thread that created it returns to its event loop, which a loop of
   * synchronous calls (or of `await`s on settled promises) never does: until then the calling thread runs
   * every chunk itself. `CpuBackend.compile` awaits this in browsers.
   */
  async ready(timeoutMs = 10_000): Promise<void> {
    const t0 = performance.now();
    for (;;) {
      const st = this.start(0);
      if (Atomics.load(st.ctl, CTL.READY) >= st.workers.slots.length || performance.now() - t0 >= timeoutMs) return;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Chunks the workers (not the calling thread) have run since the pool started (for tests and tuning). */
  get workerChunks(): number {
    return this.state ? Atomics.load(this.state.ctl, CTL.WORKER_CHUNKS) : 0;
  }

  /** Bytes of the shared arena (0 before first use; for tests: it never shrinks). */
  get arenaBytes(): number {
    return this.state?.u8.byteLength ?? 0;
  }

  /** The workers' thread ids (for tests). */
  get workerThreadIds(): number[] {
    return this.state ? this.state.workers.slots.map((s) => s.id) : [];
  }

  /** Terminates the workers and frees the shared blocks; the pool restarts on its next call. */
  dispose(): Promise<void> {
    const st = this.state;
    this.state = null;
    if (!st) return Promise.resolve();
    orphans.unregister(this);
    Atomics.store(st.ctl, CTL.STOP, 1);
    Atomics.notify(st.ctl, CTL.CLAIM);
    const { host: h, slots } = st.workers;
    return Promise.all(slots.map((s) => s.terminate())).then(() => h?.close());
  }

  private start(minArena: number): State {
    if (this.state) return this.state;
    const mods = wasmModules();
    const wh = this.threads > 1 ? workerHost(PROGRAM) : null;
    if (this.threads > 1 && !wh) throw new BackendError(`wasm-simd-threads: cannot start worker threads here: ${workersUnavailable() ?? "unknown reason"}`);
    const ctl = new Int32Array(new SharedArrayBuffer(CTL.SIZE * 4));
    const params = new Float64Array(new SharedArrayBuffer(P.SIZE * 8));
    const errText = new Uint16Array(new SharedArrayBuffer(ERR_TEXT * 2));
    const arena = arenaMemory(minArena);
    Atomics.store(ctl, CTL.ARENA, arena.buffer.byteLength);
    const init = { gemmModule: mods.gemm, flashModule: mods.flash, ctl, params, arena, errText, index: 0 };
    const runner = threadProgram(init);
    const slots: HostedWorker[] = [];
    for (let i = 1; i < this.threads && wh; i++) slots.push(wh.start({ ...init, index: i }, `attn-cpu-${i}`));
    const workers = { host: wh, slots };
    this.state = { ctl, params, errText, arena, f32: new Float32Array(arena.buffer), f64: new Float64Array(arena.buffer), i32: new Int32Array(arena.buffer), u8: new Uint8Array(arena.buffer), runner, workers };
    if (slots.length > 0) orphans.register(this, workers, this);
    return this.state;
  }

  /**
   * The running state with an arena of at least `bytes` (grown in place: every thread sees the new size
   * in `ctl` and takes new views), or null when the arena cannot grow that far (the call runs single-threaded).
   */
  private prepare(bytes: number): State | null {
    if (bytes > MAX_ARENA) return null;
    const st = this.start(bytes);
    if (st.u8.byteLength < bytes) {
      const want = arenaSize(bytes, st.u8.byteLength);
      try {
        st.arena.grow((want - st.u8.byteLength) / PAGE);
      } catch {
        return null; // past the memory's maximum, or out of memory
      }
      const buf = st.arena.buffer;
      st.f32 = new Float32Array(buf);
      st.f64 = new Float64Array(buf);
      st.i32 = new Int32Array(buf);
      st.u8 = new Uint8Array(buf);
      Atomics.store(st.ctl, CTL.ARENA, buf.byteLength);
    }
    st.params.fill(0);
    st.params[P.SERIAL] = ++this.serial;
    return st;
  }

  /**
   * Publishes the job in `params` as `n` chunks, copies its operands in (`load`), runs a share here (unless
   * `helpHere` is false), calls `drained` once every chunk is claimed, waits for the rest; rethrows failures.
   */
  private exec(st: State, kind: number, n: number, load?: Loader, helpHere = true, drained?: () => void): void {
    const ctl = st.ctl;
    st.params[P.KIND] = kind;
    this.gen = (this.gen + 1) & 0x7fff;
    Atomics.store(ctl, CTL.DONE, 0);
    Atomics.store(ctl, CTL.ERR, 0);
    Atomics.store(ctl, CTL.ERR_LEN, 0);
    Atomics.store(ctl, CTL.LOADED, load?.parts.length ? 0 : ALL_LOADED);
    Atomics.store(ctl, CTL.N, n);
    Atomics.store(ctl, CTL.CLAIM, this.gen << 16);
    if (st.workers.slots.length > 0) Atomics.notify(ctl, CTL.CLAIM);
    // Operands are copied in after the job is out, so the workers start on the first groups meanwhile.
    if (load) this.load(st, load);
    let mine: unknown = undefined;
    let failed = false;
    if (helpHere || st.workers.slots.length === 0)
      st.runner.drain((e) => {
        if (!failed) mine = e;
        failed = true;
      });
    // Every chunk is claimed: while the workers finish theirs, collect the results of those already done.
    drained?.();
    // The workers' last chunks: poll briefly (they often end within microseconds of ours), then sleep.
    const until = performance.now() + WAIT_SPIN_MS;
    while (Atomics.load(ctl, CTL.DONE) < n && performance.now() < until);
    for (;;) {
      const d = Atomics.load(ctl, CTL.DONE);
      if (d >= n) break;
      Atomics.wait(ctl, CTL.DONE, d);
    }
    // Close the job before the next one's parameters are written (see program.ts: claim).
    Atomics.store(ctl, CTL.CLAIM, (this.gen << 16) | 0xffff);
    if (Atomics.load(ctl, CTL.ERR) === 0) return;
    if (failed) throw mine;
    const len = Atomics.load(ctl, CTL.ERR_LEN);
    const why = len > 0 ? String.fromCharCode(...st.errText.subarray(0, len)) : "unknown error";
    throw new BackendError(`wasm-simd-threads: a worker thread failed: ${why}`);
  }

  /** Copies `load`'s operands into the arena, announcing progress in ctl[LOADED] (see `Loader`). */
  private load(st: State, load: Loader): void {
    const { groups, parts } = load;
    if (groups === 0) {
      for (const [src, at] of parts) {
        for (let i = 0; i < src.length; i += LOAD_SLICE) {
          const j = Math.min(src.length, i + LOAD_SLICE);
          st.f32.set(src.subarray(i, j), at + i);
          Atomics.store(st.ctl, CTL.LOADED, at + j);
          Atomics.notify(st.ctl, CTL.LOADED);
        }
      }
      // Everything is in (a chunk whose footprint is empty may ask for an offset past the last part).
      Atomics.store(st.ctl, CTL.LOADED, ALL_LOADED);
      Atomics.notify(st.ctl, CTL.LOADED);
    }
    // At most ~16 announcements per job: each is an Atomics.notify.
    const step = Math.max(1, Math.ceil(groups / 16));
    for (let g0 = 0; g0 < groups; g0 += step) {
      const g1 = Math.min(groups, g0 + step);
      for (const [src, at] of parts) {
        const size = src.length / groups;
        st.f32.set(src.subarray(g0 * size, g1 * size), at + g0 * size);
      }
      Atomics.store(st.ctl, CTL.LOADED, g1);
      Atomics.notify(st.ctl, CTL.LOADED);
    }
    for (const t of load.touch ?? []) touchPages(t);
  }

  /**
   * Test hook: a job of `chunks` chunks where chunk `at` throws. With `workersOnly` the calling thread takes
   * no chunk, so the fault is always raised on a worker (on a busy machine the calling thread could
   * otherwise claim every chunk before a worker wakes).
   */
  fault(chunks: number, at: number, workersOnly: boolean): void {
    const st = this.prepare(64)!;
    st.params[P.FAULT_CHUNK] = at;
    this.exec(st, JOB.FAULT, chunks, undefined, !workersOnly);
  }

  /**
   * C = A·B (+ bias) for every product, split into row blocks of M (column blocks of N when M is small,
   * whole products when there are many); null when the problem is too small to be worth the threads.
   * Same results, bit for bit, as the single-threaded wasm GEMM.
   */
  gemm(p: GemmArgs, force = this.minFlops === 0): Float32Array | null {
    const { M, N, K } = p;
    const count = p.count ?? 1;
    if (M === 0 || N === 0 || count === 0) return null;
    if (!force && 2 * M * N * K * count < this.minFlops) return null;
    const T = this.threads;
    const target = 4 * T;
    const per = Math.max(1, Math.ceil(target / count));
    let cols = false;
    let block: number;
    let parts: number;
    if (M >= 8 * T || N < 16 * T || per === 1) {
      const want = Math.min(per, Math.ceil(M / 16));
      block = Math.ceil(M / want / 4) * 4;
      parts = Math.ceil(M / block);
    } else {
      cols = true;
      const want = Math.min(per, Math.ceil(N / 32));
      block = Math.ceil(N / want / 8) * 8;
      parts = Math.ceil(N / block);
    }
    const chunks = parts * count;
    if (chunks > MAX_CHUNKS || (!force && chunks < 2)) return null;
    // Arena (in floats, 16-aligned): aOffs (f64) | bOffs (f64) | bias | chunk flags (i32) | C | B | A. What
    // goes in before the job is published comes first; B then A are copied after it, in arena order, so
    // a worker starts on its first row block as soon as B and that block's rows are in.
    const runner = this.start(0).runner;
    const arena = new ArenaLayout(runner.heapBase);
    const aOffsAt = p.aOff ? arena.take(2 * count) : -1;
    const bOffsAt = p.bOff ? arena.take(2 * count) : -1;
    const biasAt = p.bias ? arena.take(p.bias.length) : -1;
    const flagsAt = arena.take(chunks);
    const cAt = arena.take(count * M * N);
    const bAt = arena.take(p.b.length);
    const aAt = arena.take(p.a.length);
    const scratchBytes = cols ? runner.gemmScratch(M, block, K, false) : runner.gemmScratch(block, N, K, true);
    const scratchAt = arena.scratch(this.threads, scratchBytes);
    const st = this.prepare(arena.bytes);
    if (!st) return null;
    if (p.bias) st.f32.set(p.bias, biasAt);
    if (p.aOff) for (let t = 0; t < count; t++) st.f64[aOffsAt / 2 + t] = p.aOff[t];
    if (p.bOff) for (let t = 0; t < count; t++) st.f64[bOffsAt / 2 + t] = p.bOff[t];
    const q = st.params;
    q[P.M] = M;
    q[P.N] = N;
    q[P.K] = K;
    q[P.A] = aAt;
    q[P.RSA] = p.rsa;
    q[P.CSA] = p.csa;
    q[P.B] = bAt;
    q[P.RSB] = p.rsb;
    q[P.CSB] = p.csb;
    q[P.BIAS] = biasAt;
    q[P.C] = cAt;
    q[P.COUNT] = count;
    q[P.AOFFS] = aOffsAt >= 0 ? aOffsAt / 2 : -1;
    q[P.BOFFS] = bOffsAt >= 0 ? bOffsAt / 2 : -1;
    q[P.COLS] = cols ? 1 : 0;
    q[P.PARTS] = parts;
    q[P.BLOCK] = block;
    q[P.SCRATCH] = scratchAt;
    q[P.SCRATCH_BYTES] = scratchBytes;
    const out = new Float32Array(count * M * N);
    // A row block is contiguous in C: each is a piece of its own. Column blocks are one piece, copied at the end.
    const results = new Collector(st, flagsAt, chunks, cols ? 1 : chunks, (i) => (cols ? 0 : i), (i) => {
      if (cols) return void out.set(st.f32.subarray(cAt, cAt + count * M * N));
      const t = Math.floor(i / parts);
      const from = t * M * N + (i - t * parts) * block * N;
      const to = Math.min((t + 1) * M * N, from + block * N);
      out.set(st.f32.subarray(cAt + from, cAt + to), from);
    });
    this.exec(st, JOB.GEMM, chunks, { groups: 0, parts: [[p.b, bAt], [p.a, aAt]], touch: [out] }, true, () => results.some());
    results.rest();
    return out;
  }

  /**
   * Fused attention forward over heads (split into query-block ranges when there are fewer heads than
   * 2 × threads). `undefined`: not worth the threads (run single-threaded); null: too large for wasm memory
   * (run the portable kernel), as `WasmFlash.forward`. A job whose operands would take more than
   * `BATCH_BYTES` of arena runs in batches of head groups, one after another, so the arena holds a few
   * heads' operands at a time (at N = 16384 and 8 heads, 32 MiB rather than 128 MiB).
   */
  forward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, weights: boolean, lse?: Float32Array, force = this.minFlops === 0): { out: Float32Array; weights: Float32Array | null } | null | undefined {
    const { heads, Tq, Tk, D, Dv } = p;
    if (heads === 0 || Tq === 0) return undefined;
    if (!force && 4 * heads * Tq * Tk * Math.max(D, Dv) < this.minFlops) return undefined;
    const G = p.layout?.perGroup ?? 1;
    const groupBytes = 4 * G * (Tq * D + Tk * D + Tk * Dv + Tq * Dv + (weights ? Tq * Tk : 0) + (lse ? Tq : 0)) + G * p.maskBytes;
    // Allocated before the job (only address space until written): the calling thread touches each batch's
    // share while the workers compute, rather than after them in the final copy.
    const out = new Float32Array(heads * Tq * Dv);
    const w = weights ? new Float32Array(heads * Tq * Tk) : null;
    const ran = this.inBatches(
      p,
      false,
      groupBytes,
      (sub, g0, g1, groups, batched) => {
        const lseOf = lse?.subarray(g0 * G * Tq, g1 * G * Tq);
        const outs = [part(out, g0, g1, groups), ...(w ? [part(w, g0, g1, groups)] : [])];
        return this.forwardBatch(sub, part(q, g0, g1, groups), part(k, g0, g1, groups), part(v, g0, g1, groups), weights, lseOf, force || batched, outs);
      },
    );
    return ran === true ? { out, weights: w } : ran;
  }

  /**
   * Runs an attention job as a sequence of jobs over batches of head groups (one batch when its operands,
   * with the threads' scratch, fit `batchBytes` of arena): `run` runs one batch and copies its results out
   * of the arena (true: it ran; undefined / null: declined, as `forward`) before the next batch overwrites
   * them. A batch declined after earlier ones ran is an error (it cannot happen: every batch but the last
   * has the first one's size).
   */
  private inBatches(
    p: FlashProblem,
    backward: boolean,
    groupBytes: number,
    run: (sub: FlashProblem, g0: number, g1: number, groups: number, batched: boolean) => true | null | undefined,
  ): true | null | undefined {
    const G = p.layout?.perGroup ?? 1;
    const groups = p.heads / G;
    // The budget is the whole arena's: the modules' static data and every thread's scratch come off it first.
    const runner = this.start(0).runner;
    const fixed = runner.heapBase + this.threads * runner.flashScratch(p.Tq, p.Tk, p.D, p.Dv, backward);
    const batch = groupsPerBatch(groups, groupBytes, this.batchBytes - fixed);
    for (let g0 = 0; g0 < groups; g0 += batch) {
      const g1 = Math.min(groups, g0 + batch);
      const ready = run(batch >= groups ? p : headRange(p, g0 * G, g1 * G), g0, g1, groups, batch < groups);
      if (ready !== true) {
        if (g0 === 0) return ready;
        throw new BackendError(`wasm-simd-threads: attention batch of heads ${g0 * G}…${g1 * G - 1} declined after earlier batches ran`);
      }
    }
    return true;
  }

  /**
   * Runs `forward` on one batch of head groups (the whole problem when it fits the arena budget) and fills
   * `outs` (the batch's share of out, and of the weights when asked for) group by group as they finish;
   * true when it ran.
   */
  private forwardBatch(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, weights: boolean, lse: Float32Array | undefined, force: boolean, outs: readonly Float32Array[]): true | null | undefined {
    const { heads, Tq, Tk, D, Dv } = p;
    const T = this.threads;
    const nQ = Math.ceil(Tq / 64);
    // With heads to spare, whole heads (packing K/V once per head) but the last T heads in up to 4 query
    // ranges: a thread that is held up (a late wake-up, a busy core) then delays the call by a quarter of
    // a head at most, not a whole one. With few heads, every head in ranges.
    const tail = heads >= 2 * T ? heads - T : 0;
    const qs = heads >= 2 * T ? Math.min(nQ, 4) : Math.min(nQ, Math.ceil((4 * T) / heads));
    const chunks = tail + (heads - tail) * qs;
    if (chunks > MAX_CHUNKS || (!force && chunks < 2)) return undefined;
    const runner = this.start(0).runner;
    const arena = new ArenaLayout(runner.heapBase);
    const qAt = arena.take(heads * Tq * D);
    const kAt = arena.take(heads * Tk * D);
    const vAt = arena.take(heads * Tk * Dv);
    const oAt = arena.take(heads * Tq * Dv);
    const wAt = weights ? arena.take(heads * Tq * Tk) : -1;
    const lAt = lse ? arena.take(heads * Tq) : -1;
    const mAt = p.maskBytes > 0 ? arena.take(Math.ceil((heads * p.maskBytes) / 4)) : -1;
    const flagsAt = arena.take(chunks);
    const scratchBytes = runner.flashScratch(Tq, Tk, D, Dv, false);
    const scratchAt = arena.scratch(this.threads, scratchBytes);
    const st = this.prepare(arena.bytes);
    if (!st) return undefined;
    this.attentionParams(st, p, mAt, qAt, kAt, vAt, scratchAt, scratchBytes);
    st.params[P.OUT] = oAt;
    st.params[P.W] = wAt;
    st.params[P.LSE] = lAt;
    st.params[P.QSPLIT] = qs;
    st.params[P.TAIL] = tail;
    // Chunk i runs head i below the tail, then each later head in qs query ranges.
    const G = p.layout?.perGroup ?? 1;
    const groupOf = (i: number) => Math.floor((i < tail ? i : tail + Math.floor((i - tail) / qs)) / G);
    const results = new Collector(st, flagsAt, chunks, heads / G, groupOf, (g) => {
      fromArena(st, oAt, g, heads / G, outs[0]);
      if (weights) fromArena(st, wAt, g, heads / G, outs[1]);
    });
    this.exec(st, JOB.ATT_FWD, chunks, { groups: heads / G, parts: [[q, qAt], [k, kAt], [v, vAt]], touch: outs }, true, () => results.some());
    results.rest();
    if (lse) lse.set(st.f32.subarray(lAt, lAt + heads * Tq));
    return true;
  }

  /** Fused attention backward, one chunk per head, in batches of head groups as `forward`; `undefined` / null as `forward`. */
  backward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, dOut: Float32Array, force = this.minFlops === 0): { dq: Float32Array; dk: Float32Array; dv: Float32Array } | null | undefined {
    const { heads, Tq, Tk, D, Dv } = p;
    if (heads === 0 || Tq === 0 || Tk === 0) return undefined;
    if (!force && (heads < 2 || 8 * heads * Tq * Tk * Math.max(D, Dv) < this.minFlops)) return undefined;
    if (heads > MAX_CHUNKS) return undefined;
    const G = p.layout?.perGroup ?? 1;
    const groupBytes = 4 * G * (2 * Tq * D + 2 * Tk * D + 2 * Tk * Dv + Tq * Dv) + G * p.maskBytes;
    // Allocated before the job and touched while the workers compute, as `forward`'s results.
    const grads = { dq: new Float32Array(heads * Tq * D), dk: new Float32Array(heads * Tk * D), dv: new Float32Array(heads * Tk * Dv) };
    const ran = this.inBatches(
      p,
      true,
      groupBytes,
      (sub, g0, g1, groups) => {
        const outs = [part(grads.dq, g0, g1, groups), part(grads.dk, g0, g1, groups), part(grads.dv, g0, g1, groups)];
        return this.backwardBatch(sub, part(q, g0, g1, groups), part(k, g0, g1, groups), part(v, g0, g1, groups), part(dOut, g0, g1, groups), outs);
      },
    );
    return ran === true ? grads : ran;
  }

  /** Runs `backward` on one batch of head groups and fills `outs` (the batch's dq, dk, dv) group by group as they finish; true when it ran. */
  private backwardBatch(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, dOut: Float32Array, outs: readonly Float32Array[]): true | null | undefined {
    const { heads, Tq, Tk, D, Dv } = p;
    const runner = this.start(0).runner;
    const arena = new ArenaLayout(runner.heapBase);
    const qAt = arena.take(heads * Tq * D);
    const kAt = arena.take(heads * Tk * D);
    const vAt = arena.take(heads * Tk * Dv);
    const gAt = arena.take(heads * Tq * Dv);
    const dqAt = arena.take(heads * Tq * D);
    const dkAt = arena.take(heads * Tk * D);
    const dvAt = arena.take(heads * Tk * Dv);
    const mAt = p.maskBytes > 0 ? arena.take(Math.ceil((heads * p.maskBytes) / 4)) : -1;
    const flagsAt = arena.take(heads);
    const scratchBytes = runner.flashScratch(Tq, Tk, D, Dv, true);
    const scratchAt = arena.scratch(this.threads, scratchBytes);
    const st = this.prepare(arena.bytes);
    if (!st) return undefined;
    this.attentionParams(st, p, mAt, qAt, kAt, vAt, scratchAt, scratchBytes);
    st.params[P.DO] = gAt;
    st.params[P.DQ] = dqAt;
    st.params[P.DK] = dkAt;
    st.params[P.DVV] = dvAt;
    const G = p.layout?.perGroup ?? 1;
    const groups = heads / G;
    const results = new Collector(st, flagsAt, heads, groups, (h) => Math.floor(h / G), (g) => {
      fromArena(st, dqAt, g, groups, outs[0]);
      fromArena(st, dkAt, g, groups, outs[1]);
      fromArena(st, dvAt, g, groups, outs[2]);
    });
    this.exec(st, JOB.ATT_BWD, heads, { groups, parts: [[q, qAt], [k, kAt], [v, vAt], [dOut, gAt]], touch: outs }, true, () => results.some());
    results.rest();
    return true;
  }

  private attentionParams(st: State, p: FlashProblem, mAt: number, qAt: number, kAt: number, vAt: number, scratchAt: number, scratchBytes: number): void {
    const q = st.params;
    q[P.SCRATCH] = scratchAt;
    q[P.SCRATCH_BYTES] = scratchBytes;
    q[P.TQ] = p.Tq;
    q[P.TK] = p.Tk;
    q[P.D] = p.D;
    q[P.DV] = p.Dv;
    q[P.SCALE] = p.scale;
    q[P.CAUSAL] = p.causal ? 1 : 0;
    q[P.WINDOW] = p.window === null ? -1 : Math.min(p.window, 0x3fffffff);
    q[P.MASK_BYTES] = p.maskBytes;
    q[P.MASK_ROW] = p.maskBytes > p.Tk ? p.Tk : 0;
    q[P.MASK] = mAt * 4;
    q[P.Q] = qAt;
    q[P.KK] = kAt;
    q[P.V] = vAt;
    // The operands lie in the arena as the caller laid them out; the workers read (and write) through it.
    q[P.PER_GROUP] = p.layout?.perGroup ?? 1;
    let bits = 0;
    for (const [name, bit] of Object.entries(FLASH_BITS)) if (p.layout?.interleaved[name as keyof typeof FLASH_BITS]) bits |= bit;
    q[P.INTERLEAVED] = bits;
    if (p.maskBytes > 0 && p.fillMask) {
      for (let h = 0; h < p.heads; h++) p.fillMask(h, st.u8.subarray(mAt * 4 + h * p.maskBytes, mAt * 4 + (h + 1) * p.maskBytes));
    }
  }
}

/**
 * Bump allocation of a job's operands in the arena, in floats, each 16-float (64-byte) aligned, from the
 * modules' heap base up (below it lies their static data), then the threads' scratch slots.
 */
class ArenaLayout {
  private top: number;
  /** `heapBase`: the first byte a job may use (64-aligned). */
  constructor(heapBase: number) {
    this.top = heapBase / 4;
  }
  /** Reserves `floats` floats; returns their offset (floats). */
  take(floats: number): number {
    const at = this.top;
    this.top += Math.ceil(floats / 16) * 16;
    return at;
  }
  /** Reserves `threads` scratch slots of `bytes` each (rounded up to 64); returns the first one's offset in bytes. */
  scratch(threads: number, bytes: number): number {
    return this.take((threads * Math.ceil(bytes / 64) * 64) / 4) * 4;
  }
  /** The bytes reserved so far. */
  get bytes(): number {
    return this.top * 4;
  }
}

/**
 * Head groups per arena batch: all of them when the job's operands fit `batchBytes`, else as many as fit
 * (at least one).
 */
function groupsPerBatch(groups: number, groupBytes: number, batchBytes: number): number {
  return groups * groupBytes <= batchBytes ? groups : Math.max(1, Math.floor(batchBytes / groupBytes));
}

/** Fills piece `i` of `n` equal pieces of `dst` from the same piece of the arena array at `at` (floats). */
function fromArena(st: State, at: number, i: number, n: number, dst: Float32Array): void {
  const size = dst.length / n;
  dst.set(st.f32.subarray(at + i * size, at + (i + 1) * size), i * size);
}

/**
 * Copies a job's results out of the arena in pieces (GEMM row blocks, attention head groups) as their
 * chunks finish: each chunk flags itself done (program.ts: `chunk`) in the job's flag slots. `some()`
 * copies the pieces whose chunks are all done (the calling thread runs it once every chunk is claimed,
 * while the workers end theirs); `rest()` copies the others once the job is over.
 */
class Collector {
  private readonly left: Int32Array;
  private readonly seen: Uint8Array;
  private readonly copied: Uint8Array;
  private readonly tag: number;
  /** `pieceOf(i)`: the piece chunk i writes; `copy(piece)` copies one piece out. */
  constructor(
    private readonly st: State,
    private readonly flagsAt: number,
    chunks: number,
    pieces: number,
    private readonly pieceOf: (chunk: number) => number,
    private readonly copy: (piece: number) => void,
  ) {
    this.left = new Int32Array(pieces);
    for (let i = 0; i < chunks; i++) this.left[pieceOf(i)]++;
    this.seen = new Uint8Array(chunks);
    this.copied = new Uint8Array(pieces);
    this.tag = st.params[P.SERIAL];
    st.params[P.FLAGS] = flagsAt;
    st.i32.fill(0, flagsAt, flagsAt + chunks);
  }
  some(): void {
    for (let i = 0; i < this.seen.length; i++) {
      if (this.seen[i] !== 0 || Atomics.load(this.st.i32, this.flagsAt + i) !== this.tag) continue;
      this.seen[i] = 1;
      const piece = this.pieceOf(i);
      if (--this.left[piece] === 0) this.done(piece);
    }
  }
  rest(): void {
    for (let piece = 0; piece < this.copied.length; piece++) if (this.copied[piece] === 0) this.done(piece);
  }
  private done(piece: number): void {
    this.copy(piece);
    this.copied[piece] = 1;
  }
}

/**
 * Writes one element per 4 KiB page of `x`. A large typed array freshly allocated is address space only;
 * its pages are faulted in on first write, which costs ~1.5 µs a page, and up to ~12 µs on a VM whose
 * host reclaimed the memory. Done while the workers compute, that cost overlaps their work instead of
 * adding to the serial copy of the results at the end of a call.
 */
function touchPages(x: Float32Array): void {
  for (let i = 0; i < x.length; i += 1024) x[i] = 0;
}

/** Groups g0 ≤ g < g1 of an operand that holds `groups` equal, contiguous head groups. */
function part(x: Float32Array, g0: number, g1: number, groups: number): Float32Array {
  const size = x.length / groups;
  return x.subarray(g0 * size, g1 * size);
}

/** The attention problem of heads h0 ≤ h < h1 (its mask callback shifted to those heads). */
function headRange(p: FlashProblem, h0: number, h1: number): FlashProblem {
  const fill = p.fillMask;
  return { ...p, heads: h1 - h0, ...(fill ? { fillMask: (h: number, dst: Uint8Array) => fill(h + h0, dst) } : {}) };
}

/** Arena bytes for a need of `bytes` (grown by at least half of `old`, rounded up to 1 MiB). */
function arenaSize(bytes: number, old: number): number {
  const want = Math.max(bytes, old + (old >> 1), 1 << 20);
  return Math.min(MAX_ARENA, Math.ceil(want / 2 ** 20) * 2 ** 20);
}

