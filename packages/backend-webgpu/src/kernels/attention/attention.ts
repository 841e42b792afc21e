/**
 * attention: out = select(mask(scale · q kᵀ)) · v for q [B, ..., Tq, D], k [B, ..., Tk, D], v [B, ..., Tk, Dv]
 * (docs/ir.md), optionally also returning the weights [B, ..., Tq, Tk].
 *
 * `select: "softmax"` runs fused, flash-attention style: one workgroup of 64 threads per (batch, tile of
 * BQ = 16 queries, chunk of DVC = 64 output columns). Per tile of BK = 16 keys it stages q and k in
 * workgroup memory DC = 16 features at a time to form the 16×16 scores, turns them into probabilities
 * against a running row max (rescaling the running sum and the accumulator when the max grows: online
 * softmax), stages the v tile and accumulates P·v in registers (each thread owns one query row and 16 of its
 * columns). Scores never leave the workgroup, so no [Tq, Tk] buffer exists unless the weights are wanted;
 * key tiles outside the causal / window range of every query in the tile are never visited. Head sizes
 * are uniforms: D is walked in chunks and Dv split across workgroups (scores are recomputed per chunk of
 * 64 columns, which costs only when Dv > 64).
 *
 * With the weights requested (and read), the fused pass also saves each row's max and sum, and a second
 * elementwise pass writes w_ij = exp(s_ij − m_i) / l_i. The "argmax" and top-k selections are not
 * softmax-normalised online, so they take a plain path: masked scores, the row selection (select.ts), then
 * weights · v.
 *
 * A query whose keys are all masked gets zero weights and a zero output (the −inf-row convention).
 */
import type { AttentionSelect } from "@attn/core";
import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel, type KernelContext } from "../../kernel.js";
import { maskWords, wgslMask } from "./mask.js";
import { recordSelect } from "./select.js";

interface AttentionAttrs {
  scale: number;
  causal: boolean;
  window: number | null;
  select: AttentionSelect;
  weights: boolean;
}

const BQ = 16;
const BK = 16;
const DC = 16;
const DVC = 64;
const MAX_GROUPS = 65535;

/** Uniform layout shared by every attention pass: sizes first, the mask words from MASK_BASE. */
export const MASK_BASE = 10;

/** The f32 bits of `x` as a u32 uniform word (read back with `bitcast<f32>`). */
export function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}

/**
 * The uniforms: 0 nb, 1 Tq, 2 Tk, 3 D, 4 Dv, 5 scale (f32 bits), 6 query tiles, 7 Dv chunks, 8 a pass's
 * element count, then the mask words.
 */
export function attentionWords(op: string, q: GpuTensor, k: GpuTensor, v: GpuTensor, mask: GpuTensor | null, a: { scale: number; causal: boolean; window: number | null }): number[] {
  const r = q.shape.length;
  const Tq = q.shape[r - 2];
  const Tk = k.shape[r - 2];
  const nb = q.shape.slice(0, r - 2).reduce((p, d) => p * d, 1);
  const words = [nb, Tq, Tk, q.shape[r - 1], v.shape[r - 1], f32Bits(a.scale), Math.ceil(Tq / BQ), Math.ceil(v.shape[r - 1] / DVC), 0, 0];
  return [...words, ...maskWords(op, mask, [...q.shape.slice(0, r - 1), Tk], a.causal, a.window)];
}

/** WGSL shared by the passes: sizes, the mask helpers and the score of (b, i, j) as a plain dot product. */
function prelude(hasMask: boolean, maskBinding: number): string {
  return `${WGSL_UNIFORMS}${WGSL_FLOAT}
${wgslMask(MASK_BASE, hasMask ? maskBinding : null)}
fn nb() -> u32 { return u(0u); }
fn tq() -> u32 { return u(1u); }
fn tk() -> u32 { return u(2u); }
fn dd() -> u32 { return u(3u); }
fn dv() -> u32 { return u(4u); }
fn scale() -> f32 { return bitcast<f32>(u(5u)); }
`;
}

