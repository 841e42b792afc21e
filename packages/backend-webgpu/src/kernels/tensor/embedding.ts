/**
 * embedding (a row gather) and embedding_grad (its scatter-add), on int32 indices.
 *
 * embedding: y[t, d] = weight[indices[t], d], one thread per output element.
 *
 * embedding_grad: dweight[v] = Σ dy[t] over the positions t with indices[t] = v. WGSL has no float
 * atomics, and a sum whose order depends on thread timing would not be reproducible, so the scatter is
 * turned into a gather over positions grouped by row, each group in increasing t (the cpu backend's order):
 *   1. count: cnt[v] = #positions of row v (u32 atomics: counts do not depend on order);
 *   2. scan: start[v] = Σ cnt[<v] (one workgroup, chunked Hillis–Steele scan), start[V] = total;
 *   3. fill: each position takes a slot of its row's range from an atomic cursor (order still racy);
 *   4. order: each slot's final place is start[v] + #(positions of its row smaller than its own), which
 *      sorts every row's range by t whatever order step 3 produced (quadratic per row only);
 *   5. sum: one thread per (v, d) adds dy over its row's range in t order, with Kahan compensation.
 * Rows nobody indexes get exact zeros. The work is linear in V·D + T·D plus Σ cnt² for the ordering.
 *
 * Bad indices: an index outside [0, V) fails the run with the cpu backend's error (the first offending
 * position, its value and the valid range), found by a check dispatch (../validate.ts) and reported after
 * the run completes. The shaders below still guard their reads: such a position yields a NaN row in
 * embedding and contributes nothing to embedding_grad, results the failed run never returns.
 */
import { sizeOf } from "@attn/core";
import { WORD, type GpuTensor } from "../../buffers.js";
import { i32FromBits } from "../../checks.js";
import { dispatch, FLAT_INDEX, formatIndex, groupsFor, inferOutputs, inputName, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../../kernel.js";
import { checkIndices } from "../validate.js";

/** Records the range check of `idx` against the V rows of the weight (message as the cpu backend's). */
function checkRows(ctx: KernelContext, idx: GpuTensor, V: number, D: number): void {
  const forWeight = ctx.op === "embedding" ? ` for weight "${inputName(ctx, 0, "weight")}" [${V}, ${D}]` : "";
  checkIndices(ctx, "indices", idx, V, null, (h) =>
    `${ctx.op}: index ${i32FromBits(h.bits)} at position ${formatIndex(h.index, idx.shape)} of "${inputName(ctx, 1, "indices")}" is out of range [0, ${V})${forWeight}`);
}

const GATHER = `${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> Idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  let V = u(1u); let D = u(2u);
  let ix = Idx[i / D];
  if (ix < 0 || u32(ix) >= V) { Y[i] = nan(); return; }
  Y[i] = W[u32(ix) * D + i % D];
}`;

/** embedding: rows of weight [V, D] picked by int32 indices [...] → [..., D]. */
export const embeddingKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const [w, idx] = inputs;
  const [V, D] = w!.shape;
  checkRows(ctx, idx!, V, D);
  const y = ctx.pool.tensor("float32", outputs[0].shape);
  if (y.size > 0) dispatch(ctx, "tensor:embedding", () => GATHER, [w!, idx!, y], [y.size, V, D], groupsFor(y.size));
  return [y];
};

/** Threads of the single scan workgroup. */
const SCAN_WG = 256;

const COUNT = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> Idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> Cnt: array<atomic<u32>>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  let ix = Idx[i];
  if (ix < 0 || u32(ix) >= u(1u)) { return; }
  atomicAdd(&Cnt[u32(ix)], 1u);
}`;

const SCAN = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> Cnt: array<u32>;
@group(0) @binding(2) var<storage, read_write> Start: array<u32>;
@group(0) @binding(3) var<storage, read_write> Cursor: array<u32>;
var<workgroup> sh: array<u32, ${SCAN_WG}>;
@compute @workgroup_size(${SCAN_WG}) fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let V = u(0u);
  var carry = 0u;
  for (var base = 0u; base < V; base += ${SCAN_WG}u) {
    let v = base + lid.x;
    var c = 0u;
    if (v < V) { c = Cnt[v]; }
    sh[lid.x] = c;
    workgroupBarrier();
    // inclusive Hillis–Steele scan of this chunk
    for (var off = 1u; off < ${SCAN_WG}u; off *= 2u) {
      var add = 0u;
      if (lid.x >= off) { add = sh[lid.x - off]; }
      workgroupBarrier();
      sh[lid.x] += add;
      workgroupBarrier();
    }
    if (v < V) {
      let s = carry + sh[lid.x] - c;
      Start[v] = s;
      Cursor[v] = s;
    }
    carry += sh[${SCAN_WG - 1}u];
    workgroupBarrier();
  }
  if (lid.x == 0u) { Start[V] = carry; }
}`;

