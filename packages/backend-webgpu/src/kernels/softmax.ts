import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../kernel.js";

/**
 * softmax / log_softmax along one axis (strided when the axis is not last), in two layouts chosen by
 * the row length's class when the pipeline is built:
 *
 * - rows shorter than {@link LONG_ROW}: one thread per row, three passes over the row (max, sum of
 *   exp(x − max), outputs), no barriers. Attention's rows are short and many, and barriers are what a
 *   software adapter pays most for (SwiftShader: a 512×64 softmax takes ~4 ms this way and ~140 ms
 *   with a workgroup per row).
 * - longer rows: one workgroup per row; its threads each take every ROW_WG-th element, and two
 *   workgroup reductions give the max and the sum. With the `subgroups` feature each subgroup reduces
 *   in registers (subgroupMax / subgroupAdd) and the subgroups combine through workgroup memory;
 *   without it, a workgroup-memory tree reduction (pipeline keys `:sg` / `:wg`).
 *
 * Both follow the cpu reference (backend-cpu `select-rows.ts`): a NaN anywhere makes the row NaN, an
 * all −inf row gives zeros (softmax) or −inf (log_softmax). Uniforms: rows, row length, inner stride.
 */

/** Rows at least this long get a workgroup each; shorter rows get a thread each. */
export const LONG_ROW = 256;

/** Threads per row (a power of two: the tree reduction halves it). */
export const ROW_WG = 64;
const MAX_GROUPS = 65535;

/**
 * The workgroup-memory tree reduction: `row_max` (NaN when any thread saw a NaN) and `row_sum` over
 * the ROW_WG threads of the group. Each ends with a barrier so the next reduction may reuse `red`.
 */
const TREE = `
var<workgroup> red: array<f32, ${ROW_WG}>;
var<workgroup> bad: array<u32, ${ROW_WG}>;
fn row_max(lid: u32, v: f32, is_bad: bool) -> f32 {
  red[lid] = v;
  bad[lid] = select(0u, 1u, is_bad);
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s / 2u) {
    if (lid < s) {
      red[lid] = max(red[lid], red[lid + s]);
      bad[lid] = bad[lid] | bad[lid + s];
    }
    workgroupBarrier();
  }
  let r = select(red[0], nan(), bad[0] != 0u);
  workgroupBarrier();
  return r;
}
fn row_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
`;

/**
 * The subgroup reduction: each subgroup reduces in registers, one elected invocation per subgroup
 * writes the partial into a slot taken with an atomic counter (WGSL does not promise that subgroups
 * are consecutive runs of local_invocation_index, so the slot cannot be computed from it), and every
 * thread folds the few slots. The slot is shared with the whole subgroup (subgroupMax of the elected
 * invocation's slot and everyone else's 0) so `row_sum` reuses it whichever invocation it elects.
 */
const SUBGROUP = `
var<workgroup> red: array<f32, ${ROW_WG}>;
var<workgroup> sums: array<f32, ${ROW_WG}>;
var<workgroup> bad: array<u32, ${ROW_WG}>;
var<workgroup> slots: atomic<u32>;
var<private> slot: u32;
fn row_max(lid: u32, v: f32, is_bad: bool) -> f32 {
  let m = subgroupMax(v);
  let b = subgroupOr(select(0u, 1u, is_bad));
  var mine = 0u;
  if (subgroupElect()) {
    mine = atomicAdd(&slots, 1u);
    red[mine] = m;
    bad[mine] = b;
  }
  slot = subgroupMax(mine);
  workgroupBarrier();
  let k = atomicLoad(&slots);
  var r = red[0];
  var any_bad = bad[0];
  for (var i = 1u; i < k; i++) {
    r = max(r, red[i]);
    any_bad = any_bad | bad[i];
  }
  return select(r, nan(), any_bad != 0u);
}
fn row_sum(lid: u32, v: f32) -> f32 {
  let s = subgroupAdd(v);
  if (subgroupElect()) { sums[slot] = s; }
  workgroupBarrier();
  let k = atomicLoad(&slots);
  var r = 0.0;
  for (var i = 0u; i < k; i++) { r += sums[i]; }
  return r;
}
`;

/** One thread per row: the short-row layout. */
function threadShader(log: boolean): string {
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
  var seen_nan = false;
  for (var j = 0u; j < n; j++) {
    let v = X[base + j * inner];
    seen_nan = seen_nan || is_nan(v);
    m = max(m, v);
  }
  if (seen_nan) {
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

/** One workgroup per row: the long-row layout, with subgroup or workgroup-memory reductions. */
function groupShader(log: boolean, subgroups: boolean): string {
  const masked = log ? "neg_inf()" : "0.0";
  const out = log ? "X[k] - m - lse" : "exp(X[k] - m) / s";
  return `${subgroups ? "enable subgroups;" : ""}
${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${subgroups ? SUBGROUP : TREE}
@compute @workgroup_size(${ROW_WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  // the whole group takes one row, so this return and every barrier below stay in uniform control flow
  let row = wid.x + wid.y * ${MAX_GROUPS}u;
  if (row >= u(0)) { return; }
  let n = u(1u);
  let inner = u(2u);
  let base = (row / inner) * n * inner + row % inner;
  var vmax = neg_inf();
  var seen_nan = false;
  for (var j = lid; j < n; j += ${ROW_WG}u) {
    let v = X[base + j * inner];
    seen_nan = seen_nan || is_nan(v);
    vmax = max(vmax, v);
  }
  let m = row_max(lid, vmax, seen_nan);
  var part = 0.0;
  if (m != neg_inf()) {
    for (var j = lid; j < n; j += ${ROW_WG}u) { part += exp(X[base + j * inner] - m); }
  }
  let s = row_sum(lid, part);
  let lse = log(s);
  for (var j = lid; j < n; j += ${ROW_WG}u) {
    let k = base + j * inner;
    if (is_nan(m)) { Y[k] = nan(); } else if (m == neg_inf()) { Y[k] = ${masked}; } else { Y[k] = ${out}; }
  }
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
    if (rows > 0) {
      const op = log ? "log_softmax" : "softmax";
      if (n < LONG_ROW) {
        dispatch(ctx, `${op}:thread`, () => threadShader(log), [x, y], [rows, n, inner], groupsFor(rows));
      } else {
        // the reduction variant is part of the shape class: a device with subgroups builds the subgroup pipeline
        const sg = ctx.device.features.has("subgroups");
        const groups: [number, number] = rows <= MAX_GROUPS ? [rows, 1] : [MAX_GROUPS, Math.ceil(rows / MAX_GROUPS)];
        dispatch(ctx, `${op}:group:${sg ? "sg" : "wg"}`, () => groupShader(log, sg), [x, y], [rows, n, inner], groups);
      }
    }
    return [y];
  };
}

/** softmax and log_softmax, by IR op name. */
export const softmaxKernels: Readonly<Record<string, Kernel>> = { softmax: softmaxKernel(false), log_softmax: softmaxKernel(true) };