function fusedShader(hasMask: boolean, stats: boolean): string {
  return `${prelude(hasMask, 5)}
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
${stats ? `@group(0) @binding(${hasMask ? 6 : 5}) var<storage, read_write> ST: array<f32>;` : ""}
const BQ = ${BQ}u;
const BK = ${BK}u;
const DC = ${DC}u;
const DVC = ${DVC}u;
var<workgroup> Qs: array<f32, ${BQ * DC}>;  // [BQ][DC] query features d0..d0+DC
var<workgroup> Ks: array<f32, ${BK * DC}>;  // [BK][DC] key features
var<workgroup> Ss: array<f32, ${BQ * BK}>;  // [BQ][BK] scores, then probabilities
var<workgroup> Vs: array<f32, ${BK * DVC}>; // [BK][DVC] values
var<workgroup> Cs: array<f32, ${BQ}>;       // per row: factor rescaling the accumulator
var<workgroup> Ls: array<f32, ${BQ}>;       // per row: final sum of probabilities
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let ndvc = u(7u);
  let qtiles = u(6u);
  let g = wg.x + wg.y * ${MAX_GROUPS}u;
  if (g >= nb() * qtiles * ndvc) { return; } // padding group of a 2-D dispatch (uniform per workgroup)
  let c0 = (g % ndvc) * DVC;
  let q0 = ((g / ndvc) % qtiles) * BQ;
  let b = g / (ndvc * qtiles);
  let T = tk();
  let D = dd();
  let qlast = min(q0 + BQ, tq()) - 1u;
  let r = tid / 4u;   // this thread's query row in the tile
  let cg = tid % 4u;  // its score columns cg*4.. and output columns cg, cg+4, ...
  let qi = q0 + r;
  let mb = mask_base(b);
  var acc: array<f32, 16>;
  var m = neg_inf(); // running max and sum of row tid (threads tid < BQ)
  var l = 0.0;
  let hi = key_hi_raw(qlast, T);
  for (var k0 = (key_lo_raw(q0) / BK) * BK; k0 < hi; k0 += BK) {
    var dots = vec4<f32>(0.0);
    for (var d0 = 0u; d0 < D; d0 += DC) {
      for (var e = 0u; e < 4u; e++) {
        let x = tid + 64u * e;
        let rr = x / DC;
        let cc = d0 + x % DC;
        var qv = 0.0;
        if (q0 + rr < tq() && cc < D) { qv = Q[(b * tq() + q0 + rr) * D + cc]; }
        Qs[x] = qv;
        var kv = 0.0;
        if (k0 + rr < T && cc < D) { kv = K[(b * T + k0 + rr) * D + cc]; }
        Ks[x] = kv;
      }
      workgroupBarrier();
      let n = min(DC, D - d0);
      for (var c = 0u; c < n; c++) {
        let qv = Qs[r * DC + c];
        for (var e = 0u; e < 4u; e++) { dots[e] += qv * Ks[(cg * 4u + e) * DC + c]; }
      }
      workgroupBarrier();
    }
    for (var e = 0u; e < 4u; e++) {
      let j = k0 + cg * 4u + e;
      let ok = qi < tq() && j < T && visible(mb, qi, j, T);
      Ss[r * BK + cg * 4u + e] = select(neg_inf(), dots[e] * scale(), ok);
    }
    for (var e = 0u; e < 16u; e++) {
      let x = tid + 64u * e;
      let rr = x / DVC;
      let cc = c0 + x % DVC;
      var vv = 0.0;
      if (k0 + rr < T && cc < dv()) { vv = V[(b * T + k0 + rr) * dv() + cc]; }
      Vs[x] = vv;
    }
    workgroupBarrier();
    if (tid < BQ) {
      var mt = neg_inf();
      for (var j = 0u; j < BK; j++) { mt = max(mt, Ss[tid * BK + j]); }
      let mn = max(m, mt);
      var corr = 1.0;
      if (mn == neg_inf()) {
        for (var j = 0u; j < BK; j++) { Ss[tid * BK + j] = 0.0; }
      } else {
        // the accumulator and sum were relative to the old max; exp(−inf) is not relied upon
        corr = select(exp(m - mn), 0.0, m == neg_inf());
        var sum = 0.0;
        for (var j = 0u; j < BK; j++) {
          let s = Ss[tid * BK + j];
          let p = select(exp(s - mn), 0.0, s == neg_inf());
          Ss[tid * BK + j] = p;
          sum += p;
        }
        l = l * corr + sum;
        m = mn;
      }
      Cs[tid] = corr;
    }
    workgroupBarrier();
    let corr = Cs[r];
    for (var t = 0u; t < 16u; t++) {
      let c = cg + 4u * t;
      var a = acc[t] * corr;
      for (var j = 0u; j < BK; j++) { a += Ss[r * BK + j] * Vs[j * DVC + c]; }
      acc[t] = a;
    }
    workgroupBarrier();
  }
  if (tid < BQ) {
    Ls[tid] = l;
    ${stats ? "if (c0 == 0u && q0 + tid < tq()) { let o = (b * tq() + q0 + tid) * 2u; ST[o] = m; ST[o + 1u] = l; }" : ""}
  }
  workgroupBarrier();
  if (qi < tq()) {
    let lr = Ls[r];
    for (var t = 0u; t < 16u; t++) {
      let c = c0 + cg + 4u * t;
      if (c < dv()) { O[(b * tq() + qi) * dv() + c] = select(acc[t] / lr, 0.0, lr == 0.0); }
    }
  }
}`;
}

