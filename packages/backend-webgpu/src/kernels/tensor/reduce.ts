/**
 * reduce_sum, reduce_mean and reduce_max over any set of axes.
 *
 * The host view: reduced and kept axes of x are grouped (size-1 axes dropped, neighbours of the same kind
 * merged, which row-major storage always allows), leaving at most four groups of each kind for rank ≤ 8.
 * Output row r (row-major over the kept axes, the output's own order) reduces L elements whose offsets
 * come from decomposing r over the kept groups and j ∈ [0, L) over the reduced groups. Uniforms: rows, L,
 * kept group count, reduced group count, then kept sizes, kept strides, reduced sizes, reduced strides.
 *
 * Two layouts: short rows (L ≤ {@link SERIAL_MAX}) take one thread per output row; longer rows take a
 * segment of `tpr` threads (a power of two, about L / {@link PER_THREAD}, at most the whole {@link RWG}-
 * thread workgroup), each folding a strided share of the row (Kahan-compensated sums), then a tree
 * reduction over the segment in workgroup memory, so no thread walks a long axis alone. A workgroup holds
 * RWG / tpr rows: SwiftShader (and small GPUs) pay per workgroup, and one 128-thread workgroup per
 * 65-element row was 45× slower there than packing rows. `tpr` is baked into the pipeline (a shape class
 * of at most seven values).
 * Sums accumulate in f32 (the cpu backend uses double; compensation and the tree keep the error small).
 * reduce_max propagates NaN and gives −inf for an empty reduction; reduce_mean of nothing is NaN (0/0).
 */
import { BackendError, stridesOf } from "@attn/core";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";

type Mode = "sum" | "mean" | "max";

/** Longest row reduced by one thread; longer rows get a segment of threads and a tree. */
export const SERIAL_MAX = 64;
/** Threads of a tree-reduction workgroup. */
export const RWG = 128;
/** Elements each thread of a tree segment folds before the tree takes over (roughly). */
export const PER_THREAD = 32;
/** Most kept / reduced axis groups (4 each fit the 32 uniform words, and cover rank 8). */
const GROUPS = 4;
const MAX_GROUPS_X = 65535;

/** Threads per row for a tree reduction of rows of length L: a power of two in [2, RWG]. */
export function threadsPerRow(L: number): number {
  let t = 2;
  while (t < RWG && t * PER_THREAD < L) t *= 2;
  return t;
}

/** Workgroup counts covering `rows` rows at RWG / tpr rows per workgroup (2-D past 65535 groups). */
export function rowGroups(rows: number, tpr: number): [number, number] {
  const g = Math.max(Math.ceil(rows / (RWG / tpr)), 1);
  return g <= MAX_GROUPS_X ? [g, 1] : [MAX_GROUPS_X, Math.ceil(g / MAX_GROUPS_X)];
}

/**
 * WGSL (for a pipeline with `tpr` threads per row) naming this thread's `row`, its `lane` in the row's
 * segment and `seg0`, the segment's first slot in workgroup memory; dispatch with {@link rowGroups}.
 */
export function rowIndex(tpr: number): string {
  return `let lane = lid.x % ${tpr}u; let seg0 = lid.x - lane;
  let row = (wid.x + wid.y * ${MAX_GROUPS_X}u) * ${RWG / tpr}u + lid.x / ${tpr}u;`;
}

/** Kahan-compensated addition into (s, c); compensation is dropped once the sum is not finite. */
const KAHAN = `
fn kahan(s: ptr<function, f32>, c: ptr<function, f32>, v: f32) {
  let y = v - *c;
  let t = *s + y;
  *c = select(0.0, (t - *s) - y, (bitcast<u32>(t) & 0x7f800000u) != 0x7f800000u);
  *s = t;
}
fn fmax(a: f32, b: f32) -> f32 { return select(max(a, b), nan(), is_nan(a) || is_nan(b)); }
`;

const OFFSETS = `
fn decompose(r0: u32, n: u32, first: u32) -> u32 {
  var r = r0; var off = 0u;
  for (var g = i32(n) - 1; g >= 0; g--) {
    let s = u(first + u32(g));
    off += (r % s) * u(first + ${GROUPS}u + u32(g));
    r = r / s;
  }
  return off;
}
fn row_base(row: u32) -> u32 { return decompose(row, u(2u), 4u); }
fn elem_off(j: u32) -> u32 { return decompose(j, u(3u), ${4 + 2 * GROUPS}u); }
`;

/** The output value from the folded value `v` (a mean divides by L; a mean over nothing is NaN). */
function finish(mode: Mode, v: string): string {
  return mode === "mean" ? `select(${v} / f32(L), nan(), L == 0u)` : v;
}

