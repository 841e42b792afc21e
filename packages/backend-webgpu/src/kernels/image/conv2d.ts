/**
 * conv2d: 2-D cross-correlation, NCHW, weight [O, C/groups, kh, kw] (PyTorch Conv2d) with stride, zero
 * padding, dilation and groups, as an implicit GEMM (see implicit-gemm.ts): for each (image n, group g),
 *   Y[n, g·Og + o, p] = Σ_k W[g·Og + o, k] · col(n, g, k, p),   k = (c, ki, kj), p = (oh, ow),
 * where col is the im2col matrix computed on the fly (padding taps read as zero), so no column buffer is
 * allocated and each workgroup reuses its staged weight and input tiles 16 times.
 */
import type { GpuTensor } from "../../buffers.js";
import { inferOutputs, type Kernel } from "../../kernel.js";
import { implicitGemm } from "./implicit-gemm.js";

/** conv2d's normalised attributes (core's shape function fills the defaults). */
export interface ConvAttrs {
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
}

/** The concrete sizes of one convolution, shared by conv2d and conv2d_grad. */
export interface ConvGeometry {
  N: number; C: number; H: number; W: number;
  O: number; Cg: number; KH: number; KW: number;
  Ho: number; Wo: number; groups: number; Og: number;
}

/** The geometry of conv2d(x, w) with output spatial size Ho × Wo. */
export function convGeometry(x: GpuTensor, w: GpuTensor, Ho: number, Wo: number, groups: number): ConvGeometry {
  const [N, C, H, W] = x.shape;
  const [O, Cg, KH, KW] = w.shape;
  return { N, C, H, W, O, Cg, KH, KW, Ho, Wo, groups, Og: O / groups };
}

/** The uniform words (from index 3) that {@link WGSL_CONV} reads. */
export function convUniforms(g: ConvGeometry, a: ConvAttrs): number[] {
  return [g.N, g.C, g.H, g.W, g.O, g.Cg, g.KH, g.KW, g.Ho, g.Wo, a.stride[0], a.stride[1], a.padding[0], a.padding[1], a.dilation[0], a.dilation[1], g.groups, g.Og];
}

/** WGSL accessors for the convolution sizes laid out by {@link convUniforms}. */
export const WGSL_CONV = `
fn cv_n() -> u32 { return u(3u); }
fn cv_c() -> u32 { return u(4u); }
fn cv_h() -> u32 { return u(5u); }
fn cv_w() -> u32 { return u(6u); }
fn cv_o() -> u32 { return u(7u); }
fn cv_cg() -> u32 { return u(8u); }
fn cv_kh() -> u32 { return u(9u); }
fn cv_kw() -> u32 { return u(10u); }
fn cv_ho() -> u32 { return u(11u); }
fn cv_wo() -> u32 { return u(12u); }
fn cv_sh() -> u32 { return u(13u); }
fn cv_sw() -> u32 { return u(14u); }
fn cv_ph() -> u32 { return u(15u); }
fn cv_pw() -> u32 { return u(16u); }
fn cv_dh() -> u32 { return u(17u); }
fn cv_dw() -> u32 { return u(18u); }
fn cv_groups() -> u32 { return u(19u); }
fn cv_og() -> u32 { return u(20u); }
`;

/** WGSL: one im2col tap of the input (needs {@link WGSL_CONV} and a binding X of the input). */
export const WGSL_CONV_TAP = `
// x[n, g*Cg + c, oh*sh + ki*dh - ph, ow*sw + kj*dw - pw], or 0 where that tap falls in the padding
fn cv_tap(n: u32, g: u32, c: u32, ki: u32, kj: u32, oh: u32, ow: u32) -> f32 {
  let ih = i32(oh * cv_sh() + ki * cv_dh()) - i32(cv_ph());
  let iw = i32(ow * cv_sw() + kj * cv_dw()) - i32(cv_pw());
  if (ih < 0 || iw < 0 || ih >= i32(cv_h()) || iw >= i32(cv_w())) { return 0.0; }
  return X[((n * cv_c() + g * cv_cg() + c) * cv_h() + u32(ih)) * cv_w() + u32(iw)];
}
`;

/** conv2d(x, weight, bias?) → y [N, O, Ho, Wo]. */
export const conv2dKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<ConvAttrs>(ctx, inputs, attrs);
  const [x, w, bias] = inputs;
  const [, , Ho, Wo] = outputs[0].shape;
  const g = convGeometry(x!, w!, Ho, Wo, a.groups);
  const y = ctx.pool.tensor("float32", outputs[0].shape);
  const hasBias = bias !== null && bias !== undefined;
  const tensors = hasBias ? [x!, w!, y, bias] : [x!, w!, y];
  implicitGemm(ctx, {
    key: `conv2d:${hasBias ? "bias" : "nobias"}`,
    decls: `@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${hasBias ? "@group(0) @binding(4) var<storage, read> Bias: array<f32>;" : ""}
${WGSL_CONV}${WGSL_CONV_TAP}`,
    // A = the weight rows of group g: W[g·Og + m, k], k = (c, ki, kj) flat
    loadA: "let g = z % cv_groups(); return Wt[(g * cv_og() + m) * u(1u) + k];",
    // B = im2col of image n, group g: tap k of output position p
    loadB: `let n = z / cv_groups(); let g = z % cv_groups();
  let area = cv_kh() * cv_kw(); let c = k / area; let r = k % area;
  return cv_tap(n, g, c, r / cv_kw(), r % cv_kw(), j / cv_wo(), j % cv_wo());`,
    store: `let b = z / cv_groups(); let oc = (z % cv_groups()) * cv_og() + m;
  Y[(b * cv_o() + oc) * cv_ho() * cv_wo() + j] = v${hasBias ? " + Bias[oc]" : ""};`,
  }, tensors, g.Og, g.Cg * g.KH * g.KW, Ho * Wo, g.N * g.groups, convUniforms(g, a));
  return [y];
};
