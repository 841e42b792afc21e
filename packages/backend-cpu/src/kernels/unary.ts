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

/**
 * out[i] = fn(x[i]). The common ops get their own loop (a loop calling a function passed in is
 * megamorphic once several ops share it: every result is then boxed and every call is a real call); the
 * rest call `fn`. Results are the same either way: computed in double, rounded once on store.
 */
function mapFloat(x: Tensor, shape: number[], fn: (v: number) => number, op?: string): Tensor {
  const xd = x.data as Float32Array;
  const n = xd.length;
  const out = new Float32Array(n);
  switch (op) {
    case "relu":
      for (let i = 0; i < n; i++) {
        const v = xd[i];
        out[i] = v < 0 ? 0 : v;
      }
      break;
    case "tanh":
      for (let i = 0; i < n; i++) out[i] = Math.tanh(xd[i]);
      break;
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(xd[i]);
      break;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(xd[i]);
      break;
    case "neg":
      for (let i = 0; i < n; i++) out[i] = -xd[i];
      break;
    case "sqrt":
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(xd[i]);
      break;
    case "abs":
      for (let i = 0; i < n; i++) out[i] = Math.abs(xd[i]);
      break;
    case "sigmoid":
      for (let i = 0; i < n; i++) out[i] = sigmoid(xd[i]);
      break;
    case "silu":
      for (let i = 0; i < n; i++) {
        const v = xd[i];
        out[i] = v * sigmoid(v);
      }
      break;
    case "gelu":
      for (let i = 0; i < n; i++) {
        const v = xd[i];
        out[i] = 0.5 * v * (1 + erf(v * Math.SQRT1_2));
      }
      break;
    case "gelu_tanh":
      for (let i = 0; i < n; i++) {
        const v = xd[i];
        out[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
      }
      break;
    default:
      for (let i = 0; i < n; i++) out[i] = fn(xd[i]);
  }
  return new Tensor("float32", shape, out);
}

function unaryKernel(fn: (v: number) => number, op: string): Kernel {
  return (inputs, attrs, ctx) => {
    const { outputs } = inferOutputs(ctx, inputs, attrs);
    return [mapFloat(inputs[0]!, outputs[0].shape, fn, op)];
  };
}

export const geluKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ approximate: "none" | "tanh" }>(ctx, inputs, attrs);
  const tanh = a.approximate === "tanh";
  return [mapFloat(inputs[0]!, outputs[0].shape, tanh ? geluTanh : geluExact, tanh ? "gelu_tanh" : "gelu")];
};

export const logicalNotKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const xd = inputs[0]!.data;
  const out = new Uint8Array(xd.length);
  for (let i = 0; i < out.length; i++) out[i] = xd[i] === 0 ? 1 : 0;
  return [new Tensor("bool", outputs[0].shape, out)];
};

export const unaryKernels: Readonly<Record<string, Kernel>> = {
  ...Object.fromEntries(Object.entries(UNARY_FUNCTIONS).map(([name, fn]) => [name, unaryKernel(fn, name)])),
  gelu: geluKernel,
  logical_not: logicalNotKernel,
};
