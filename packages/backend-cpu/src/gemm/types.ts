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
export type KernelPath = "js" | "wasm-simd";

/** A GEMM implementation. */
export interface Gemm {
  readonly path: KernelPath;
  /** Computes every product of `args` into a new float32 array [count, M, N]. */
  gemm(args: GemmArgs): Float32Array;
}
