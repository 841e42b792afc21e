import { BackendError, Tensor, allocArray, sizeOf, stridesOf, type AnyTypedArray } from "@attn/core";
import { wasmElementwiseFor } from "../elementwise/wasm.js";
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

/** The float32 arithmetic ops with dedicated loops (no per-element function call). */
const FLOAT_OPS = ["add", "sub", "mul", "div", "maximum", "minimum"] as const;
type FloatOp = (typeof FLOAT_OPS)[number];

/**
 * out[po + j] = a[pa + j·sa] ∘ b[pb + j·sb] for j < n, one loop per op (each monomorphic, so the engine
 * compiles it to straight arithmetic; a stride of 0 is a broadcast operand). Each result is computed in
 * double and rounded once on store, as the generic path does.
 */
function floatRow(op: FloatOp, out: Float32Array, po: number, ad: Float32Array, pa: number, sa: number, bd: Float32Array, pb: number, sb: number, n: number): void {
  switch (op) {
    case "add":
      if (sa === 1 && sb === 1) for (let j = 0; j < n; j++) out[po + j] = ad[pa + j] + bd[pb + j];
      else if (sa === 1 && sb === 0) {
        const v = bd[pb];
        for (let j = 0; j < n; j++) out[po + j] = ad[pa + j] + v;
      } else for (let j = 0; j < n; j++, pa += sa, pb += sb) out[po + j] = ad[pa] + bd[pb];
      return;
    case "sub":
      if (sa === 1 && sb === 1) for (let j = 0; j < n; j++) out[po + j] = ad[pa + j] - bd[pb + j];
      else for (let j = 0; j < n; j++, pa += sa, pb += sb) out[po + j] = ad[pa] - bd[pb];
      return;
    case "mul":
      if (sa === 1 && sb === 1) for (let j = 0; j < n; j++) out[po + j] = ad[pa + j] * bd[pb + j];
      else if (sa === 1 && sb === 0) {
        const v = bd[pb];
        for (let j = 0; j < n; j++) out[po + j] = ad[pa + j] * v;
      } else for (let j = 0; j < n; j++, pa += sa, pb += sb) out[po + j] = ad[pa] * bd[pb];
      return;
    case "div":
      if (sa === 1 && sb === 1) for (let j = 0; j < n; j++) out[po + j] = ad[pa + j] / bd[pb + j];
      else for (let j = 0; j < n; j++, pa += sa, pb += sb) out[po + j] = ad[pa] / bd[pb];
      return;
    case "maximum":
      for (let j = 0; j < n; j++, pa += sa, pb += sb) out[po + j] = Math.max(ad[pa], bd[pb]);
      return;
    case "minimum":
      for (let j = 0; j < n; j++, pa += sa, pb += sb) out[po + j] = Math.min(ad[pa], bd[pb]);
      return;
  }
}

/** The float32 fast path of `broadcastBinary` (same results, op-specific loops over coalesced rows). */
export function broadcastFloat(op: FloatOp, a: Tensor, b: Tensor, shape: readonly number[], out: Float32Array): void {
  const ad = a.data as Float32Array;
  const bd = b.data as Float32Array;
  const n = out.length;
  if (n === 0) return;
  const aFull = sameShape(a.shape, shape);
  const bFull = sameShape(b.shape, shape);
  if (aFull && bFull) return floatRow(op, out, 0, ad, 0, 1, bd, 0, 1, n);
  if (aFull && b.size === 1) return floatRow(op, out, 0, ad, 0, 1, bd, 0, 0, n);
  if (bFull && a.size === 1) return floatRow(op, out, 0, ad, 0, 0, bd, 0, 1, n);
  const c = coalesce(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
  const dims = c.shape;
  const [sta, stb] = c.strides;
  const r = dims.length;
  if (r === 0) return floatRow(op, out, 0, ad, 0, 0, bd, 0, 0, 1);
  const len = dims[r - 1];
  const sa = sta[r - 1];
  const sb = stb[r - 1];
  const idx = new Int32Array(r);
  let pa = 0;
  let pb = 0;
  for (let po = 0; po < n; po += len) {
    floatRow(op, out, po, ad, pa, sa, bd, pb, sb, len);
    for (let d = r - 2; d >= 0; d--) {
      pa += sta[d];
      pb += stb[d];
      if (++idx[d] < dims[d]) break;
      pa -= sta[d] * dims[d];
      pb -= stb[d] * dims[d];
      idx[d] = 0;
    }
  }
}

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
    if (name === "add" && a.dtype === "float32" && sameShape(a.shape, o.shape) && sameShape(b.shape, o.shape)) {
      // A float32 add of equal shapes on a wasm kernel path: the same sums in WebAssembly.
      const sum = wasmElementwiseFor(ctx, a.size)?.add(a.data as Float32Array, b.data as Float32Array);
      if (sum) return [new Tensor("float32", o.shape, sum)];
    }
    const out = allocArray(o.dtype, sizeOf(o.shape));
    if (a.dtype === "float32" && o.dtype === "float32" && (FLOAT_OPS as readonly string[]).includes(name)) {
      broadcastFloat(name as FloatOp, a, b, o.shape, out as Float32Array);
      return [new Tensor(o.dtype, o.shape, out)];
    }
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
