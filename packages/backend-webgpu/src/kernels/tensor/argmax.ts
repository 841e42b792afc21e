/**
 * argmax along one axis → int32: the first index of the maximum, and the first NaN when there is one
 * (NaN counts as the maximum, as NumPy and PyTorch). Seen as [outer, n, inner], output (o, i) scans
 * x[o, ·, i] at stride `inner`.
 *
 * Candidates (value, index) are combined with an order-independent rule — NaN beats numbers, a larger
 * value wins, ties go to the smaller index — so threads may fold arbitrary strided shares of the axis and
 * a tree can merge them in any pairing, and the result is still the first maximum. The layouts are
 * reduce.ts's: short axes take one thread per output, longer ones a segment of threads per output (several
 * outputs per workgroup) and a tree reduction in workgroup memory. Uniforms: outputs, n, inner.
 */
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { RWG, rowGroups, rowIndex, SERIAL_MAX, threadsPerRow } from "./reduce.js";

const BETTER = `
const NONE = 0xffffffffu;
// whether candidate (va, ia) beats (vb, ib); an empty candidate has index NONE and value −inf
fn better(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  let na = is_nan(va); let nb = is_nan(vb);
  if (na != nb) { return na; }
  if (!na && va != vb) { return va > vb; }
  return ia < ib;
}
fn base_of(r: u32) -> u32 { let inner = u(2u); return (r / inner) * u(1u) * inner + r % inner; }
`;

function shader(tpr: number): string {
  const head = `${WGSL_UNIFORMS}${WGSL_FLOAT}${BETTER}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<i32>;`;
  if (tpr === 1) {
    return `${head}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  let n = u(1u); let inner = u(2u);
  let base = base_of(i);
  var bv = neg_inf(); var bi = NONE;
  for (var j = 0u; j < n; j++) {
    let v = X[base + j * inner];
    if (better(v, j, bv, bi)) { bv = v; bi = j; }
  }
  Y[i] = i32(select(bi, 0u, bi == NONE));
}`;
  }
  return `${head}
var<workgroup> shv: array<f32, ${RWG}>;
var<workgroup> shi: array<u32, ${RWG}>;
@compute @workgroup_size(${RWG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${rowIndex(tpr)}
  let n = u(1u); let inner = u(2u);
  let live = row < u(0u);
  var bv = neg_inf(); var bi = NONE;
  if (live) {
    let base = base_of(row);
    for (var j = lane; j < n; j += ${tpr}u) {
      let v = X[base + j * inner];
      if (better(v, j, bv, bi)) { bv = v; bi = j; }
    }
  }
  shv[lid.x] = bv; shi[lid.x] = bi;
  workgroupBarrier();
  for (var w = ${tpr / 2}u; w > 0u; w /= 2u) {
    if (lane < w && better(shv[lid.x + w], shi[lid.x + w], shv[lid.x], shi[lid.x])) {
      shv[lid.x] = shv[lid.x + w]; shi[lid.x] = shi[lid.x + w];
    }
    workgroupBarrier();
  }
  if (live && lane == 0u) { Y[row] = i32(select(shi[seg0], 0u, shi[seg0] == NONE)); }
}`;
}

/** argmax: int32 index of the first maximum along `axis` (0 for an empty axis, as the cpu backend). */
export const argmaxKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ axis: number }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const ax = a.axis < 0 ? a.axis + x.shape.length : a.axis;
  const n = x.shape[ax];
  const inner = x.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
  const y = ctx.pool.tensor("int32", outputs[0].shape);
  const rows = y.size;
  if (rows === 0) return [y];
  const tpr = n <= SERIAL_MAX ? 1 : threadsPerRow(n);
  dispatch(ctx, `tensor:argmax:tpr${tpr}`, () => shader(tpr), [x, y], [rows, n, inner], tpr === 1 ? groupsFor(rows) : rowGroups(rows, tpr));
  return [y];
};
