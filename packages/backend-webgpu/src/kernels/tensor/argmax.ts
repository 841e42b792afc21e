/**
 * argmax along one axis → int32: the first index of the maximum, and the first NaN when there is one
 * (NaN counts as the maximum, as NumPy and PyTorch). Seen as [outer, n, inner], output (o, i) scans
 * x[o, ·, i] at stride `inner`.
 *
 * Candidates (value, index) are combined with an order-independent rule — NaN beats numbers, a larger
 * value wins, ties go to the smaller index — so threads may fold arbitrary strided shares of the axis and
 * a tree can merge them in any pairing, and the result is still the first maximum. As in reduce.ts,
 * short axes take one thread per output and long ones one workgroup per output with a tree reduction in
 * workgroup memory. Uniforms: outputs, n, inner.
 */
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { RWG, ROW_INDEX, rowGroups, SERIAL_MAX } from "./reduce.js";

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

function shader(serial: boolean): string {
  const head = `${WGSL_UNIFORMS}${WGSL_FLOAT}${BETTER}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<i32>;`;
  if (serial) {
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
  ${ROW_INDEX}
  let n = u(1u); let inner = u(2u);
  let live = row < u(0u);
  var bv = neg_inf(); var bi = NONE;
  if (live) {
    let base = base_of(row);
    for (var j = lid.x; j < n; j += ${RWG}u) {
      let v = X[base + j * inner];
      if (better(v, j, bv, bi)) { bv = v; bi = j; }
    }
  }
  shv[lid.x] = bv; shi[lid.x] = bi;
  workgroupBarrier();
  for (var w = ${RWG / 2}u; w > 0u; w /= 2u) {
    if (lid.x < w && better(shv[lid.x + w], shi[lid.x + w], shv[lid.x], shi[lid.x])) {
      shv[lid.x] = shv[lid.x + w]; shi[lid.x] = shi[lid.x + w];
    }
    workgroupBarrier();
  }
  if (live && lid.x == 0u) { Y[row] = i32(select(shi[0], 0u, shi[0] == NONE)); }
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
  const serial = n <= SERIAL_MAX;
  dispatch(ctx, `tensor:argmax:${serial ? "serial" : "tree"}`, () => shader(serial), [x, y], [rows, n, inner], serial ? groupsFor(rows) : rowGroups(rows));
  return [y];
};