/**
 * The elementwise passes over [nb, Tq, Tk] (one thread per score): "scores" writes the masked scaled
 * scores (−inf where masked), "weights" the softmax weights from the fused pass's row max and sum.
 */
function scoreShader(mode: "scores" | "weights", hasMask: boolean): string {
  const value =
    mode === "scores"
      ? "W[i] = select(neg_inf(), s, ok);"
      : "let m = ST[(b * tq() + q) * 2u]; let l = ST[(b * tq() + q) * 2u + 1u];\n  W[i] = select(0.0, exp(s - m) / l, ok && l > 0.0);";
  return `${prelude(hasMask, mode === "weights" ? 5 : 4)}
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read_write> W: array<f32>;
${mode === "weights" ? "@group(0) @binding(4) var<storage, read> ST: array<f32>;" : ""}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(8u)) { return; }
  let T = tk();
  let j = i % T;
  let q = (i / T) % tq();
  let b = i / (T * tq());
  let ok = visible(mask_base(b), q, j, T);
  var s = 0.0;
  if (ok) {
    for (var d = 0u; d < dd(); d++) { s += Q[(b * tq() + q) * dd() + d] * K[(b * T + j) * dd() + d]; }
    s *= scale();
  }
  ${value}
}`;
}

/** out[b, i, c] = Σ_j W[b, i, j] · V[b, j, c], one thread per output (zero weights skipped: one-hot rows). */
function weightedSumShader(): string {
  return `${prelude(false, 0)}
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(8u)) { return; }
  let T = tk();
  let c = i % dv();
  let row = i / dv();
  let b = row / tq();
  var a = 0.0;
  for (var j = 0u; j < T; j++) {
    let w = W[row * T + j];
    if (w != 0.0) { a += w * V[(b * T + j) * dv() + c]; }
  }
  O[i] = a;
}`;
}

/** Workgroups for `n` independent groups, 2-D past 65535 (the shader folds them back). */
function tiles(n: number): [number, number] {
  if (n <= MAX_GROUPS) return [Math.max(n, 1), 1];
  return [MAX_GROUPS, Math.ceil(n / MAX_GROUPS)];
}

