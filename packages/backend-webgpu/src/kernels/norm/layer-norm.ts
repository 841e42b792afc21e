/**
 * layer_norm over the last dim (PyTorch): y = (x − mean)·rstd ⊙ weight + bias, rstd = 1/√(biased var + eps).
 * One workgroup per row: its threads stride over the row, and the two moments come from workgroup tree
 * reductions in two passes (mean first, then Σ(x − mean)², as the CPU kernel does, which avoids the
 * cancellation of E[x²] − mean²), taken about the row's first element (see {@link WGSL_ROW_STATS}). Rows past 65535 use a 2-D grid. Uniforms: rows, D, eps (f32 bits).
 */
import { dispatch, inferOutputs, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { RED_WG, WG_INDEX, WGSL_WG_SUM, workgroupsFor } from "./workgroup-sum.js";

/** eps as the u32 word holding its f32 bits (read back with `bitcast<f32>`). */
export function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}

/**
 * WGSL `row_stats(lid, base, D, eps) -> vec3<f32>`: (shift, mean − shift, rstd) of X[base, base + D),
 * computed by the whole workgroup (call from uniform control flow); shared with layer_norm_grad, and
 * `row_xhat(v, st)` = (v − mean)·rstd from them. The row's first element is the shift: the moments are
 * taken of x − shift, which is exact for values near the shift, so a mean that is large next to the
 * spread (x ≈ 1000 ± 0.01, or a nearly constant row whose rstd magnifies every rounding) keeps the
 * accuracy f32 would lose by rounding the mean itself to f32.
 */
export const WGSL_ROW_STATS = `${WGSL_WG_SUM}
fn row_stats(lid: u32, base: u32, D: u32, eps: f32) -> vec3<f32> {
  let shift = X[base];
  var s = 0.0;
  for (var j = lid; j < D; j += ${RED_WG}u) { s += X[base + j] - shift; }
  let m = wg_sum(lid, s) / f32(D);
  var q = 0.0;
  for (var j = lid; j < D; j += ${RED_WG}u) { let d = (X[base + j] - shift) - m; q += d * d; }
  let vr = wg_sum(lid, q) / f32(D);
  return vec3<f32>(shift, m, 1.0 / sqrt(vr + eps));
}
fn row_xhat(v: f32, st: vec3<f32>) -> f32 { return ((v - st.x) - st.y) * st.z; }
`;

function shader(weight: boolean, bias: boolean): string {
  const bindings = [weight ? "Wt" : "", bias ? "Bs" : ""].filter(Boolean);
  const decls = bindings.map((n, k) => `@group(0) @binding(${3 + k}) var<storage, read> ${n}: array<f32>;`).join("\n");
  return `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${decls}
${WGSL_ROW_STATS}
@compute @workgroup_size(${RED_WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${WG_INDEX}
  if (w >= u(0u)) { return; }
  let D = u(1u);
  let base = w * D;
  let st = row_stats(lid.x, base, D, bitcast<f32>(u(2u)));
  for (var j = lid.x; j < D; j += ${RED_WG}u) {
    var y = row_xhat(X[base + j], st);
    ${weight ? "y = y * Wt[j];" : ""}
    ${bias ? "y = y + Bs[j];" : ""}
    Y[base + j] = y;
  }
}`;
}

/** layer_norm(x, weight?, bias?) → y in x's shape. */
export const layerNormKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ eps: number }>(ctx, inputs, attrs);
  const [x, w, b] = inputs;
  const D = x!.shape[x!.shape.length - 1];
  const y = ctx.pool.tensor("float32", outputs[0].shape);
  const rows = D === 0 ? 0 : x!.size / D;
  if (rows === 0) return [y];
  const tensors = [x!, y, ...(w ? [w] : []), ...(b ? [b] : [])];
  dispatch(ctx, `layer_norm:${w ? "w" : ""}${b ? "b" : ""}`, () => shader(!!w, !!b), tensors, [rows, D, f32Bits(a.eps)], workgroupsFor(rows));
  return [y];
};
