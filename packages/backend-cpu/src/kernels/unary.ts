import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { erf } from "../util/erf.js";

/**
 * Elementwise float ops. Each value is computed in double precision and rounded once to float32 on
 * store, so results are correctly rounded wherever the Math function is.
 */

export function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU, exact form (PyTorch default): x·Φ(x) = ½x(1 + erf(x/√2)). */
export function geluExact(v: number): number {
  return 0.5 * v * (1 + erf(v * Math.SQRT1_2));
}

/** GELU, tanh form: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function geluTanh(v: number): number {
  return 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
}

/** The float unary ops of the catalogue. */
export const UNARY_FUNCTIONS: Readonly<Record<string, (v: number) => number>> = {
  relu: (v) => (v < 0 ? 0 : v), // NaN passes through, as in PyTorch
  tanh: Math.tanh,
  sigmoid,
  exp: Math.exp,
  log: Math.log,
  neg: (v) => -v,
  sqrt: Math.sqrt,
  abs: Math.abs,
  silu: (v) => v * sigmoid(v),
};

function mapFloat(x: Tensor, shape: number[], fn: (v: number) => number): Tensor {
  const xd = x.data;
  const out = new Float32Array(xd.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(xd[i]);
  return new Tensor("float32", shape, out);
}

function unaryKernel(fn: (v: number) => number): Kernel {
  return (inputs, attrs, ctx) => {
    const { outputs } = inferOutputs(ctx, inputs, attrs);
    return [mapFloat(inputs[0]!, outputs[0].shape, fn)];
  };
}

export const geluKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ approximate: "none" | "tanh" }>(ctx, inputs, attrs);
  return [mapFloat(inputs[0]!, outputs[0].shape, a.approximate === "tanh" ? geluTanh : geluExact)];
};

export const logicalNotKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const xd = inputs[0]!.data;
  const out = new Uint8Array(xd.length);
  for (let i = 0; i < out.length; i++) out[i] = xd[i] === 0 ? 1 : 0;
  return [new Tensor("bool", outputs[0].shape, out)];
};

export const unaryKernels: Readonly<Record<string, Kernel>> = {
  ...Object.fromEntries(Object.entries(UNARY_FUNCTIONS).map(([name, fn]) => [name, unaryKernel(fn)])),
  gelu: geluKernel,
  logical_not: logicalNotKernel,
};
