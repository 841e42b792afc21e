import { BackendError, Tensor, allocArray, sizeOf, stridesOf, type AnyTypedArray } from "@attn/core";
import { inferOutputs, inputName, type Kernel } from "../kernel.js";
import { broadcastStrides, coalesce, forEachRow, innerOf, sameShape } from "../util/strided.js";

/**
 * Binary elementwise ops with NumPy broadcasting.
 *
 * - float32: computed in double and rounded once, which for + − × ÷ gives exactly the float32 result.
 * - int32: add, sub and mul wrap modulo 2³² (two's complement, as in C and PyTorch); div truncates toward
 *   zero (C semantics, not Python's floor) and a zero divisor is an error; maximum/minimum are exact.
 * - comparisons give bool (NaN compares unequal to everything); logical ops read any nonzero byte as true.
 */

type BinFn = (a: number, b: number) => number;

class IntDivisionByZero extends Error {}

const FLOAT_ARITH: Record<string, BinFn> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: Math.max, // NaN propagates, as torch.maximum
  minimum: Math.min,
};

const INT_ARITH: Record<string, BinFn> = {
  add: (a, b) => (a + b) | 0,
  sub: (a, b) => (a - b) | 0,
  mul: Math.imul,
  div: (a, b) => {
    if (b === 0) throw new IntDivisionByZero();
    return Math.trunc(a / b) | 0;
  },
  maximum: Math.max,
  minimum: Math.min,
};

const COMPARE: Record<string, BinFn> = {
  equal: (a, b) => (a === b ? 1 : 0),
  not_equal: (a, b) => (a !== b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  greater: (a, b) => (a > b ? 1 : 0),
};

const LOGICAL: Record<string, BinFn> = {
  logical_and: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  logical_or: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};

/** out[i] = f(a[ia], b[ib]) over the broadcast of a and b to `shape`. */
export function broadcastBinary(a: Tensor, b: Tensor, shape: readonly number[], out: AnyTypedArray, f: BinFn): void {
  const ad = a.data;
  const bd = b.data;
  const n = out.length;
  if (n === 0) return;
  const aFull = sameShape(a.shape, shape);
  const bFull = sameShape(b.shape, shape);
  if (aFull && bFull) {
    for (let i = 0; i < n; i++) out[i] = f(ad[i], bd[i]);
    return;
  }
  if (aFull && b.size === 1) {
    const bv = bd[0];
    for (let i = 0; i < n; i++) out[i] = f(ad[i], bv);
    return;
  }
  if (bFull && a.size === 1) {
    const av = ad[0];
    for (let i = 0; i < n; i++) out[i] = f(av, bd[i]);
    return;
  }
  const c = coalesce(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape), stridesOf(shape)]);
  const { len, strides } = innerOf(c);
  const [sa, sb] = strides;
  forEachRow(c, [0, 0, 0], ([pa0, pb0, po]) => {
    let pa = pa0;
    let pb = pb0;
    for (let j = 0; j < len; j++) {
      out[po + j] = f(ad[pa], bd[pb]);
      pa += sa;
      pb += sb;
    }
  });
}

function binaryKernel(name: string, pick: (dtype: string) => BinFn): Kernel {
  return (inputs, attrs, ctx) => {
    const { outputs } = inferOutputs(ctx, inputs, attrs);
    const a = inputs[0]!;
    const b = inputs[1]!;
    const o = outputs[0];
    const out = allocArray(o.dtype, sizeOf(o.shape));
    try {
      broadcastBinary(a, b, o.shape, out, pick(a.dtype));
    } catch (e) {
      if (e instanceof IntDivisionByZero) {
        throw new BackendError(`${name}: int32 division by zero (divisor "${inputName(ctx, 1, "b")}" has a zero element)`);
      }
      throw e;
    }
    return [new Tensor(o.dtype, o.shape, out)];
  };
}

export const binaryKernels: Readonly<Record<string, Kernel>> = {
  ...Object.fromEntries(Object.keys(FLOAT_ARITH).map((n) => [n, binaryKernel(n, (dt) => (dt === "int32" ? INT_ARITH[n] : FLOAT_ARITH[n]))])),
  ...Object.fromEntries(Object.keys(COMPARE).map((n) => [n, binaryKernel(n, () => COMPARE[n])])),
  ...Object.fromEntries(Object.keys(LOGICAL).map((n) => [n, binaryKernel(n, () => LOGICAL[n])])),
};
