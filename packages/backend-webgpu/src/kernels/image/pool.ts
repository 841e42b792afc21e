/**
 * max_pool2d and avg_pool2d, NCHW, one thread per output element looping over its (small) window.
 * max: padding is −inf so it never wins; the winner is the first maximum in row-major window order and
 * a NaN wins at once (PyTorch), found by `window_argmax`, which max_pool2d_grad reuses so the gradient
 * goes exactly where the forward value came from. avg: padding counts as zeros, the divisor is always
 * kh·kw (count_include_pad). Uniforms: see {@link poolUniforms}.
 */
import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";

/** The pooling ops' normalised attributes (an empty stride means the kernel). */
export interface PoolAttrs {
  kernel: number[];
  stride: number[];
  padding: number[];
}

/** Uniform words: element count, then H, W, Ho, Wo, kh, kw, sh, sw, ph, pw (read by {@link WGSL_POOL}). */
export function poolUniforms(count: number, x: GpuTensor, Ho: number, Wo: number, a: PoolAttrs): number[] {
  const [, , H, W] = x.shape;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride.length ? a.stride : a.kernel;
  return [count, H, W, Ho, Wo, kh, kw, sh, sw, a.padding[0], a.padding[1]];
}

/** WGSL accessors for {@link poolUniforms}. */
export const WGSL_POOL = `${WGSL_FLOAT}
fn pl_h() -> i32 { return i32(u(1u)); }
fn pl_w() -> i32 { return i32(u(2u)); }
fn pl_ho() -> u32 { return u(3u); }
fn pl_wo() -> u32 { return u(4u); }
fn pl_kh() -> i32 { return i32(u(5u)); }
fn pl_kw() -> i32 { return i32(u(6u)); }
fn pl_sh() -> i32 { return i32(u(7u)); }
fn pl_sw() -> i32 { return i32(u(8u)); }
fn pl_ph() -> i32 { return i32(u(9u)); }
fn pl_pw() -> i32 { return i32(u(10u)); }
`;

/**
 * WGSL `window_argmax(plane, oh, ow)`: the flat index in X (a binding the shader declares) of the element
 * max pooling picks in window (oh, ow) of plane n·C + c, or −1 for a window with no element.
 */
export const WGSL_WINDOW_ARGMAX = `
fn window_argmax(plane: u32, oh: u32, ow: u32) -> i32 {
  let h0 = i32(oh) * pl_sh() - pl_ph();
  let w0 = i32(ow) * pl_sw() - pl_pw();
  let base = i32(plane) * pl_h() * pl_w();
  var at = -1;
  var m = 0.0;
  for (var ih = max(h0, 0); ih < min(h0 + pl_kh(), pl_h()); ih++) {
    for (var iw = max(w0, 0); iw < min(w0 + pl_kw(), pl_w()); iw++) {
      let idx = base + ih * pl_w() + iw;
      let v = X[u32(idx)];
      if (is_nan(v)) { return idx; }
      if (at < 0 || v > m) { m = v; at = idx; }
    }
  }
  return at;
}
`;

const BODY: Readonly<Record<"max" | "avg", string>> = {
  max: `let at = window_argmax(plane, oh, ow);
  if (at < 0) { Y[i] = neg_inf(); } else { Y[i] = X[u32(at)]; }`,
  avg: `let h0 = i32(oh) * pl_sh() - pl_ph();
  let w0 = i32(ow) * pl_sw() - pl_pw();
  let base = i32(plane) * pl_h() * pl_w();
  var s = 0.0;
  for (var ih = max(h0, 0); ih < min(h0 + pl_kh(), pl_h()); ih++) {
    for (var iw = max(w0, 0); iw < min(w0 + pl_kw(), pl_w()); iw++) { s += X[u32(base + ih * pl_w() + iw)]; }
  }
  Y[i] = s / f32(pl_kh() * pl_kw());`,
};

function shader(mode: "max" | "avg"): string {
  return `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${WGSL_POOL}${mode === "max" ? WGSL_WINDOW_ARGMAX : ""}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  let ow = i % pl_wo(); let oh = (i / pl_wo()) % pl_ho(); let plane = i / (pl_wo() * pl_ho());
  ${BODY[mode]}
}`;
}

function poolKernel(mode: "max" | "avg"): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<PoolAttrs>(ctx, inputs, attrs);
    const x = inputs[0]!;
    const [, , Ho, Wo] = outputs[0].shape;
    const y = ctx.pool.tensor("float32", outputs[0].shape);
    if (y.size > 0) dispatch(ctx, `${mode}_pool2d`, () => shader(mode), [x, y], poolUniforms(y.size, x, Ho, Wo, a), groupsFor(y.size));
    return [y];
  };
}

/** max_pool2d and avg_pool2d, by IR op name. */
export const poolKernels: Readonly<Record<string, Kernel>> = { max_pool2d: poolKernel("max"), avg_pool2d: poolKernel("avg") };
