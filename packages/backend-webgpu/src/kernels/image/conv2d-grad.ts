/**
 * conv2d_grad: dx, dweight and dbias of conv2d from x, weight and dy. WGSL has no float atomics, so the
 * CPU kernel's scatter (each tap sends dy back to dx and dw) is turned around into gathers, each output
 * element owned by one thread or workgroup:
 *  - dx is an implicit GEMM per (image n, group g): dx[c, pixel] = Σ_(o, ki, kj) W[g·Og + o, c, ki, kj] ·
 *    dy[n, g·Og + o, oh, ow] over the taps whose output position (oh, ow) = (pixel + pad − k·dil) / stride
 *    is whole and in range (the transposed convolution, gathered).
 *  - dweight is an implicit GEMM per group: dw[o, (c, ki, kj)] = Σ_(n, oh, ow) dy[n, g·Og + o, oh, ow] ·
 *    x-tap(n, c, ki, kj, oh, ow), a reduction over batch × positions whose tiles are summed pairwise.
 *  - dbias[o] = Σ dy[n, o, ·, ·], one workgroup per channel with a tree reduction.
 */
import { dispatch, inferOutputs, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { RED_WG, WG_INDEX, WGSL_WG_SUM, workgroupsFor } from "../norm/workgroup-sum.js";
import { convGeometry, convUniforms, WGSL_CONV, WGSL_CONV_TAP, type ConvAttrs } from "./conv2d.js";
import { implicitGemm } from "./implicit-gemm.js";

const DX = {
  key: "conv2d_grad:dx",
  decls: `@group(0) @binding(1) var<storage, read> Wt: array<f32>;
@group(0) @binding(2) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;
${WGSL_CONV}`,
  // A[c, (o, ki, kj)] = W[g·Og + o, c, ki, kj]
  loadA: `let g = z % cv_groups(); let area = cv_kh() * cv_kw();
  return Wt[((g * cv_og() + k / area) * cv_cg() + m) * area + k % area];`,
  // B[(o, ki, kj), pixel] = dy at the output position that tap (ki, kj) of the pixel comes from, else 0
  loadB: `let n = z / cv_groups(); let g = z % cv_groups();
  let area = cv_kh() * cv_kw(); let o = k / area; let r = k % area;
  let th = i32(j / cv_w() + cv_ph()) - i32((r / cv_kw()) * cv_dh());
  let tw = i32(j % cv_w() + cv_pw()) - i32((r % cv_kw()) * cv_dw());
  if (th < 0 || tw < 0) { return 0.0; }
  let uh = u32(th); let uw = u32(tw);
  if (uh % cv_sh() != 0u || uw % cv_sw() != 0u) { return 0.0; }
  let oh = uh / cv_sh(); let ow = uw / cv_sw();
  if (oh >= cv_ho() || ow >= cv_wo()) { return 0.0; }
  return DY[((n * cv_o() + g * cv_og() + o) * cv_ho() + oh) * cv_wo() + ow];`,
  store: `let n = z / cv_groups(); let g = z % cv_groups();
  DX[(n * cv_c() + g * cv_cg() + m) * cv_h() * cv_w() + j] = v;`,
};

const DW = {
  key: "conv2d_grad:dw",
  decls: `@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read_write> DWt: array<f32>;
${WGSL_CONV}${WGSL_CONV_TAP}`,
  // A[o, (n, oh, ow)] = dy[n, g·Og + o, oh, ow], z = g
  loadA: `let hw = cv_ho() * cv_wo();
  return DY[((k / hw) * cv_o() + z * cv_og() + m) * hw + k % hw];`,
  // B[(n, oh, ow), (c, ki, kj)] = the input tap
  loadB: `let hw = cv_ho() * cv_wo(); let n = k / hw; let p = k % hw;
  let area = cv_kh() * cv_kw(); let r = j % area;
  return cv_tap(n, z, j / area, r / cv_kw(), r % cv_kw(), p / cv_wo(), p % cv_wo());`,
  store: "DWt[(z * cv_og() + m) * cv_cg() * cv_kh() * cv_kw() + j] = v;",
};

/** dbias: one workgroup per output channel. Uniforms: O, Ho·Wo, N·Ho·Wo. */
const DB_WGSL = `${WGSL_UNIFORMS}${WGSL_WG_SUM}
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read_write> DB: array<f32>;
@compute @workgroup_size(${RED_WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${WG_INDEX}
  if (w >= u(0u)) { return; }
  let hw = u(1u); let total = u(2u);
  var s = 0.0;
  for (var k = lid.x; k < total; k += ${RED_WG}u) { s += DY[((k / hw) * u(0u) + w) * hw + k % hw]; }
  let t = wg_sum(lid.x, s);
  if (lid.x == 0u) { DB[w] = t; }
}`;

/** conv2d_grad(x, weight, dy) → [dx, dweight, dbias]. */
export const conv2dGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<ConvAttrs>(ctx, inputs, attrs);
  const [x, w, dy] = inputs;
  const [, , Ho, Wo] = dy!.shape;
  const g = convGeometry(x!, w!, Ho, Wo, a.groups);
  const dx = ctx.pool.tensor("float32", outputs[0].shape);
  const dw = ctx.pool.tensor("float32", outputs[1].shape);
  const db = ctx.pool.tensor("float32", outputs[2].shape);
  const u = convUniforms(g, a);
  implicitGemm(ctx, DX, [w!, dy!, dx], g.Cg, g.Og * g.KH * g.KW, g.H * g.W, g.N * g.groups, u);
  implicitGemm(ctx, DW, [x!, dy!, dw], g.Og, g.N * g.Ho * g.Wo, g.Cg * g.KH * g.KW, g.groups, u);
  if (g.O > 0) dispatch(ctx, "conv2d_grad:db", () => DB_WGSL, [dy!, db], [g.O, g.Ho * g.Wo, g.N * g.Ho * g.Wo], workgroupsFor(g.O));
  return [dx, dw, db];
};
