/**
 * Implicit GEMM: C[z][m][n] = Σ_k A(z, m, k) · B(z, k, n), where A and B are never materialised. Each
 * caller supplies WGSL bodies that compute an operand element from its own tensors (im2col on the fly for
 * conv2d, the transposed gather for its input gradient, …), so convolution and its gradients share one
 * tiled kernel: a 16×16 workgroup stages a 16×16 tile of A and of B in workgroup memory per step of k,
 * and each thread owns one output element. The products of one tile are summed into a partial before
 * joining the running total, which keeps rounding error near O(K/16 + 16) instead of O(K) for the long
 * reductions of the weight gradient (batch × positions).
 *
 * Uniform words 0, 1, 2 are M, K, N; callers put their own sizes from word 3 on.
 */
import { BackendError } from "@attn/core";
import type { GpuTensor } from "../../buffers.js";
import { dispatch, WGSL_UNIFORMS, type KernelContext } from "../../kernel.js";

/** Side of the square output tile computed by one workgroup. */
export const GEMM_TILE = 16;
const MAX_GROUPS = 65535;

/** The WGSL pieces of one implicit GEMM. */
export interface ImplicitGemm {
  /** Pipeline cache key: op and variant, never concrete sizes. */
  readonly key: string;
  /** Declarations of bindings 1.. (the tensors, in dispatch order) and any helper functions. */
  readonly decls: string;
  /** Body of `fn load_a(z: u32, m: u32, k: u32) -> f32`; called only with m < M and k < K. */
  readonly loadA: string;
  /** Body of `fn load_b(z: u32, k: u32, j: u32) -> f32` (j: column); called only with k < K and j < N. */
  readonly loadB: string;
  /** Body of `fn store(z: u32, m: u32, j: u32, v: f32)`; called once per output element. */
  readonly store: string;
}

function shader(g: ImplicitGemm): string {
  const T = GEMM_TILE;
  return `${WGSL_UNIFORMS}
${g.decls}
var<workgroup> As: array<array<f32, ${T}>, ${T}>;
var<workgroup> Bs: array<array<f32, ${T}>, ${T}>;
fn load_a(z: u32, m: u32, k: u32) -> f32 { ${g.loadA} }
fn load_b(z: u32, k: u32, j: u32) -> f32 { ${g.loadB} }
fn store(z: u32, m: u32, j: u32, v: f32) { ${g.store} }
@compute @workgroup_size(${T}, ${T}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = u(0u); let K = u(1u); let N = u(2u);
  let z = wid.z;
  let row = wid.y * ${T}u + lid.y;
  let col = wid.x * ${T}u + lid.x;
  var acc = 0.0;
  for (var t = 0u; t < K; t += ${T}u) {
    let ak = t + lid.x;
    var a = 0.0;
    if (row < M && ak < K) { a = load_a(z, row, ak); }
    As[lid.y][lid.x] = a;
    let bk = t + lid.y;
    var b = 0.0;
    if (bk < K && col < N) { b = load_b(z, bk, col); }
    Bs[lid.y][lid.x] = b;
    workgroupBarrier();
    var part = 0.0;
    for (var k = 0u; k < ${T}u; k++) { part += As[lid.y][k] * Bs[k][lid.x]; }
    acc += part;
    workgroupBarrier();
  }
  if (row < M && col < N) { store(z, row, col, acc); }
}`;
}

/**
 * Records one implicit GEMM of `batches` independent M×N products over K. `uniforms` are the caller's
 * words from index 3 on (M, K, N are prepended). Nothing is recorded when the output is empty; K = 0
 * stores zeros.
 */
export function implicitGemm(
  ctx: KernelContext, g: ImplicitGemm, tensors: readonly GpuTensor[], M: number, K: number, N: number, batches: number, uniforms: readonly number[],
): void {
  if (M === 0 || N === 0 || batches === 0) return;
  const gx = Math.ceil(N / GEMM_TILE);
  const gy = Math.ceil(M / GEMM_TILE);
  if (gx > MAX_GROUPS || gy > MAX_GROUPS || batches > MAX_GROUPS) {
    throw new BackendError(`${ctx.op}: the webgpu kernel's GEMM of ${batches} × ${M}×${N} needs more than ${MAX_GROUPS} workgroups along one axis`);
  }
  dispatch(ctx, g.key, () => shader(g), tensors, [M, K, N, ...uniforms], [gx, gy, batches]);
}