function withCount(words: number[], n: number): number[] {
  const w = [...words];
  w[8] = n;
  return w;
}

/** attention (see the header): fused online softmax, or the plain path for argmax / top-k. */
export const attentionKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<AttentionAttrs>(ctx, inputs, attrs);
  const [q, k, v] = [inputs[0]!, inputs[1]!, inputs[2]!];
  const mask = inputs[3] ?? null;
  const words = attentionWords(ctx.op, q, k, v, mask, a);
  const [nb, Tq, Tk] = words;
  const out = ctx.pool.tensor("float32", outputs[0].shape);
  const wantWeights = a.weights && (ctx.outputUsed?.(1) ?? true);
  // an unread weights output is an empty placeholder: no [Tq, Tk] buffer is ever allocated for it
  const weights = a.weights ? ctx.pool.tensor("float32", wantWeights ? outputs[1].shape : [0]) : null;
  const result = weights ? [out, weights] : [out];
  if (out.size === 0 && (!wantWeights || weights!.size === 0)) return result;

  if (a.select === "softmax") {
    const stats = wantWeights ? ctx.pool.tensor("float32", [nb * Tq * 2]) : null;
    if (out.size > 0 || stats) {
      const groups = nb * words[6] * Math.max(words[7], 1);
      const w = [...words];
      w[7] = Math.max(w[7], 1); // Dv = 0 still needs a pass for the stats
      const tensors = [q, k, v, out, ...(mask ? [mask] : []), ...(stats ? [stats] : [])];
      dispatch(ctx, `attention:fused${mask ? ":mask" : ""}${stats ? ":stats" : ""}`, () => fusedShader(mask !== null, stats !== null), tensors, w, tiles(groups));
    }
    if (stats) {
      recordScoresWeights(ctx, q, k, mask, weights!, stats, words);
      ctx.pool.release(stats);
    }
    return result;
  }

  const kind = a.select === "argmax" ? "hardmax" : "topk_softmax";
  const topk = typeof a.select === "object" ? a.select.topk : 0;
  if (Tk === 0) return result;
  const scores = ctx.pool.tensor("float32", [nb, Tq, Tk]);
  recordMaskedScores(ctx, q, k, mask, scores, words);
  const w = wantWeights ? weights! : ctx.pool.tensor("float32", [nb, Tq, Tk]);
  recordSelect(ctx, kind, scores, w, Tk, 1, topk);
  ctx.pool.release(scores);
  if (out.size > 0) dispatch(ctx, "attention:weighted_sum", weightedSumShader, [w, v, out], withCount(words, out.size), groupsFor(out.size));
  if (w !== weights) ctx.pool.release(w);
  return result;
};

/** The masked scaled scores of every (query, key) into `scores` [nb, Tq, Tk] (−inf where masked). */
function recordMaskedScores(ctx: KernelContext, q: GpuTensor, k: GpuTensor, mask: GpuTensor | null, scores: GpuTensor, words: number[]): void {
  dispatch(ctx, `attention:scores${mask ? ":mask" : ""}`, () => scoreShader("scores", mask !== null), [q, k, scores, ...(mask ? [mask] : [])], withCount(words, scores.size), groupsFor(scores.size));
}

/** The softmax weights into `w` [nb, Tq, Tk] from the fused pass's row max and sum. */
function recordScoresWeights(ctx: KernelContext, q: GpuTensor, k: GpuTensor, mask: GpuTensor | null, w: GpuTensor, stats: GpuTensor, words: number[]): void {
  if (w.size === 0) return;
  dispatch(ctx, `attention:weights${mask ? ":mask" : ""}`, () => scoreShader("weights", mask !== null), [q, k, w, stats, ...(mask ? [mask] : [])], withCount(words, w.size), groupsFor(w.size));
}
