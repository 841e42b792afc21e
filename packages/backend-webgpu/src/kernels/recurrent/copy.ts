/**
 * Strided row copies and fills, the glue of the recurrent family: a scan slices x[:, t] out of its
 * sequences and stacks each step's outputs back at index t, and the GRU kernels move one direction's
 * state in and out of [B, S, dirs·H] / [dirs, B, H] buffers. Every such move is `rows` runs of `inner`
 * contiguous words with a row stride and an offset on each side, so one pipeline over raw 32-bit words
 * (any dtype: f32, i32 and bool-as-u32 are all one word) serves them all; sizes are uniforms.
 */
import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, WG, WGSL_UNIFORMS, type KernelContext } from "../../kernel.js";

const COPY = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> Src: array<u32>;
@group(0) @binding(2) var<storage, read_write> Dst: array<u32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  let inner = u(1u);
  let row = i / inner;
  let k = i % inner;
  Dst[row * u(4u) + u(5u) + k] = Src[row * u(2u) + u(3u) + k];
}`;

const FILL = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read_write> Dst: array<u32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  Dst[u(1u) + i] = u(2u);
}`;

/** Where `rows` runs of `inner` words start: word offset of run 0 and the distance between runs. */
export interface Strided {
  readonly offset: number;
  readonly stride: number;
}

/** Records dst[r·dst.stride + dst.offset + k] = src[r·src.stride + src.offset + k] for r < rows, k < inner. */
export function copyRows(
  ctx: KernelContext, src: GpuTensor, from: Strided, dst: GpuTensor, to: Strided, rows: number, inner: number,
): void {
  const n = rows * inner;
  if (n === 0) return;
  dispatch(ctx, "recurrent:copy_rows", () => COPY, [src, dst], [n, inner, from.stride, from.offset, to.stride, to.offset], groupsFor(n));
}

/** Records dst[offset + i] = 0 (all-zero bits: 0.0, 0 or false) for i < n. */
export function fillZero(ctx: KernelContext, dst: GpuTensor, n: number, offset = 0): void {
  if (n === 0) return;
  dispatch(ctx, "recurrent:fill", () => FILL, [dst], [n, offset, 0], groupsFor(n));
}
