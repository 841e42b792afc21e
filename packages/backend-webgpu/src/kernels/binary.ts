import { BackendError, stridesOf } from "@attn/core";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, inputName, MAX_RANK, WG, WGSL_FLOAT, WGSL_UNIFORMS, wgslType, type Kernel } from "../kernel.js";
import { checkElements } from "./validate.js";

/**
 * Binary elementwise ops with NumPy broadcasting: the output shape and both inputs' broadcast strides
 * (0 along broadcast dims) are uniforms, so one pipeline serves every shape of a (op, dtype) pair.
 *
 * - float32 arithmetic is IEEE f32; maximum/minimum propagate NaN (as torch).
 * - int32 add/sub/mul wrap (WGSL integer semantics, as the cpu backend); div truncates toward zero. A zero
 *   int32 divisor fails the run with the cpu backend's error: a check dispatch (validate.ts) looks for a
 *   zero in the divisor first (every element of it is read when the output is not empty); the shader
 *   itself still gives the dividend there (WGSL's rule), a result the failed run never returns.
 * - comparisons give bool, stored on the device as u32 0/1; NaN compares unequal to everything.
 * - logical_and / logical_or read bool (u32) inputs.
 */
const FLOAT: Readonly<Record<string, string>> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  maximum: "select(max(a, b), nan(), is_nan(a) || is_nan(b))",
  minimum: "select(min(a, b), nan(), is_nan(a) || is_nan(b))",
  equal: "select(0u, 1u, !is_nan(a) && !is_nan(b) && a == b)",
  not_equal: "select(0u, 1u, is_nan(a) || is_nan(b) || a != b)",
  less: "select(0u, 1u, !is_nan(a) && !is_nan(b) && a < b)",
  greater: "select(0u, 1u, !is_nan(a) && !is_nan(b) && a > b)",
};

const INT: Readonly<Record<string, string>> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  maximum: "max(a, b)",
  minimum: "min(a, b)",
  equal: "select(0u, 1u, a == b)",
  not_equal: "select(0u, 1u, a != b)",
  less: "select(0u, 1u, a < b)",
  greater: "select(0u, 1u, a > b)",
  logical_and: "select(0u, 1u, a != 0u && b != 0u)",
  logical_or: "select(0u, 1u, a != 0u || b != 0u)",
};

function shader(expr: string, inType: string, outType: string, broadcast: boolean): string {
  const index = broadcast
    ? `var r = i; var ia = 0u; var ib = 0u;
  for (var d = i32(u(1)) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = u(2u + k);
    let idx = r % s;
    r = r / s;
    ia += idx * u(${2 + MAX_RANK}u + k);
    ib += idx * u(${2 + 2 * MAX_RANK}u + k);
  }`
    : "let ia = i; let ib = i;";
  return `${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> A: array<${inType}>;
@group(0) @binding(2) var<storage, read> B: array<${inType}>;
@group(0) @binding(3) var<storage, read_write> Y: array<${outType}>;
fn f(a: ${inType}, b: ${inType}) -> ${outType} { return ${expr}; }
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  ${index}
  Y[i] = f(A[ia], B[ib]);
}`;
}

/** Strides of `shape` read as broadcast to `out` (right-aligned; 0 where a dim is 1 or missing). */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const st = stridesOf(shape);
  const off = out.length - shape.length;
  return out.map((d, k) => (k < off || shape[k - off] === 1 ? 0 : st[k - off]));
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function binaryKernel(name: string): Kernel {
  return (inputs, attrs, ctx) => {
    const { outputs } = inferOutputs(ctx, inputs, attrs);
    const a = inputs[0]!;
    const b = inputs[1]!;
    const o = outputs[0];
    const y = ctx.pool.tensor(o.dtype, o.shape);
    if (y.size === 0) return [y];
    const table = a.dtype === "float32" ? FLOAT : INT;
    const expr = table[name];
    if (!expr) throw new BackendError(`${name}: no WGSL kernel for ${a.dtype} inputs yet`);
    const broadcast = !(same(a.shape, o.shape) && same(b.shape, o.shape));
    if (o.shape.length > MAX_RANK) throw new BackendError(`${name}: the webgpu kernel broadcasts up to rank ${MAX_RANK}, got rank ${o.shape.length}`);
    const uniforms = new Array<number>(2 + 3 * MAX_RANK).fill(0);
    uniforms[0] = y.size;
    uniforms[1] = o.shape.length;
    const sa = broadcastStrides(a.shape, o.shape);
    const sb = broadcastStrides(b.shape, o.shape);
    o.shape.forEach((d, k) => {
      uniforms[2 + k] = d;
      uniforms[2 + MAX_RANK + k] = sa[k];
      uniforms[2 + 2 * MAX_RANK + k] = sb[k];
    });
    if (name === "div" && a.dtype === "int32") {
      checkElements(ctx, "divisor", "nonzero", b, [], () => `${name}: int32 division by zero (divisor "${inputName(ctx, 1, "b")}" has a zero element)`);
    }
    const inType = wgslType(a.dtype);
    dispatch(ctx, `binary:${name}:${a.dtype}:${broadcast ? "bcast" : "same"}`, () => shader(expr, inType, wgslType(o.dtype), broadcast), [a, b, y], uniforms, groupsFor(y.size));
    return [y];
  };
}

/** The binary kernels, by IR op name. */
export const binaryKernels: Readonly<Record<string, Kernel>> = Object.fromEntries(Object.keys(INT).map((n) => [n, binaryKernel(n)]));
