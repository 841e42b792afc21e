import { BackendError, Tensor, allocArray, sizeOf, stridesOf } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { gather, normAxis } from "../util/strided.js";

/**
 * First index of `x[start:end:step]` on an axis of size `d`, with Python's clamping (the same rule as
 * core's shape function, which gives the length).
 */
export function sliceStart(start: number, d: number, step: number): number {
  return start < 0 ? Math.max(start + d, step > 0 ? 0 : -1) : Math.min(start, step > 0 ? d : d - 1);
}

/**
 * x[start:end:step] along one axis (negative bounds count from the end; negative steps walk back). A
 * contiguous range of x (step 1 on an axis with only size-1 dims before it, e.g. rows of a stacked weight
 * such as in_proj_weight) is returned as a view of x's data, as reshape shares its input's.
 */
export const sliceKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number; start: number; end: number | null; step: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const o = outputs[0];
  const ax = normAxis(a.axis, x.rank);
  const st = stridesOf(x.shape);
  const size = sizeOf(o.shape);
  if (a.step === 1 && size > 0 && x.shape.slice(0, ax).every((d) => d === 1)) {
    const from = sliceStart(a.start, x.shape[ax], 1) * st[ax];
    return [new Tensor(x.dtype, o.shape, x.data.subarray(from, from + size))];
  }
  const out = allocArray(x.dtype, size);
  if (out.length > 0) {
    const s = sliceStart(a.start, x.shape[ax], a.step);
    gather(x.data, s * st[ax], st.map((v, i) => (i === ax ? v * a.step : v)), o.shape, out);
  }
  return [new Tensor(x.dtype, o.shape, out)];
};

/** x[..., index, ...] along one axis, removing it. */
export const selectKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number; index: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const o = outputs[0];
  const ax = normAxis(a.axis, x.rank);
  const d = x.shape[ax];
  const index = a.index < 0 ? a.index + d : a.index;
  if (index < 0 || index >= d) throw new BackendError(`select: index ${a.index} is out of range for axis ${ax} of size ${d}`);
  const st = stridesOf(x.shape);
  const out = allocArray(x.dtype, sizeOf(o.shape));
  gather(x.data, index * st[ax], st.filter((_, i) => i !== ax), o.shape, out);
  return [new Tensor(x.dtype, o.shape, out)];
};
