import { BackendError, sizeOf } from "@attn/core";
import type { GpuTensor } from "../buffers.js";
import { dispatch, inferOutputs, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../kernel.js";
import { broadcastStrides } from "./binary.js";

/** Side of the square output tile each 16×16 workgroup computes, staging A and B tiles in workgroup memory. */
const TILE = 16;
const MAX_BATCH_RANK = 6;

/**
 * C = A·B per batch (NumPy matmul broadcasting over batch dims), or with `transB` C = A·Bᵀ (+ bias) for
 * `linear` (W is [O, I]). Uniforms: M, K, N, batch rank, batch shape, A and B batch strides.
 */
function shader(transB: boolean, bias: boolean): string {
  const bAt = transB ? "B[boff + col * K + bk]" : "B[boff + bk * N + col]";
  return `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
${bias ? "@group(0) @binding(4) var<storage, read> Bias: array<f32>;" : ""}
var<workgroup> As: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> Bs: array<array<f32, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = u(0u); let K = u(1u); let N = u(2u);
  let row = wid.y * ${TILE}u + lid.y;
  let col = wid.x * ${TILE}u + lid.x;
  var z = wid.z; var aoff = 0u; var boff = 0u;
  for (var d = i32(u(3u)) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = u(4u + k);
    let idx = z % s;
    z = z / s;
    aoff += idx * u(${4 + MAX_BATCH_RANK}u + k);
    boff += idx * u(${4 + 2 * MAX_BATCH_RANK}u + k);
  }
  var acc = 0.0;
  for (var t = 0u; t < K; t += ${TILE}u) {
    let ak = t + lid.x;
    if (row < M && ak < K) { As[lid.y][lid.x] = A[aoff + row * K + ak]; } else { As[lid.y][lid.x] = 0.0; }
    let bk = t + lid.y;
    if (bk < K && col < N) { Bs[lid.y][lid.x] = ${bAt}; } else { Bs[lid.y][lid.x] = 0.0; }
    workgroupBarrier();
    for (var k = 0u; k < ${TILE}u; k++) { acc += As[lid.y][k] * Bs[k][lid.x]; }
    workgroupBarrier();
  }
  if (row < M && col < N) {
    C[wid.z * M * N + row * N + col] = acc${bias ? " + Bias[col]" : ""};
  }
}`;
}

function gemm(
  ctx: KernelContext, a: GpuTensor, b: GpuTensor, c: GpuTensor, bias: GpuTensor | null,
  M: number, K: number, N: number, batch: readonly number[], aStr: readonly number[], bStr: readonly number[], transB: boolean,
): void {
  const nb = sizeOf(batch);
  if (c.size === 0) return;
  if (batch.length > MAX_BATCH_RANK) throw new BackendError(`${ctx.op}: the webgpu kernel takes up to ${MAX_BATCH_RANK} batch dims, got ${batch.length}`);
  if (nb > 65535) throw new BackendError(`${ctx.op}: the webgpu kernel takes up to 65535 batch entries, got ${nb}`);
  const uniforms = new Array<number>(4 + 3 * MAX_BATCH_RANK).fill(0);
  uniforms[0] = M;
  uniforms[1] = K;
  uniforms[2] = N;
  uniforms[3] = batch.length;
  batch.forEach((d, k) => {
    uniforms[4 + k] = d;
    uniforms[4 + MAX_BATCH_RANK + k] = aStr[k];
    uniforms[4 + 2 * MAX_BATCH_RANK + k] = bStr[k];
  });
  const key = `gemm:${transB ? "nt" : "nn"}:${bias ? "bias" : "nobias"}`;
  dispatch(ctx, key, () => shader(transB, bias !== null), bias ? [a, b, c, bias] : [a, b, c], uniforms, [Math.ceil(N / TILE), Math.ceil(M / TILE), nb]);
}

/** Batched matmul with NumPy semantics (rank-1 operands are a row / column vector whose dim is dropped). */
export const matmulKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const a = inputs[0]!;
  const b = inputs[1]!;
  const as = a.shape.length === 1 ? [1, a.shape[0]] : [...a.shape];
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : [...b.shape];
  const M = as[as.length - 2];
  const K = as[as.length - 1];
  const N = bs[bs.length - 1];
  const aB = as.slice(0, -2);
  const bB = bs.slice(0, -2);
  const rank = Math.max(aB.length, bB.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - aB.length ? 1 : aB[i - (rank - aB.length)];
    const db = i < rank - bB.length ? 1 : bB[i - (rank - bB.length)];
    batch.push(da === 1 ? db : da);
  }
  const c = ctx.pool.tensor("float32", outputs[0].shape);
  const aStr = broadcastStrides(aB, batch).map((s) => s * M * K);
  const bStr = broadcastStrides(bB, batch).map((s) => s * K * N);
  gemm(ctx, a, b, c, null, M, K, N, batch, aStr, bStr, false);
  return [c];
};

/** y = x·Wᵀ + b over the rows of x [..., I] (PyTorch nn.Linear, W [O, I]). */
export const linearKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const [x, w, b] = inputs;
  const O = w!.shape[0];
  const I = w!.shape[1];
  const rows = sizeOf(outputs[0].shape.slice(0, -1));
  const y = ctx.pool.tensor("float32", outputs[0].shape);
  if (I === 0) throw new BackendError("linear: the webgpu kernel needs at least one input feature");
  gemm(ctx, x!, w!, y, b ?? null, rows, I, O, [], [], [], true);
  return [y];
};
