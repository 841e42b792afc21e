import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../kernel.js";

/**
 * softmax / log_softmax along one axis, one thread per row (strided when the axis is not last): max,
 * then the sum of exp(x − max), then the outputs. An all −inf row gives zeros (softmax) or −inf
 * (log_softmax), the attn convention for fully masked rows. Uniforms: rows, row length, inner stride.
 */
function shader(log: boolean): string {
  const masked = log ? "neg_inf()" : "0.0";
  const out = log ? "X[base + j * inner] - m - lse" : "exp(X[base + j * inner] - m) / s";
  return `${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  let n = u(1u); let inner = u(2u);
  let base = (i / inner) * n * inner + i % inner;
  var m = neg_inf();
  var nan_seen = false;
  for (var j = 0u; j < n; j++) {
    let v = X[base + j * inner];
    if (is_nan(v)) { nan_seen = true; }
    m = max(m, v);
  }
  if (nan_seen) {
    for (var j = 0u; j < n; j++) { Y[base + j * inner] = nan(); }
    return;
  }
  if (m == neg_inf()) {
    for (var j = 0u; j < n; j++) { Y[base + j * inner] = ${masked}; }
    return;
  }
  var s = 0.0;
  for (var j = 0u; j < n; j++) { s += exp(X[base + j * inner] - m); }
  let lse = log(s);
  for (var j = 0u; j < n; j++) { Y[base + j * inner] = ${out}; }
}`;
}

function softmaxKernel(log: boolean): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ axis: number }>(ctx, inputs, attrs);
    const x = inputs[0]!;
    const rank = x.shape.length;
    const axis = a.axis < 0 ? a.axis + rank : a.axis;
    const n = x.shape[axis];
    const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const y = ctx.pool.tensor("float32", outputs[0].shape);
    const rows = n === 0 ? 0 : y.size / n;
    if (rows > 0) dispatch(ctx, log ? "log_softmax" : "softmax", () => shader(log), [x, y], [rows, n, inner], groupsFor(rows));
    return [y];
  };
}

/** softmax and log_softmax, by IR op name. */
export const softmaxKernels: Readonly<Record<string, Kernel>> = { softmax: softmaxKernel(false), log_softmax: softmaxKernel(true) };
