import { Tensor, sizeOf, stridesOf } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { swapShape } from "../util/axis-swap.js";
import { reduceKernels } from "./reduce.js";

/**
 * Batched matmul with NumPy semantics: batch dims broadcast; a rank-1 `a` is a row vector and a rank-1 `b`
 * a column vector, and that dim is dropped from the result. Every product runs on the kernel path's GEMM
 * (`ctx.gemm`): the JS one accumulates in double, the WebAssembly SIMD one in float32. When `b` is shared by
 * the whole batch (a 2-D weight, or batch dims of size 1), the batch is flattened into the rows of one
 * product.
 */
export const matmulKernel: Kernel = matmulKernelFor(false, false);

/**
 * matmul whose `a` (`transA`) or `b` (`transB`) arrives with its last two axes swapped: the kernel a
 * transpose feeding matmul folds into (plan/fold-transposes.ts). The GEMM reads the stored operand through
 * strides, so the products are the same, bit for bit, as those of the transposed copy. A swapped operand
 * has rank ≥ 2.
 */
export function matmulKernelFor(transA: boolean, transB: boolean): Kernel {
  return (inputs, attrs, ctx) => {
    const a = inputs[0]!;
    const b = inputs[1]!;
    // The operands' logical shapes (what the op sees); only shapes are read from them here.
    const as = a.rank === 1 ? [1, a.shape[0]] : transA ? swapShape(a.shape, "matrix") : [...a.shape];
    const bs = b.rank === 1 ? [b.shape[0], 1] : transB ? swapShape(b.shape, "matrix") : [...b.shape];
    const { outputs } = inferOutputs(ctx, [transA ? { dtype: a.dtype, shape: as } : a, transB ? { dtype: b.dtype, shape: bs } : b], attrs);
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
    const aStr = batchStrides(aBatch, batch, M * K);
    const bStr = batchStrides(bBatch, batch, K * N);
    if (nb > 1 && bStr.every((s) => s === 0) && denseBatch(aStr, batch, M * K) && (!transA || M === 1)) {
      // B is shared by every product and A's matrices lie one after another (rows of K): the products are
      // the rows of one GEMM [nb·M, K] · [K, N], whose result is already laid out [nb, M, N]. One call
      // packs B once instead of nb times (B small products: a decoder step's [B, 1, K] · [K, N]). Each
      // row's dot products are the ones the batched call computes, so results are the same, bit for bit.
      const out = ctx.gemm.gemm({
        M: nb * M, N, K,
        a: a.data as Float32Array, rsa: K, csa: 1,
        b: b.data as Float32Array, rsb: transB ? 1 : N, csb: transB ? K : 1,
      });
      return [new Tensor("float32", outputs[0].shape, out)];
    }
    // Each product's operand offsets, walking the broadcast batch index like an odometer.
    const aOff = new Float64Array(nb);
    const bOff = new Float64Array(nb);
    const idx = new Int32Array(rank);
    let ao = 0;
    let bo = 0;
    for (let t = 0; t < nb; t++) {
      aOff[t] = ao;
      bOff[t] = bo;
      for (let d = rank - 1; d >= 0; d--) {
        ao += aStr[d];
        bo += bStr[d];
        if (++idx[d] < batch[d]) break;
        ao -= aStr[d] * batch[d];
        bo -= bStr[d] * batch[d];
        idx[d] = 0;
      }
    }
    // A stored transposed is [K, M] row-major: element (i, k) at k·M + i (likewise B as [N, K]).
    const out = ctx.gemm.gemm({
      M, N, K,
      a: a.data as Float32Array, rsa: transA ? 1 : K, csa: transA ? M : 1,
      b: b.data as Float32Array, rsb: transB ? 1 : N, csb: transB ? K : 1,
      count: nb, aOff, bOff,
    });
    return [new Tensor("float32", outputs[0].shape, out)];
  };
}

/**
 * matmul (`a`, `b` stored transposed where `transA` / `transB`) followed by a reduce_sum over every batch
 * axis (`keepdims` as the reduce's): Σ_t A[t] · B[t], [M, N] (or [1, …, 1, M, N]). The plan fuses the two
 * (plan/fold-batch-sums.ts). Where neither operand is broadcast and the summed index k' = t·K + k has one
 * stride in both (A stored transposed or M = 1, B as stored or N = 1: a weight gradient xᵀ · dy), it is one
 * GEMM [M, T·K] · [T·K, N]; otherwise the product runs batched and is summed as by reduce_sum.
 */
export function matmulBatchSumKernel(transA: boolean, transB: boolean, keepdims: boolean): Kernel {
  const product = matmulKernelFor(transA, transB);
  const sum = reduceKernels.reduce_sum!;
  return (inputs, attrs, ctx) => {
    const a = inputs[0]!;
    const b = inputs[1]!;
    const r = a.rank;
    if (r >= 3 && b.rank === r && a.shape.slice(0, r - 2).every((d, i) => d === b.shape[i])) {
      const as = transA ? swapShape(a.shape, "matrix") : [...a.shape];
      const bs = transB ? swapShape(b.shape, "matrix") : [...b.shape];
      const M = as[r - 2];
      const K = as[r - 1];
      const N = bs[r - 1];
      if ((transA || M === 1) && (!transB || N === 1)) {
        // the product's shape function checks the operands (K of a against K of b)
        inferOutputs(ctx, [transA ? { dtype: a.dtype, shape: as } : a, transB ? { dtype: b.dtype, shape: bs } : b], attrs);
        const T = sizeOf(as.slice(0, r - 2));
        const KT = T * K;
        const out = ctx.gemm.gemm({
          M, N, K: KT,
          a: a.data as Float32Array, rsa: transA ? 1 : KT, csa: transA ? M : 1,
          b: b.data as Float32Array, rsb: transB ? 1 : N, csb: transB ? KT : 1,
        });
        return [new Tensor("float32", keepdims ? [...Array<number>(r - 2).fill(1), M, N] : [M, N], out)];
      }
    }
    const [p] = product(inputs, attrs, ctx);
    const axes = Array.from({ length: p.rank - 2 }, (_, i) => i);
    return sum([p], { axes, keepdims }, { ...ctx, op: "reduce_sum" });
  };
}

/** Whether batch strides `st` (over `batch`) place matrix t at t·matSize: the operand is not broadcast at all. */
function denseBatch(st: readonly number[], batch: readonly number[], matSize: number): boolean {
  let expect = matSize;
  for (let i = batch.length - 1; i >= 0; i--) {
    if (batch[i] !== 1 && st[i] !== expect) return false;
    expect *= batch[i];
  }
  return true;
}

/** Strides (in elements) of an operand's batch dims over the broadcast batch shape; 0 where broadcast. */
function batchStrides(own: readonly number[], batch: readonly number[], matSize: number): number[] {
  const off = batch.length - own.length;
  const st = stridesOf(own);
  return batch.map((_, i) => (i < off || own[i - off] === 1 ? 0 : st[i - off] * matSize));
}
