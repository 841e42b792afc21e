import type { FlashProblem } from "../flash/wasm.js";

/**
 * One GEMM problem, possibly batched: for t < count,
 *   C[t] (M×N, row-major, contiguous) = A[t] (M×K) · B[t] (K×N) (+ bias[N] on every row).
 * A and B are read through element strides, so a transposed operand is free: element (i, k) of A[t] is
 * `a[aOff[t] + i·rsa + k·csa]`, element (k, j) of B[t] is `b[bOff[t] + k·rsb + j·csb]`.
 */
export interface GemmArgs {
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
  /** Number of products (default 1). */
  readonly count?: number;
  /** Element offset of each A[t] (default all 0). */
  readonly aOff?: ArrayLike<number>;
  /** Element offset of each B[t] (default all 0). */
  readonly bOff?: ArrayLike<number>;
}

/** The name of a kernel path: which implementation runs the hot kernels. */
export type KernelPath = "js" | "wasm-simd" | "wasm-simd-threads";

/** A GEMM implementation. */
export interface Gemm {
  readonly path: KernelPath;
  /** Computes every product of `args` into a new float32 array [count, M, N]. */
  gemm(args: GemmArgs): Float32Array;
  /**
   * The fused attention kernel that goes with this GEMM (the threaded one on `"wasm-simd-threads"`);
   * absent: the shared single-threaded wasm instance on a wasm path, none on `"js"`.
   */
  readonly flash?: FlashKernel;
}

/** The shape of a fused flash-attention kernel (`WasmFlash`, or the threaded one); null: too large, run the portable kernel. */
export interface FlashKernel {
  forward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, weights: boolean, lse?: Float32Array): { out: Float32Array; weights: Float32Array | null } | null;
  backward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, dOut: Float32Array): { dq: Float32Array; dk: Float32Array; dv: Float32Array } | null;
}
