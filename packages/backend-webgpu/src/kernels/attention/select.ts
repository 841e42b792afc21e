/**
 * hardmax and topk_softmax along one axis: the non-softmax score selections (also the weights step of
 * `attention` with `select: "argmax" | { topk }`). One thread per row, strided when the axis is not last,
 * as the softmax kernel. Both skip −inf and NaN entries and break ties toward the lower index (docs/ir.md);
 * a row with nothing selectable gives zeros.
 *
 * top-k finds its k kept entries by k sweeps over the row, each taking the best entry strictly worse than
 * the previous one in the order (value desc, index asc): O(k·n) work per row and no scratch memory, which
 * suits rows of attention scores (n = keys). The kept set is then every entry at least as good as the last
 * one found, and the softmax runs over it.
 */
import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../../kernel.js";

/** Which selection: one-hot at the first maximum, or the softmax over the k largest entries. */
export type SelectKind = "hardmax" | "topk_softmax";

const HARDMAX = `
  var best = neg_inf();
  var bi = n;
  for (var j = 0u; j < n; j++) {
    let v = X[base + j * inner];
    if (!is_nan(v) && v > best) { best = v; bi = j; }
  }
  for (var j = 0u; j < n; j++) { Y[base + j * inner] = select(0.0, 1.0, j == bi); }`;

const TOPK = `
  let kk = min(u(3u), n);
  var tv = 0.0;
  var tj = n;
  var m = 0.0;
  for (var t = 0u; t < kk; t++) {
    var bv = 0.0;
    var bj = n;
    for (var j = 0u; j < n; j++) {
      let v = X[base + j * inner];
      if (is_nan(v) || !(v > neg_inf())) { continue; }
      if (tj != n && !better(tv, tj, v, j)) { continue; }
      if (bj == n || better(v, j, bv, bj)) { bv = v; bj = j; }
    }
    if (bj == n) { break; }
    if (t == 0u) { m = bv; }
    tv = bv;
    tj = bj;
  }
  if (tj == n) {
    for (var j = 0u; j < n; j++) { Y[base + j * inner] = 0.0; }
    return;
  }
  var s = 0.0;
  for (var j = 0u; j < n; j++) {
    let v = X[base + j * inner];
    if (kept(v, j, tv, tj)) { s += exp(v - m); }
  }
  for (var j = 0u; j < n; j++) {
    let v = X[base + j * inner];
    Y[base + j * inner] = select(0.0, exp(v - m) / s, kept(v, j, tv, tj));
  }`;

function shader(kind: SelectKind): string {
  return `${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
// (v, j) comes before (w, l): larger value, or equal value and lower index
fn better(v: f32, j: u32, w: f32, l: u32) -> bool { return v > w || (v == w && j < l); }
// (v, j) is kept when it is selectable and not after the last kept entry (tv, tj)
fn kept(v: f32, j: u32, tv: f32, tj: u32) -> bool {
  return !is_nan(v) && v > neg_inf() && (j == tj || better(v, j, tv, tj));
}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  let n = u(1u); let inner = u(2u);
  let base = (i / inner) * n * inner + i % inner;
  ${kind === "hardmax" ? HARDMAX : TOPK}
}`;
}

/**
 * Records the selection of `x` into `y` (same shape) over rows of `n` entries `inner` apart; `k` is the
 * top-k count (ignored by hardmax).
 */
export function recordSelect(ctx: KernelContext, kind: SelectKind, x: GpuTensor, y: GpuTensor, n: number, inner: number, k = 0): void {
  const rows = n === 0 ? 0 : y.size / n;
  if (rows > 0) dispatch(ctx, kind, () => shader(kind), [x, y], [rows, n, inner, k], groupsFor(rows));
}

function selectKernel(kind: SelectKind): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ axis: number; k?: number }>(ctx, inputs, attrs);
    const x = inputs[0]!;
    const rank = x.shape.length;
    const axis = a.axis < 0 ? a.axis + rank : a.axis;
    const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const y = ctx.pool.tensor("float32", outputs[0].shape);
    recordSelect(ctx, kind, x, y, x.shape[axis], inner, a.k ?? 0);
    return [y];
  };
}

/** hardmax: one-hot at the first maximum along `axis` (zeros for a row without a finite-or-+inf entry). */
export const hardmaxKernel: Kernel = selectKernel("hardmax");

/** topk_softmax: softmax over the k largest entries along `axis` (lower index wins ties), zero elsewhere. */
export const topkSoftmaxKernel: Kernel = selectKernel("topk_softmax");
