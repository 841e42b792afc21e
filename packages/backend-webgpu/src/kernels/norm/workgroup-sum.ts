/**
 * A workgroup-wide sum in WGSL: every thread contributes one partial, a binary tree in workgroup memory
 * adds them (pairwise, so the rounding error grows with log2 of the workgroup size, not linearly), and
 * every thread gets the total. Used by layer_norm's row statistics, by layer_norm_grad's column sums and
 * by conv2d_grad's bias gradient.
 */

/** Threads per workgroup of the row / column reductions (a power of two). */
export const RED_WG = 64;

/**
 * WGSL declaring `fn wg_sum(lid: u32, v: f32) -> f32` (and `wg_sum2` summing two values at once) over a
 * workgroup of {@link RED_WG} threads. Must be called from uniform control flow by every thread: it
 * contains barriers, including a trailing one so the scratch can be reused by the next call.
 */
export const WGSL_WG_SUM = `
var<workgroup> red_a: array<f32, ${RED_WG}>;
var<workgroup> red_b: array<f32, ${RED_WG}>;
fn wg_sum(lid: u32, v: f32) -> f32 {
  red_a[lid] = v;
  workgroupBarrier();
  for (var s = ${RED_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red_a[lid] += red_a[lid + s]; }
    workgroupBarrier();
  }
  let t = red_a[0];
  workgroupBarrier();
  return t;
}
fn wg_sum2(lid: u32, v: vec2<f32>) -> vec2<f32> {
  red_a[lid] = v.x;
  red_b[lid] = v.y;
  workgroupBarrier();
  for (var s = ${RED_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red_a[lid] += red_a[lid + s]; red_b[lid] += red_b[lid + s]; }
    workgroupBarrier();
  }
  let t = vec2<f32>(red_a[0], red_b[0]);
  workgroupBarrier();
  return t;
}
`;

const MAX_GROUPS = 65535;

/** A grid of `n` workgroups (one per row or column), 2-D past 65535; the shader rebuilds the index with {@link WG_INDEX}. */
export function workgroupsFor(n: number): [number, number] {
  if (n <= MAX_GROUPS) return [Math.max(n, 1), 1];
  return [MAX_GROUPS, Math.ceil(n / MAX_GROUPS)];
}

/** WGSL: `let w = …` the flat workgroup index of a grid from {@link workgroupsFor} (needs `wid`). */
export const WG_INDEX = `let w = wid.x + wid.y * ${MAX_GROUPS}u;`;
