/**
 * pad: zeros before and after x along one axis (the gradient of slice and select). One pass, one thread
 * per output element on raw 32-bit words (any dtype; the zero word is 0.0, 0 and false alike): seen as
 * [outer, len, inner], position p of the axis reads x at p − before when that lies inside x, else zero.
 * A single gather writes every output word, so there is no separate clear of the buffer.
 */
import { BackendError, parseDim, sizeOf } from "@attn/core";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";

const PAD = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<u32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  let len = u(1u); let inner = u(2u); let before = u(3u); let n = u(4u);
  let p = (i / inner) % len;
  if (p < before || p >= before + n) { Y[i] = 0u; return; }
  let o = i / (inner * len);
  Y[i] = X[(o * n + (p - before)) * inner + i % inner];
}`;

/** pad: `before` zeros, x, `after` zeros along `axis` (bounds may be symbolic; they are bound per run). */
export const padKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number; before: number | string }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const o = outputs[0];
  const ax = a.axis < 0 ? a.axis + x.shape.length : a.axis;
  const before = ctx.env.evaluate(typeof a.before === "string" ? parseDim(a.before) : a.before);
  if (before === undefined || before < 0) throw new BackendError(`pad: before is ${String(a.before)}, which this run does not bind to a size ≥ 0`);
  const y = ctx.pool.tensor(o.dtype, o.shape);
  if (y.size === 0) return [y];
  const inner = sizeOf(o.shape.slice(ax + 1));
  dispatch(ctx, "tensor:pad", () => PAD, [x, y], [y.size, o.shape[ax], inner, before, x.shape[ax]], groupsFor(y.size));
  return [y];
};
