import { wasmFlash, type FlashProblem } from "../flash/wasm.js";
import type { FlashKernel, Gemm, GemmArgs } from "../gemm/types.js";
import { gemmFor } from "../gemm/index.js";
import { ThreadPool } from "./pool.js";

export { defaultThreads, MIN_PARALLEL_FLOPS, threadsSupported, threadsUnavailable, ThreadPool } from "./pool.js";
export { workerHostKind } from "./host.js";

/**
 * The `"wasm-simd-threads"` kernels: the same WebAssembly SIMD GEMM and flash attention as `"wasm-simd"`,
 * split over a `ThreadPool` (the calling thread plus `threads − 1` workers). Problems too small to be
 * worth the threads run on this thread's own single-threaded instances, with the same results.
 */
export class ThreadedGemm implements Gemm {
  readonly path = "wasm-simd-threads" as const;
  readonly pool: ThreadPool;
  readonly flash: FlashKernel;
  private single: Gemm | null = null;

  constructor(threads: number, minFlops?: number) {
    const pool = new ThreadPool(threads, minFlops);
    this.pool = pool;
    this.flash = {
      forward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, weights: boolean, lse?: Float32Array) {
        const r = pool.forward(p, q, k, v, weights, lse);
        return r === undefined ? wasmFlash().forward(p, q, k, v, weights, lse) : r;
      },
      backward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, dOut: Float32Array) {
        const r = pool.backward(p, q, k, v, dOut);
        return r === undefined ? wasmFlash().backward(p, q, k, v, dOut) : r;
      },
    };
  }

  gemm(p: GemmArgs): Float32Array {
    return this.pool.gemm(p) ?? (this.single ??= gemmFor("wasm-simd")).gemm(p);
  }

  /** Terminates the pool's workers (they restart on the next threaded call). */
  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
