/**
 * patches and patches_grad. patches cuts x [B, C, H, W] into non-overlapping p×p patches →
 * [B, (H/p)(W/p), C·p·p]: patches row-major over the (H/p)×(W/p) grid, each flattened channel-major
 * (c, i, j), as F.unfold(x, p, stride=p)ᵀ. The map is a permutation, so both directions are pure gathers,
 * one thread per output element: patches reads the source of each patch element, and patches_grad (its
 * inverse) reads for each element of x the patch element it went to. Uniforms: count, C, H, W, p.
 */
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";

/** WGSL computing `let at`, the index read for output element i: into x for patches, into dy for patches_grad. */
const INDEX = {
  forward: `let pp = p * p; let nw = W / p; let nh = H / p;
  let inner = i % (C * pp); let t = i / (C * pp);
  let cell = t % (nh * nw); let b = t / (nh * nw);
  let c = inner / pp; let r = inner % pp;
  let at = ((b * C + c) * H + (cell / nw) * p + r / p) * W + (cell % nw) * p + r % p;`,
  backward: `let pp = p * p; let nw = W / p; let nh = H / p;
  let iw = i % W; let ih = (i / W) % H; let c = (i / (W * H)) % C; let b = i / (W * H * C);
  let at = ((b * nh * nw + (ih / p) * nw + iw / p) * C + c) * pp + (ih % p) * p + iw % p;`,
};

function shader(dir: "forward" | "backward"): string {
  return `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> Src: array<f32>;
@group(0) @binding(2) var<storage, read_write> Dst: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  let C = u(1u); let H = u(2u); let W = u(3u); let p = u(4u);
  ${INDEX[dir]}
  Dst[i] = Src[at];
}`;
}

/** patches(x) → [B, (H/p)(W/p), C·p·p]. */
export const patchesKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ size: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const [, C, H, W] = x.shape;
  const y = ctx.pool.tensor("float32", outputs[0].shape);
  if (y.size > 0) dispatch(ctx, "patches", () => shader("forward"), [x, y], [y.size, C, H, W, a.size], groupsFor(y.size));
  return [y];
};

/** patches_grad(x, dy) → dx in x's shape: the inverse permutation of patches. */
export const patchesGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ size: number }>(ctx, inputs, attrs);
  const [x, dy] = inputs;
  const [, C, H, W] = x!.shape;
  const dx = ctx.pool.tensor("float32", outputs[0].shape);
  if (dx.size > 0) dispatch(ctx, "patches_grad", () => shader("backward"), [dy!, dx], [dx.size, C, H, W, a.size], groupsFor(dx.size));
  return [dx];
};
