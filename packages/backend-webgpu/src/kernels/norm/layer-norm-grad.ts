/**
 * layer_norm_grad: with x̂ = (x − mean)·rstd per row and g = dy ⊙ weight (dy without weight),
 *   dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dweight = Σ_rows dy ⊙ x̂,  dbias = Σ_rows dy.
 * Two passes, each output element owned by one workgroup (no float atomics in WGSL):
 *  1. one workgroup per row recomputes the row statistics exactly as layer_norm does (`row_stats`),
 *     reduces mean(g) and mean(g ⊙ x̂) together, writes dx, and keeps the statistics (shift, mean − shift,
 *     rstd) in a scratch buffer;
 *  2. one workgroup per column j reduces dy ⊙ x̂ and dy over the rows with those saved statistics, so
 *     the weight and bias gradients are tree sums over the rows rather than one long serial sum.
 */
import { dispatch, inferOutputs, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { f32Bits, WGSL_ROW_STATS } from "./layer-norm.js";
import { RED_WG, WG_INDEX, WGSL_WG_SUM, workgroupsFor } from "./workgroup-sum.js";

/** Pass 1, one workgroup per row. Uniforms: rows, D, eps bits. */
function rowShader(weight: boolean): string {
  return `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;
@group(0) @binding(4) var<storage, read_write> Stats: array<f32>;
${weight ? "@group(0) @binding(5) var<storage, read> Wt: array<f32>;" : ""}
${WGSL_ROW_STATS}
fn g_at(base: u32, j: u32) -> f32 { return DY[base + j]${weight ? " * Wt[j]" : ""}; }
@compute @workgroup_size(${RED_WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${WG_INDEX}
  if (w >= u(0u)) { return; }
  let D = u(1u);
  let base = w * D;
  let st = row_stats(lid.x, base, D, bitcast<f32>(u(2u)));
  var part = vec2<f32>(0.0, 0.0);
  for (var j = lid.x; j < D; j += ${RED_WG}u) {
    let g = g_at(base, j);
    part += vec2<f32>(g, g * row_xhat(X[base + j], st));
  }
  let m = wg_sum2(lid.x, part) / f32(D);
  for (var j = lid.x; j < D; j += ${RED_WG}u) {
    let h = row_xhat(X[base + j], st);
    DX[base + j] = st.z * (g_at(base, j) - m.x - h * m.y);
  }
  if (lid.x == 0u) { Stats[3u * w] = st.x; Stats[3u * w + 1u] = st.y; Stats[3u * w + 2u] = st.z; }
}`;
}

/** Pass 2, one workgroup per column. Uniforms: D, rows. */
const COLUMN_WGSL = `${WGSL_UNIFORMS}${WGSL_WG_SUM}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read> Stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> DW: array<f32>;
@group(0) @binding(5) var<storage, read_write> DB: array<f32>;
@compute @workgroup_size(${RED_WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${WG_INDEX}
  let D = u(0u); let rows = u(1u);
  if (w >= D) { return; }
  var part = vec2<f32>(0.0, 0.0);
  for (var r = lid.x; r < rows; r += ${RED_WG}u) {
    let up = DY[r * D + w];
    let h = ((X[r * D + w] - Stats[3u * r]) - Stats[3u * r + 1u]) * Stats[3u * r + 2u];
    part += vec2<f32>(up * h, up);
  }
  let t = wg_sum2(lid.x, part);
  if (lid.x == 0u) { DW[w] = t.x; DB[w] = t.y; }
}`;

/** layer_norm_grad(x, weight?, dy) → [dx, dweight [D], dbias [D]]. */
export const layerNormGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ eps: number }>(ctx, inputs, attrs);
  const [x, w, dy] = inputs;
  const D = x!.shape[x!.shape.length - 1];
  const rows = D === 0 ? 0 : x!.size / D;
  const dx = ctx.pool.tensor("float32", outputs[0].shape);
  const dw = ctx.pool.tensor("float32", outputs[1].shape);
  const db = ctx.pool.tensor("float32", outputs[2].shape);
  if (D === 0) return [dx, dw, db];
  const stats = ctx.pool.tensor("float32", [rows, 3]);
  if (rows > 0) {
    const tensors = [x!, dy!, dx, stats, ...(w ? [w] : [])];
    dispatch(ctx, `layer_norm_grad:rows:${w ? "w" : ""}`, () => rowShader(!!w), tensors, [rows, D, f32Bits(a.eps)], workgroupsFor(rows));
  }
  dispatch(ctx, "layer_norm_grad:columns", () => COLUMN_WGSL, [x!, dy!, stats, dw, db], [D, rows], workgroupsFor(D));
  ctx.pool.release(stats);
  return [dx, dw, db];
};
