import { BackendError } from "@attn/core";
import type { MessagePort, Worker } from "node:worker_threads";
import { FLASH_MAX_BYTES, flashWasmBytes, type FlashProblem } from "../flash/wasm.js";
import { gemmWasmBytes, wasmSimdSupported } from "../gemm/wasm.js";
import { CTL, FLASH_BITS, JOB, P, threadProgram, type ThreadRunner } from "./program.js";

// Node's worker_threads and os, reached without an import statement (`process.getBuiltinModule`, Node ≥ 20.16),
// so the package still loads in browsers and bundlers see no Node built-in. Only the types are imported.
interface NodeThreads {
  Worker: new (src: string, opts: object) => Worker;
  MessageChannel: new () => { port1: MessagePort; port2: MessagePort };
  receiveMessageOnPort(port: MessagePort): { message: unknown } | undefined;
  isMainThread: boolean;
}
interface NodeOs {
  availableParallelism?(): number;
  cpus(): unknown[];
}
interface Wa { Module: new (bytes: Uint8Array) => object }
const host = globalThis as unknown as {
  process?: { getBuiltinModule?: (id: string) => unknown };
  WebAssembly?: Wa;
};

function builtin<T>(id: string): T | null {
  try {
    return (host.process?.getBuiltinModule?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

/** Whether the calling thread may block in `Atomics.wait` (Node: any thread; browsers: workers only). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let supported: boolean | undefined;
/**
 * Whether `"wasm-simd-threads"` can run here: WebAssembly SIMD, SharedArrayBuffer and Atomics, a thread
 * that may block in `Atomics.wait`, and Node's `worker_threads` (through `process.getBuiltinModule`).
 * Browsers (Web Workers) are not wired up yet: there `"auto"` picks `"wasm-simd"`.
 */
export function threadsSupported(): boolean {
  if (supported === undefined) {
    supported =
      wasmSimdSupported() &&
      typeof SharedArrayBuffer === "function" &&
      typeof Atomics === "object" &&
      builtin<NodeThreads>("node:worker_threads") !== null &&
      canBlock();
  }
  return supported;
}

/** The default thread count: the runtime's available parallelism, at most 8 (1 where unknown). */
export function defaultThreads(): number {
  const os = builtin<NodeOs>("node:os");
  const n = os ? (os.availableParallelism ? os.availableParallelism() : os.cpus().length) : 1;
  return Math.max(1, Math.min(8, Math.floor(n) || 1));
}

/**
 * Below this many flops (2·M·N·K over the products of a GEMM, 4·heads·Tq·Tk·D for attention) a call stays
 * on the calling thread's single-threaded kernels (a job costs some 10–50 µs of hand-off and wake-up).
 */
export const MIN_PARALLEL_FLOPS = 2 ** 23;
/** The most chunks one job may have (the claim word holds a 16-bit index). */
const MAX_CHUNKS = 0xfff0;
/** The largest arena (bytes); a call that needs more runs single-threaded. */
const MAX_ARENA = 2 ** 31 - 2 ** 16;

let modules: { gemm: object; flash: object } | null = null;
function wasmModules(): { gemm: object; flash: object } {
  const wa = host.WebAssembly;
  if (!wa) throw new BackendError("wasm-simd-threads: this runtime has no WebAssembly");
  return (modules ??= { gemm: new wa.Module(gemmWasmBytes()), flash: new wa.Module(flashWasmBytes()) });
}

interface WorkerSlot {
  readonly worker: Worker;
  /** The calling thread's end of the worker's channel (arena announcements out, error reports in). */
  readonly port: MessagePort;
}

// Workers of a pool that was garbage-collected without dispose() are terminated too.
const orphans = new FinalizationRegistry<WorkerSlot[]>((slots) => {
  for (const s of slots) void s.worker.terminate();
});

/** The running state of a pool: shared blocks, the calling thread's runner, the workers. */
interface State {
  readonly ctl: Int32Array;
  readonly params: Float64Array;
  arena: SharedArrayBuffer;
  f32: Float32Array;
  f64: Float64Array;
  u8: Uint8Array;
  epoch: number;
  readonly runner: ThreadRunner;
  readonly slots: WorkerSlot[];
}

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
  constructor(threads: number, minFlops = MIN_PARALLEL_FLOPS) {
    if (!Number.isInteger(threads) || threads < 1) throw new BackendError(`threads is ${threads}; expected an integer ≥ 1`);
    this.threads = threads;
    this.minFlops = minFlops;
  }

  /** Number of live worker threads (0 before first use and after dispose). */
  get workers(): number {
    return this.state?.slots.length ?? 0;
  }

  /** Chunks the workers (not the calling thread) have run since the pool started (for tests and tuning). */
  get workerChunks(): number {
    return this.state ? Atomics.load(this.state.ctl, CTL.WORKER_CHUNKS) : 0;
  }

  /** The workers' thread ids (for tests). */
  get workerThreadIds(): number[] {
    return this.state ? this.state.slots.map((s) => s.worker.threadId) : [];
  }

  /** Terminates the workers and frees the shared blocks; the pool restarts on its next call. */
  dispose(): Promise<void> {
    const st = this.state;
    this.state = null;
    if (!st) return Promise.resolve();
    orphans.unregister(this);
    Atomics.store(st.ctl, CTL.STOP, 1);
    Atomics.notify(st.ctl, CTL.CLAIM);
    for (const s of st.slots) s.port.close();
    return Promise.all(st.slots.map((s) => s.worker.terminate())).then(() => undefined);
  }

  private start(minArena: number): State {
    if (this.state) return this.state;
    const mods = wasmModules();
    const ctl = new Int32Array(new SharedArrayBuffer(CTL.SIZE * 4));
    const params = new Float64Array(new SharedArrayBuffer(P.SIZE * 8));
    const arena = new SharedArrayBuffer(arenaSize(minArena, 0));
    const init = { gemmModule: mods.gemm, flashModule: mods.flash, ctl, params, arena, epoch: 0 };
    const runner = threadProgram({ ...init, main: true });
    const slots: WorkerSlot[] = [];
    const wt = builtin<NodeThreads>("node:worker_threads");
    if (this.threads > 1 && !wt) throw new BackendError("wasm-simd-threads: this runtime has no worker_threads");
    for (let i = 1; i < this.threads && wt; i++) {
      const { port1, port2 } = new wt.MessageChannel();
      const worker = new wt.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { init: { ...init, main: false }, port: port2 },
        transferList: [port2],
        name: `attn-cpu-${i}`,
      });
      worker.unref();
      port1.unref();
      // A worker that fails outside a chunk (it cannot start, say) only leaves more chunks to the others.
      worker.on("error", () => {});
      slots.push({ worker, port: port1 });
    }
    this.state = { ctl, params, arena, f32: new Float32Array(arena), f64: new Float64Array(arena), u8: new Uint8Array(arena), epoch: 0, runner, slots };
    if (slots.length > 0) orphans.register(this, slots, this);
    return this.state;
  }

  /** The running state with an arena of at least `bytes` (a larger one is announced to every worker). */
  private prepare(bytes: number): State {
    const st = this.start(bytes);
    if (st.arena.byteLength < bytes) {
      const arena = new SharedArrayBuffer(arenaSize(bytes, st.arena.byteLength));
      st.epoch++;
      st.arena = arena;
      st.f32 = new Float32Array(arena);
      st.f64 = new Float64Array(arena);
      st.u8 = new Uint8Array(arena);
      st.runner.setArena(arena, st.epoch);
      for (const s of st.slots) s.port.postMessage({ arena, epoch: st.epoch });
      Atomics.store(st.ctl, CTL.EPOCH, st.epoch);
    }
    st.params.fill(0);
    st.params[P.SERIAL] = ++this.serial;
    return st;
  }

  /** Publishes the job in `params` as `n` chunks, runs a share here, waits for the rest; rethrows failures. */
  private exec(st: State, kind: number, n: number): void {
    const ctl = st.ctl;
    st.params[P.KIND] = kind;
    this.gen = (this.gen + 1) & 0x7fff;
    Atomics.store(ctl, CTL.DONE, 0);
    Atomics.store(ctl, CTL.ERR, 0);
    Atomics.store(ctl, CTL.N, n);
    Atomics.store(ctl, CTL.CLAIM, this.gen << 16);
    if (st.slots.length > 0) Atomics.notify(ctl, CTL.CLAIM);
    let mine: unknown = undefined;
    let failed = false;
    st.runner.drain((e) => {
      if (!failed) mine = e;
      failed = true;
    });
    for (;;) {
      const d = Atomics.load(ctl, CTL.DONE);
      if (d >= n) break;
      Atomics.wait(ctl, CTL.DONE, d);
    }
    // Close the job before the next one's parameters are written (see program.ts: claim).
    Atomics.store(ctl, CTL.CLAIM, (this.gen << 16) | 0xffff);
    if (Atomics.load(ctl, CTL.ERR) === 0) return;
    if (failed) throw mine;
    const wt = builtin<NodeThreads>("node:worker_threads");
    let why = "unknown error";
    for (const s of st.slots) {
      for (let m = wt?.receiveMessageOnPort(s.port); m; m = wt?.receiveMessageOnPort(s.port)) {
        const msg = m.message as { error?: string };
        if (msg.error !== undefined && why === "unknown error") why = msg.error;
      }
    }
    throw new BackendError(`wasm-simd-threads: a worker thread failed: ${why}`);
  }

  /** Test hook: a job of `chunks` chunks where chunk `at` throws (on a worker only, when `workersOnly`). */
  fault(chunks: number, at: number, workersOnly: boolean): void {
    const st = this.prepare(64);
    st.params[P.FAULT_CHUNK] = at;
    st.params[P.FAULT_WORKERS_ONLY] = workersOnly ? 1 : 0;
    this.exec(st, JOB.FAULT, chunks);
  }

  /**
   * C = A·B (+ bias) for every product, split into row blocks of M (column blocks of N when M is small,
   * whole products when there are many); null when the problem is too small to be worth the threads.
   * Same results, bit for bit, as the single-threaded wasm GEMM.
   */
  gemm(p: GemmLike, force = this.minFlops === 0): Float32Array | null {
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
    // Arena (in floats, 16-aligned): A | B | bias | C | aOffs (f64) | bOffs (f64)
    let top = 0;
    const take = (n: number) => {
      const at = top;
      top += Math.ceil(n / 16) * 16;
      return at;
    };
    const aAt = take(p.a.length);
    const bAt = take(p.b.length);
    const biasAt = p.bias ? take(p.bias.length) : -1;
    const cAt = take(count * M * N);
    const aOffsAt = p.aOff ? take(2 * count) : -1;
    const bOffsAt = p.bOff ? take(2 * count) : -1;
    if (top * 4 > MAX_ARENA) return null;
    const st = this.prepare(top * 4);
    st.f32.set(p.a, aAt);
    st.f32.set(p.b, bAt);
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
    this.exec(st, JOB.GEMM, chunks);
    return st.f32.slice(cAt, cAt + count * M * N);
  }

  /**
   * Fused attention forward over heads (split into query-block ranges when there are fewer heads than
   * 2 × threads). `undefined`: not worth the threads (run single-threaded); null: too large for wasm memory
   * (run the portable kernel), as `WasmFlash.forward`.
   */
  forward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, weights: boolean, lse?: Float32Array, force = this.minFlops === 0): { out: Float32Array; weights: Float32Array | null } | null | undefined {
    const { heads, Tq, Tk, D, Dv } = p;
    if (heads === 0 || Tq === 0) return undefined;
    if (!force && 4 * heads * Tq * Tk * Math.max(D, Dv) < this.minFlops) return undefined;
    const T = this.threads;
    const nQ = Math.ceil(Tq / 64);
    const qs = heads >= 2 * T ? 1 : Math.min(nQ, Math.ceil((4 * T) / heads));
    const chunks = heads * qs;
    if (chunks > MAX_CHUNKS || (!force && chunks < 2)) return undefined;
    let top = 0;
    const take = (n: number) => {
      const at = top;
      top += Math.ceil(n / 16) * 16;
      return at;
    };
    const qAt = take(heads * Tq * D);
    const kAt = take(heads * Tk * D);
    const vAt = take(heads * Tk * Dv);
    const oAt = take(heads * Tq * Dv);
    const wAt = weights ? take(heads * Tq * Tk) : -1;
    const lAt = lse ? take(heads * Tq) : -1;
    const mAt = p.maskBytes > 0 ? take(Math.ceil((heads * p.maskBytes) / 4)) : -1;
    if (top * 4 > MAX_ARENA) return undefined;
    const st = this.prepare(top * 4);
    if (st.runner.flashBytes(Tq, Tk, D, Dv, p.maskBytes, weights, false, p.layout?.perGroup ?? 1) > FLASH_MAX_BYTES) return null;
    st.f32.set(q, qAt);
    st.f32.set(k, kAt);
    st.f32.set(v, vAt);
    this.attentionParams(st, p, mAt, qAt, kAt, vAt);
    st.params[P.OUT] = oAt;
    st.params[P.W] = wAt;
    st.params[P.LSE] = lAt;
    st.params[P.QSPLIT] = qs;
    this.exec(st, JOB.ATT_FWD, chunks);
    const out = st.f32.slice(oAt, oAt + heads * Tq * Dv);
    const w = weights ? st.f32.slice(wAt, wAt + heads * Tq * Tk) : null;
    if (lse) lse.set(st.f32.subarray(lAt, lAt + heads * Tq));
    return { out, weights: w };
  }

  /** Fused attention backward, one chunk per head; `undefined` / null as `forward`. */
  backward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, dOut: Float32Array, force = this.minFlops === 0): { dq: Float32Array; dk: Float32Array; dv: Float32Array } | null | undefined {
    const { heads, Tq, Tk, D, Dv } = p;
    if (heads === 0 || Tq === 0 || Tk === 0) return undefined;
    if (!force && (heads < 2 || 8 * heads * Tq * Tk * Math.max(D, Dv) < this.minFlops)) return undefined;
    if (heads > MAX_CHUNKS) return undefined;
    let top = 0;
    const take = (n: number) => {
      const at = top;
      top += Math.ceil(n / 16) * 16;
      return at;
    };
    const qAt = take(heads * Tq * D);
    const kAt = take(heads * Tk * D);
    const vAt = take(heads * Tk * Dv);
    const gAt = take(heads * Tq * Dv);
    const dqAt = take(heads * Tq * D);
    const dkAt = take(heads * Tk * D);
    const dvAt = take(heads * Tk * Dv);
    const mAt = p.maskBytes > 0 ? take(Math.ceil((heads * p.maskBytes) / 4)) : -1;
    if (top * 4 > MAX_ARENA) return undefined;
    const st = this.prepare(top * 4);
    if (st.runner.flashBytes(Tq, Tk, D, Dv, p.maskBytes, false, true, p.layout?.perGroup ?? 1) > FLASH_MAX_BYTES) return null;
    st.f32.set(q, qAt);
    st.f32.set(k, kAt);
    st.f32.set(v, vAt);
    st.f32.set(dOut, gAt);
    this.attentionParams(st, p, mAt, qAt, kAt, vAt);
    st.params[P.DO] = gAt;
    st.params[P.DQ] = dqAt;
    st.params[P.DK] = dkAt;
    st.params[P.DVV] = dvAt;
    this.exec(st, JOB.ATT_BWD, heads);
    return {
      dq: st.f32.slice(dqAt, dqAt + heads * Tq * D),
      dk: st.f32.slice(dkAt, dkAt + heads * Tk * D),
      dv: st.f32.slice(dvAt, dvAt + heads * Tk * Dv),
    };
  }

  private attentionParams(st: State, p: FlashProblem, mAt: number, qAt: number, kAt: number, vAt: number): void {
    const q = st.params;
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

/** The GEMM arguments the pool reads (GemmArgs). */
interface GemmLike {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly a: Float32Array;
  readonly rsa: number;
  readonly csa: number;
  readonly b: Float32Array;
  readonly rsb: number;
  readonly csb: number;
  readonly bias?: Float32Array | null;
  readonly count?: number;
  readonly aOff?: ArrayLike<number>;
  readonly bOff?: ArrayLike<number>;
}

/** Arena bytes for a need of `bytes` (grown by at least half of `old`, rounded up to 1 MiB). */
function arenaSize(bytes: number, old: number): number {
  const want = Math.max(bytes, old + (old >> 1), 1 << 20);
  return Math.min(MAX_ARENA, Math.ceil(want / 2 ** 20) * 2 ** 20);
}

/** A worker's whole program: `threadProgram`'s text, then its serve loop on the worker's port. */
const WORKER_SOURCE = `"use strict";
const wt = require("node:worker_threads");
const data = wt.workerData;
const threadProgram = (${threadProgram.toString()});
threadProgram(data.init).serve({ port: data.port, receive: () => wt.receiveMessageOnPort(data.port) });
`;
