/**
 * cast between float32, int32 and bool, one thread per element. Every dtype is one 32-bit word on the
 * device, so the shader reads and writes raw u32 words and reinterprets them with bitcasts; one pipeline
 * per (from, to) pair. A cast to the same dtype is a view (tensors are immutable, nothing to copy).
 *
 * Semantics follow the cpu backend: float → int32 truncates toward zero, and NaN, ±inf and values outside
 * the int32 range give −2³¹ (PyTorch on x86; WGSL's own conversion saturates, so the range test is
 * explicit). Anything → bool is "nonzero" (NaN is nonzero); bool → number is 0 / 1.
 */
import type { DType } from "@attn/core";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";

/** The conversion of one word `w` of dtype `from` to a word of dtype `to`, as a WGSL expression body. */
function convert(from: DType, to: DType): string {
  if (to === "bool") {
    return from === "float32" ? "let x = bitcast<f32>(w); return select(0u, 1u, x != 0.0 || is_nan(x));" : "return select(0u, 1u, w != 0u);";
  }
  if (to === "float32") return from === "int32" ? "return bitcast<u32>(f32(bitcast<i32>(w)));" : "return bitcast<u32>(f32(w));";
  // to int32
  if (from === "bool") return "return w;";
  // float32 → int32: anything not strictly inside (−2³¹ − 1, 2³¹) maps to −2³¹ (2147483648.0 is exact in f32).
  return `let x = bitcast<f32>(w);
  if (is_nan(x) || x >= 2147483648.0 || x < -2147483648.0) { return 0x80000000u; }
  return bitcast<u32>(i32(trunc(x)));`;
}

function shader(from: DType, to: DType): string {
  return `${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<u32>;
fn conv(w: u32) -> u32 { ${convert(from, to)} }
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  Y[i] = conv(X[i]);
}`;
}

/** cast: converts each element to `attrs.to` (see the file header for the rules). */
export const castKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ to: DType }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const shape = outputs[0].shape;
  if (x.dtype === a.to) return [x.view(shape)];
  const y = ctx.pool.tensor(a.to, shape);
  if (y.size > 0) dispatch(ctx, `cast:${x.dtype}:${a.to}`, () => shader(x.dtype, a.to), [x, y], [y.size], groupsFor(y.size));
  return [y];
};