const FILL = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> Idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> Cursor: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> Slots: array<u32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  let ix = Idx[i];
  if (ix < 0 || u32(ix) >= u(1u)) { return; }
  Slots[atomicAdd(&Cursor[u32(ix)], 1u)] = i;
}`;

const ORDER = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> Idx: array<i32>;
@group(0) @binding(2) var<storage, read> Start: array<u32>;
@group(0) @binding(3) var<storage, read> Slots: array<u32>;
@group(0) @binding(4) var<storage, read_write> Sorted: array<u32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= Start[u(0u)]) { return; }
  let t = Slots[i];
  let v = u32(Idx[t]);
  let b = Start[v]; let e = Start[v + 1u];
  var rank = 0u;
  for (var k = b; k < e; k++) { rank += select(0u, 1u, Slots[k] < t); }
  Sorted[b + rank] = t;
}`;

const SUM = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> Dy: array<f32>;
@group(0) @binding(2) var<storage, read> Start: array<u32>;
@group(0) @binding(3) var<storage, read> Sorted: array<u32>;
@group(0) @binding(4) var<storage, read_write> Dw: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  let D = u(1u);
  let v = i / D; let d = i % D;
  var s = 0.0; var comp = 0.0;
  for (var k = Start[v]; k < Start[v + 1u]; k++) {
    let y = Dy[Sorted[k] * D + d] - comp;
    let t = s + y;
    // the compensation is meaningless once the sum overflows (inf − inf): then it is plain summation
    comp = select(0.0, (t - s) - y, (bitcast<u32>(t) & 0x7f800000u) != 0x7f800000u);
    s = t;
  }
  Dw[i] = s;
}`;

/** embedding_grad: dy rows scatter-added into a [V, D] gradient, deterministically (see the header). */
export const embeddingGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const [w, idx, dy] = inputs;
  const [V, D] = w!.shape;
  const T = sizeOf(idx!.shape);
  checkRows(ctx, idx!, V, D);
  const dw = ctx.pool.tensor("float32", outputs[0].shape);
  if (dw.size === 0) return [dw];
  if (T === 0 || D === 0) {
    ctx.encoder.clearBuffer(dw.buffer, 0, dw.size * WORD);
    return [dw];
  }
  const cnt = ctx.pool.tensor("int32", [V]);
  const start = ctx.pool.tensor("int32", [V + 1]);
  const cursor = ctx.pool.tensor("int32", [V]);
  const slots = ctx.pool.tensor("int32", [T]);
  const sorted = ctx.pool.tensor("int32", [T]);
  ctx.encoder.clearBuffer(cnt.buffer, 0, V * WORD);
  dispatch(ctx, "tensor:embedding_grad:count", () => COUNT, [idx!, cnt], [T, V], groupsFor(T));
  dispatch(ctx, "tensor:embedding_grad:scan", () => SCAN, [cnt, start, cursor], [V], [1]);
  dispatch(ctx, "tensor:embedding_grad:fill", () => FILL, [idx!, cursor, slots], [T, V], groupsFor(T));
  dispatch(ctx, "tensor:embedding_grad:order", () => ORDER, [idx!, start, slots, sorted], [V], groupsFor(T));
  dispatch(ctx, "tensor:embedding_grad:sum", () => SUM, [dy!, start, sorted, dw], [dw.size, D], groupsFor(dw.size));
  for (const t of [cnt, start, cursor, slots, sorted]) ctx.pool.release(t);
  return [dw];
};
