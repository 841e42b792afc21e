import { Tensor, sizeOf, stridesOf } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { coalesce, forEachRow, innerOf, normAxis } from "../util/strided.js";

type Mode = "sum" | "mean" | "max";

/**
 * reduce_sum / reduce_mean / reduce_max over `axes`, accumulating in double. One pass over the input in
 * memory order; each element adds into its output slot (output strides are 0 on reduced dims). Empty
 * `axes` reduces nothing (the shape function keeps every dim). reduce_max propagates NaN.
 */
function reduceKernel(mode: Mode): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ axes: number[]; keepdims: boolean }>(ctx, inputs, attrs);
    const x = inputs[0]!;
    const xd = x.data as Float32Array;
    const red = new Set(a.axes.map((ax) => normAxis(ax, x.rank)));
    const kept = x.shape.map((d, i) => (red.has(i) ? 1 : d));
    const outSt = stridesOf(kept).map((s, i) => (red.has(i) ? 0 : s));
    const count = sizeOf(x.shape.filter((_, i) => red.has(i)));
    const acc = new Float64Array(sizeOf(kept));
    if (mode === "max") acc.fill(-Infinity);
    if (x.size > 0) {
      const c = coalesce(x.shape, [stridesOf(x.shape), outSt]);
      const { len, strides } = innerOf(c);
      const [si, so] = strides;
      forEachRow(c, [0, 0], ([pi, po]) => {
        if (so === 0) {
          if (mode === "max") {
            let m = acc[po];
            for (let j = 0; j < len; j++) {
              const v = xd[pi + j * si];
              if (v > m || v !== v) m = v;
              if (m !== m) break;
            }
            acc[po] = m;
          } else {
            let s = 0;
            for (let j = 0; j < len; j++) s += xd[pi + j * si];
            acc[po] += s;
          }
        } else if (mode === "max") {
          for (let j = 0; j < len; j++) {
            const v = xd[pi + j * si];
            const m = acc[po + j * so];
            if (v > m || (v !== v && m === m)) acc[po + j * so] = v;
          }
        } else {
          for (let j = 0; j < len; j++) acc[po + j * so] += xd[pi + j * si];
        }
      });
    }
    const out = new Float32Array(acc.length);
    if (mode === "mean") for (let i = 0; i < acc.length; i++) out[i] = acc[i] / count;
    else out.set(acc);
    return [new Tensor("float32", outputs[0].shape, out)];
  };
}

export const reduceKernels: Readonly<Record<string, Kernel>> = {
  reduce_sum: reduceKernel("sum"),
  reduce_mean: reduceKernel("mean"),
  reduce_max: reduceKernel("max"),
};
