import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

/**
 * y[r, o] = Σᵢ x[r, i]·W[o, i] + b[o] over the rows r of x [..., I] (PyTorch nn.Linear, W [O, I]).
 * Both operands are read along contiguous rows; each dot product accumulates in double.
 */
export function affineRows(
  x: Float32Array, xOff: number, rows: number, I: number, w: Float32Array, bias: Float32Array | null, O: number,
  out: Float32Array | Float64Array, outOff: number,
): void {
  for (let r = 0; r < rows; r++) {
    const xr = xOff + r * I;
    const or = outOff + r * O;
    for (let o = 0; o < O; o++) {
      const wo = o * I;
      let s = 0;
      for (let i = 0; i < I; i++) s += x[xr + i] * w[wo + i];
      out[or + o] = bias ? s + bias[o] : s;
    }
  }
}

/** linear: y = x Wᵀ + b over the rows of x, on the kernel path's GEMM (Wᵀ is read in place, never copied). */
export const linearKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const [x, w, b] = inputs;
  const O = w!.shape[0];
  const I = w!.shape[1];
  const rows = I === 0 ? outputs[0].shape.slice(0, -1).reduce((p, d) => p * d, 1) : x!.size / I;
  const out = ctx.gemm.gemm({
    M: rows, N: O, K: I, a: x!.data as Float32Array, rsa: I, csa: 1, b: w!.data as Float32Array, rsb: 1, csb: I,
    bias: b ? (b.data as Float32Array) : null,
  });
  return [new Tensor("float32", outputs[0].shape, out)];
};
