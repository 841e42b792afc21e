import { Tensor, sizeOf, stridesOf } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

/**
 * C[M, N] = A[M, K] · B[K, N] for one pair of row-major matrices, accumulating each output row in double
 * precision (i-k-j order: B and C are read along rows).
 */
export function gemm(
  a: Float32Array, aOff: number, b: Float32Array, bOff: number, c: Float32Array, cOff: number,
  M: number, K: number, N: number, acc: Float64Array,
): void {
  for (let i = 0; i < M; i++) {
    acc.fill(0, 0, N);
    const ai = aOff + i * K;
    for (let k = 0; k < K; k++) {
      const aik = a[ai + k];
      const bk = bOff + k * N;
      for (let j = 0; j < N; j++) acc[j] += aik * b[bk + j];
    }
    const ci = cOff + i * N;
    for (let j = 0; j < N; j++) c[ci + j] = acc[j];
  }
}

/**
 * Batched matmul with NumPy semantics: batch dims broadcast; a rank-1 `a` is a row vector and a rank-1 `b`
 * a column vector, and that dim is dropped from the result.
 */
export const matmulKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const a = inputs[0]!;
  const b = inputs[1]!;
  const as = a.rank === 1 ? [1, a.shape[0]] : [...a.shape];
  const bs = b.rank === 1 ? [b.shape[0], 1] : [...b.shape];
  const M = as[as.length - 2];
  const K = as[as.length - 1];
  const N = bs[bs.length - 1];
  const aBatch = as.slice(0, -2);
  const bBatch = bs.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - aBatch.length ? 1 : aBatch[i - (rank - aBatch.length)];
    const db = i < rank - bBatch.length ? 1 : bBatch[i - (rank - bBatch.length)];
    batch.push(da === 1 ? db : da);
  }
  const nb = sizeOf(batch);
  const out = new Float32Array(nb * M * N);
  const aStr = batchStrides(aBatch, batch, M * K);
  const bStr = batchStrides(bBatch, batch, K * N);
  const acc = new Float64Array(N);
  const ad = a.data as Float32Array;
  const bd = b.data as Float32Array;
  const idx = new Int32Array(rank);
  let aOff = 0;
  let bOff = 0;
  for (let t = 0; t < nb; t++) {
    gemm(ad, aOff, bd, bOff, out, t * M * N, M, K, N, acc);
    for (let d = rank - 1; d >= 0; d--) {
      aOff += aStr[d];
      bOff += bStr[d];
      if (++idx[d] < batch[d]) break;
      aOff -= aStr[d] * batch[d];
      bOff -= bStr[d] * batch[d];
      idx[d] = 0;
    }
  }
  return [new Tensor("float32", outputs[0].shape, out)];
};

/** Strides (in elements) of an operand's batch dims over the broadcast batch shape; 0 where broadcast. */
function batchStrides(own: readonly number[], batch: readonly number[], matSize: number): number[] {
  const off = batch.length - own.length;
  const st = stridesOf(own);
  return batch.map((_, i) => (i < off || own[i - off] === 1 ? 0 : st[i - off] * matSize));
}