/** The WGSL of one reduction: serial (tpr = 1) or a tree over segments of `tpr` threads. */
function shader(mode: Mode, tpr: number): string {
  const isMax = mode === "max";
  const init = isMax ? "var acc = neg_inf();" : "var acc = 0.0; var comp = 0.0;";
  const fold = isMax ? "acc = fmax(acc, v);" : "kahan(&acc, &comp, v);";
  const head = `${WGSL_UNIFORMS}${WGSL_FLOAT}${KAHAN}${OFFSETS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;`;
  if (tpr === 1) {
    return `${head}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  let L = u(1u);
  let base = row_base(i);
  ${init}
  for (var j = 0u; j < L; j++) { let v = X[base + elem_off(j)]; ${fold} }
  Y[i] = ${finish(mode, "acc")};
}`;
  }
  const combine = isMax ? "sh[lid.x] = fmax(sh[lid.x], sh[lid.x + w]);" : "sh[lid.x] = sh[lid.x] + sh[lid.x + w];";
  return `${head}
var<workgroup> sh: array<f32, ${RWG}>;
@compute @workgroup_size(${RWG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${rowIndex(tpr)}
  let L = u(1u);
  // rows past the end (grid padding) still take part in the barriers, then write nothing
  let live = row < u(0u);
  ${init}
  if (live) {
    let base = row_base(row);
    for (var j = lane; j < L; j += ${tpr}u) { let v = X[base + elem_off(j)]; ${fold} }
  }
  sh[lid.x] = acc;
  workgroupBarrier();
  for (var w = ${tpr / 2}u; w > 0u; w /= 2u) {
    if (lane < w) { ${combine} }
    workgroupBarrier();
  }
  if (live && lane == 0u) { Y[row] = ${finish(mode, "sh[seg0]")}; }
}`;
}

/** Groups of consecutive axes of one kind (size-1 axes dropped), as [sizes, strides] for kept and reduced. */
function groupAxes(shape: readonly number[], red: ReadonlySet<number>): { kept: [number[], number[]]; reduced: [number[], number[]] } {
  const st = stridesOf(shape);
  const kept: [number[], number[]] = [[], []];
  const reduced: [number[], number[]] = [[], []];
  let prev: boolean | null = null;
  shape.forEach((d, k) => {
    if (d === 1) return;
    const isRed = red.has(k);
    const g = isRed ? reduced : kept;
    if (prev === isRed) {
      // merge with the previous axis of the group: its stride already spans this axis
      g[0][g[0].length - 1] *= d;
      g[1][g[1].length - 1] = st[k];
    } else {
      g[0].push(d);
      g[1].push(st[k]);
    }
    prev = isRed;
  });
  return { kept, reduced };
}

function reduceKernel(mode: Mode): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ axes: number[] }>(ctx, inputs, attrs);
    const x = inputs[0]!;
    const rank = x.shape.length;
    const red = new Set(a.axes.map((ax) => (ax < 0 ? ax + rank : ax)));
    const y = ctx.pool.tensor("float32", outputs[0].shape);
    const rows = y.size;
    if (rows === 0) return [y];
    const L = x.shape.reduce((p, d, k) => (red.has(k) ? p * d : p), 1);
    const { kept, reduced } = groupAxes(x.shape, red);
    if (kept[0].length > GROUPS || reduced[0].length > GROUPS) {
      throw new BackendError(`${ctx.op}: the webgpu kernel takes at most ${GROUPS} runs of kept and of reduced axes (rank ≤ 8), got shape [${x.shape.join(", ")}] over axes [${a.axes.join(", ")}]`);
    }
    const uniforms = new Array<number>(4 + 4 * GROUPS).fill(0);
    uniforms[0] = rows;
    uniforms[1] = L;
    uniforms[2] = kept[0].length;
    uniforms[3] = reduced[0].length;
    for (let g = 0; g < kept[0].length; g++) {
      uniforms[4 + g] = kept[0][g];
      uniforms[4 + GROUPS + g] = kept[1][g];
    }
    for (let g = 0; g < reduced[0].length; g++) {
      uniforms[4 + 2 * GROUPS + g] = reduced[0][g];
      uniforms[4 + 3 * GROUPS + g] = reduced[1][g];
    }
    const tpr = L <= SERIAL_MAX ? 1 : threadsPerRow(L);
    dispatch(ctx, `tensor:reduce:${mode}:tpr${tpr}`, () => shader(mode, tpr), [x, y], uniforms, tpr === 1 ? groupsFor(rows) : rowGroups(rows, tpr));
    return [y];
  };
}

/** reduce_sum, reduce_mean and reduce_max, by IR op name. */
export const reduceKernels: Readonly<Record<string, Kernel>> = {
  reduce_sum: reduceKernel("sum"),
  reduce_mean: reduceKernel("mean"),
  reduce_max: reduceKernel("max"),
};
