import { BackendError, stridesOf } from "@attn/core";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, MAX_RANK, WG, WGSL_UNIFORMS, type Kernel } from "../kernel.js";

/** reshape, squeeze, unsqueeze, identity and dropout (inference): views sharing the input's storage. */
export const viewKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  return [inputs[0]!.view(outputs[0].shape)];
};

/** A tensor literal: uploaded once at compile time and kept resident; each node reads that tensor. */
export const constantKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const t = ctx.constants.get(attrs);
  if (!t) throw new BackendError("constant: not uploaded at compile time (internal error)");
  return [t.view(outputs[0].shape)];
};

const TRANSPOSE = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<u32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  var r = i; var src = 0u;
  for (var d = i32(u(1)) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = u(2u + k);
    src += (r % s) * u(${2 + MAX_RANK}u + k);
    r = r / s;
  }
  Y[i] = X[src];
}`;

/** out.shape[i] = x.shape[perm[i]]: a gather over the permuted strides (32-bit words, any dtype). */
export const transposeKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ perm: number[] }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const o = outputs[0];
  const rank = x.shape.length;
  if (rank > MAX_RANK) throw new BackendError(`transpose: the webgpu kernel takes up to rank ${MAX_RANK}, got ${rank}`);
  const y = ctx.pool.tensor(x.dtype, o.shape);
  if (y.size === 0) return [y];
  const st = stridesOf(x.shape);
  const uniforms = new Array<number>(2 + 2 * MAX_RANK).fill(0);
  uniforms[0] = y.size;
  uniforms[1] = rank;
  a.perm.forEach((p, k) => {
    uniforms[2 + k] = o.shape[k];
    uniforms[2 + MAX_RANK + k] = st[p < 0 ? p + rank : p];
  });
  dispatch(ctx, "transpose", () => TRANSPOSE, [x, y], uniforms, groupsFor(y.size));
  return [y];
};
