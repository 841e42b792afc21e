/**
 * concat and split: block copies along one axis. Seen as [outer, axis · inner], each piece is a column
 * range of every row, so both ops are one "row copy" kernel on raw 32-bit words (any dtype): thread i
 * copies element i % len of row i / len from the source row (at srcOff) to the destination row (at
 * dstOff). concat records one dispatch per input, split one per output; one pipeline serves both.
 */
import { sizeOf } from "@attn/core";
import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../../kernel.js";

const ROW_COPY = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<u32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  let len = u(1u);
  let row = i / len;
  let col = i % len;
  Y[row * u(4u) + u(5u) + col] = X[row * u(2u) + u(3u) + col];
}`;

/**
 * Records a copy of `rows` rows of `len` words: src[r · srcRow + srcOff + c] → dst[r · dstRow + dstOff + c].
 * Exported for the other block-copy kernels of this family.
 */
export function rowCopy(
  ctx: KernelContext, src: GpuTensor, dst: GpuTensor, rows: number, len: number, srcRow: number, srcOff: number, dstRow: number, dstOff: number,
): void {
  const n = rows * len;
  if (n === 0) return;
  dispatch(ctx, "tensor:row_copy", () => ROW_COPY, [src, dst], [n, len, srcRow, srcOff, dstRow, dstOff], groupsFor(n));
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** concat: joins the inputs along `axis` (all of one dtype). */
export const concatKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number }>(ctx, inputs, attrs);
  const o = outputs[0];
  const ax = normAxis(a.axis, o.shape.length);
  const outer = sizeOf(o.shape.slice(0, ax));
  const inner = sizeOf(o.shape.slice(ax + 1));
  const rowOut = o.shape[ax] * inner;
  const y = ctx.pool.tensor(o.dtype, o.shape);
  let col = 0;
  for (const t of inputs) {
    const rowIn = t!.shape[ax] * inner;
    rowCopy(ctx, t!, y, outer, rowIn, rowIn, 0, rowOut, col);
    col += rowIn;
  }
  return [y];
};

/** split: pieces of the given sizes along `axis`, in order. */
export const splitKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const ax = normAxis(a.axis, x.shape.length);
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
  const rowIn = x.shape[ax] * inner;
  let col = 0;
  return outputs.map((o) => {
    const rowOut = o.shape[ax] * inner;
    const y = ctx.pool.tensor(o.dtype, o.shape);
    rowCopy(ctx, x, y, outer, rowOut, rowIn, col, rowOut, 0);
    col += rowOut;
    return y;
  });
};
