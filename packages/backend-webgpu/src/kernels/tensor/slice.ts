/**
 * slice and select: strided gathers over raw 32-bit words (any dtype), one thread per output element.
 * Both read x at `base + Σ idx_k · stride_k` over the output's multi-index: slice keeps every axis and
 * scales the sliced axis' stride by `step` (negative steps walk back, so strides are signed i32 words
 * passed bit-cast through the u32 uniforms); select drops its axis and starts at `index · stride`.
 * Uniforms: count, rank, base, output shape [MAX_RANK], source strides [MAX_RANK].
 */
import { BackendError, stridesOf } from "@attn/core";
import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, MAX_RANK, WG, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../../kernel.js";

const GATHER = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<u32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  var r = i;
  var src = bitcast<i32>(u(2u));
  for (var d = i32(u(1u)) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = u(3u + k);
    src += i32(r % s) * bitcast<i32>(u(${3 + MAX_RANK}u + k));
    r = r / s;
  }
  Y[i] = X[u32(src)];
}`;

/** Records y[idx] = x[base + Σ idx_k · strides_k] over y's shape (strides may be negative). */
function gather(ctx: KernelContext, x: GpuTensor, y: GpuTensor, base: number, strides: readonly number[]): void {
  const rank = y.shape.length;
  if (rank > MAX_RANK) throw new BackendError(`${ctx.op}: the webgpu kernel takes up to rank ${MAX_RANK}, got rank ${rank}`);
  if (y.size === 0) return;
  const uniforms = new Uint32Array(3 + 2 * MAX_RANK);
  uniforms[0] = y.size;
  uniforms[1] = rank;
  uniforms[2] = base;
  y.shape.forEach((d, k) => {
    uniforms[3 + k] = d;
    // two's complement: the shader reads these words back as i32
    uniforms[3 + MAX_RANK + k] = strides[k] >>> 0;
  });
  dispatch(ctx, "tensor:strided_gather", () => GATHER, [x, y], uniforms, groupsFor(y.size));
}

/** First index of x[start:end:step] on an axis of size d, with Python's clamping (as core's shape function). */
function sliceStart(start: number, d: number, step: number): number {
  return start < 0 ? Math.max(start + d, step > 0 ? 0 : -1) : Math.min(start, step > 0 ? d : d - 1);
}

/** slice: x[start:end:step] along `axis`. */
export const sliceKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number; start: number; step: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const o = outputs[0];
  const ax = a.axis < 0 ? a.axis + x.shape.length : a.axis;
  const y = ctx.pool.tensor(x.dtype, o.shape);
  if (y.size === 0) return [y];
  const st = stridesOf(x.shape);
  const start = sliceStart(a.start, x.shape[ax], a.step);
  gather(ctx, x, y, start * st[ax], st.map((s, k) => (k === ax ? s * a.step : s)));
  return [y];
};

/** select: x[..., index, ...] along `axis`, which is removed. */
export const selectKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number; index: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const ax = a.axis < 0 ? a.axis + x.shape.length : a.axis;
  const d = x.shape[ax];
  const index = a.index < 0 ? a.index + d : a.index;
  // core checks concrete dims; a symbolic axis is only known here
  if (index < 0 || index >= d) throw new BackendError(`select: index ${a.index} is out of range for axis ${ax} of size ${d}`);
  const y = ctx.pool.tensor(x.dtype, outputs[0].shape);
  const st = stridesOf(x.shape);
  gather(ctx, x, y, index * st[ax], st.filter((_, k) => k !== ax));
  return [y];
};
