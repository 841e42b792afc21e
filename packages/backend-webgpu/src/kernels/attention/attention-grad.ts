/**
 * attention_grad: dq, dk, dv of out = P·v with P = select(mask(scale · q kᵀ)), given d_out and optionally
 * d_weights (docs/ir.md). With dP_ij = d_out_i · v_j + d_weights_ij and G = P (softmax, top-k) or
 * softmax(S) (argmax: the straight-through estimator):
 *
 *   dS_ij = G_ij (dP_ij − Δ_i),  Δ_i = Σ_j G_ij dP_ij
 *   dq_i = scale Σ_j dS_ij k_j,  dk_j = scale Σ_i dS_ij q_i,  dv_j = Σ_i P_ij d_out_i
 *
 * No [Tq, Tk] matrix is stored: three passes recompute scores from q and k (the same dot product, so the
 * same bits, in every pass) against a few saved numbers per query row.
 *   1. one thread per query row: the row's softmax max m and sum l (over the kept keys for top-k, whose
 *      last kept entry (value, index) it also saves; the first maximum's index for argmax), then Δ.
 *   2. one thread per query row: dq_i, accumulated in place in its own output row.
 *   3. and 4. one thread per key: dk_j, then dv_j, summing over the queries that see key j (two passes:
 *      together they would bind more than the 8 storage buffers WebGPU guarantees per stage).
 * Each thread writes only its own rows, so there are no races and no atomics. A fully masked query has
 * l = 0 and contributes nothing.
 */
import type { AttentionSelect } from "@attn/core";
import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { attentionWords, MASK_BASE } from "./attention.js";
import { wgslMask } from "./mask.js";

interface AttentionGradAttrs {
  scale: number;
  causal: boolean;
  window: number | null;
  select: AttentionSelect;
}

type Pass = "stats" | "dq" | "dk" | "dv";
type Kind = "softmax" | "argmax" | "topk";

/** Saved numbers per query row: m, l, Δ, then the kept threshold value (top-k) and an index (bits). */
const ST_WORDS = 5;

function shader(pass: Pass, kind: Kind, hasDw: boolean, hasMask: boolean): string {
  const decls: string[] = [];
  const bind = (name: string, rw: boolean, type = "f32") =>
    decls.push(`@group(0) @binding(${decls.length + 1}) var<storage, ${rw ? "read_write" : "read"}> ${name}: array<${type}>;`);
  // dv needs neither v nor d_weights (dv_j = Σ_i P_ij d_out_i): binding them would pass WebGPU's
  // baseline limit of 8 storage buffers per stage once a mask is bound too
  const needsDp = pass !== "dv";
  bind("Q", false);
  bind("K", false);
  if (needsDp) bind("V", false);
  bind("GO", false);
  if (hasDw && needsDp) bind("GW", false);
  bind("ST", pass === "stats");
  if (pass !== "stats") bind(pass.toUpperCase(), true);
  const maskBinding = decls.length + 1;
  // P and G of one visible score s at key j of row `row`, from the saved statistics
  const probs = {
    softmax: "let g = exp(s - ST[o]) / ST[o + 1u]; return vec2<f32>(g, g);",
    argmax: "let g = exp(s - ST[o]) / ST[o + 1u]; return vec2<f32>(select(0.0, 1.0, j == bitcast<u32>(ST[o + 4u])), g);",
    topk: "let g = select(0.0, exp(s - ST[o]) / ST[o + 1u], kept(s, j, ST[o + 3u], bitcast<u32>(ST[o + 4u]))); return vec2<f32>(g, g);",
  }[kind];
  const body = { stats: STATS(kind), dq: DQ, dk: DK, dv: DV }[pass];
  return `${WGSL_UNIFORMS}${WGSL_FLOAT}
${decls.join("\n")}
${wgslMask(MASK_BASE, hasMask ? maskBinding : null)}
fn tq() -> u32 { return u(1u); }
fn tk() -> u32 { return u(2u); }
fn dd() -> u32 { return u(3u); }
fn dv() -> u32 { return u(4u); }
// the scaled score of query i and key j of batch b (callers have checked that j is visible)
fn score(b: u32, i: u32, j: u32) -> f32 {
  var s = 0.0;
  for (var d = 0u; d < dd(); d++) { s += Q[(b * tq() + i) * dd() + d] * K[(b * tk() + j) * dd() + d]; }
  return s * bitcast<f32>(u(5u));
}
${needsDp ? DPROB(hasDw) : ""}
fn better(v: f32, j: u32, w: f32, l: u32) -> bool { return v > w || (v == w && j < l); }
fn kept(v: f32, j: u32, tv: f32, tj: u32) -> bool {
  return !is_nan(v) && v > neg_inf() && (j == tj || better(v, j, tv, tj));
}
// (P, G) of score s at key j in row (b, i); zero for a fully masked row (l = 0)
fn probs(b: u32, i: u32, j: u32, s: f32) -> vec2<f32> {
  let o = (b * tq() + i) * ${ST_WORDS}u;
  if (!(ST[o + 1u] > 0.0)) { return vec2<f32>(0.0); }
  ${probs}
}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(8u)) { return; }
${body}
}`;
}

/** Pass 1, per query row: the selection's statistics, then Δ = Σ_j G_j dP_j. */
function STATS(kind: Kind): string {
  const select =
    kind === "topk"
      ? `
  // the k kept keys, found by k sweeps in the order (value desc, index asc), as select.ts
  let kk = min(u(9u), T);
  var tv = 0.0;
  var tj = T;
  for (var t = 0u; t < kk; t++) {
    var bv = 0.0;
    var bj = T;
    for (var j = lo; j < hi; j++) {
      if (!visible(mb, q, j, T)) { continue; }
      let s = score(b, q, j);
      if (is_nan(s) || !(s > neg_inf())) { continue; }
      if (tj != T && !better(tv, tj, s, j)) { continue; }
      if (bj == T || better(s, j, bv, bj)) { bv = s; bj = j; }
    }
    if (bj == T) { break; }
    if (t == 0u) { m = bv; }
    tv = bv;
    tj = bj;
  }
  if (tj != T) {
    for (var j = lo; j < hi; j++) {
      if (!visible(mb, q, j, T)) { continue; }
      let s = score(b, q, j);
      if (kept(s, j, tv, tj)) { l += exp(s - m); }
    }
  }
  ST[o + 3u] = tv;
  ST[o + 4u] = bitcast<f32>(tj);`
      : `
  var arg = T;
  for (var j = lo; j < hi; j++) {
    if (!visible(mb, q, j, T)) { continue; }
    let s = score(b, q, j);
    if (!is_nan(s) && s > m) { m = s; arg = j; }
  }
  if (m > neg_inf()) {
    for (var j = lo; j < hi; j++) {
      if (visible(mb, q, j, T)) { l += exp(score(b, q, j) - m); }
    }
  }
  ST[o + 4u] = bitcast<f32>(arg);`;
  return `  let T = tk();
  let q = i % tq();
  let b = i / tq();
  let o = i * ${ST_WORDS}u;
  let mb = mask_base(b);
  let lo = key_lo(q, T);
  let hi = key_hi(q, T);
  var m = neg_inf();
  var l = 0.0;
${select}
  ST[o] = m;
  ST[o + 1u] = l;
  var delta = 0.0;
  if (l > 0.0) {
    for (var j = lo; j < hi; j++) {
      if (!visible(mb, q, j, T)) { continue; }
      let g = probs(b, q, j, score(b, q, j)).y;
      if (g != 0.0) { delta += g * dprob(b, q, j); }
    }
  }
  ST[o + 2u] = delta;`;
}

/** Pass 2, per query row: dq_i = scale Σ_j dS_ij k_j. */
const DQ = `  let T = tk();
  let q = i % tq();
  let b = i / tq();
  let mb = mask_base(b);
  let row = i * dd();
  for (var d = 0u; d < dd(); d++) { DQ[row + d] = 0.0; }
  let delta = ST[i * ${ST_WORDS}u + 2u];
  let sc = bitcast<f32>(u(5u));
  for (var j = key_lo(q, T); j < key_hi(q, T); j++) {
    if (!visible(mb, q, j, T)) { continue; }
    let g = probs(b, q, j, score(b, q, j)).y;
    if (g == 0.0) { continue; }
    let ds = g * (dprob(b, q, j) - delta) * sc;
    for (var d = 0u; d < dd(); d++) { DQ[row + d] += ds * K[(b * T + j) * dd() + d]; }
  }`;

/** dP_ij = d_out_i · v_j (+ d_weights_ij). */
function DPROB(hasDw: boolean): string {
  return `fn dprob(b: u32, i: u32, j: u32) -> f32 {
  var s = ${hasDw ? "GW[(b * tq() + i) * tk() + j]" : "0.0"};
  for (var d = 0u; d < dv(); d++) { s += GO[(b * tq() + i) * dv() + d] * V[(b * tk() + j) * dv() + d]; }
  return s;
}`;
}

/** Pass 3, per key: dk_j = scale Σ_i dS_ij q_i over the queries seeing key j. */
const DK = `  let T = tk();
  let j = i % T;
  let b = i / T;
  let mb = mask_base(b);
  for (var d = 0u; d < dd(); d++) { DK[i * dd() + d] = 0.0; }
  let sc = bitcast<f32>(u(5u));
  for (var q = 0u; q < tq(); q++) {
    if (!visible(mb, q, j, T)) { continue; }
    let g = probs(b, q, j, score(b, q, j)).y;
    if (g == 0.0) { continue; }
    let r = b * tq() + q;
    let ds = g * (dprob(b, q, j) - ST[r * ${ST_WORDS}u + 2u]) * sc;
    for (var d = 0u; d < dd(); d++) { DK[i * dd() + d] += ds * Q[r * dd() + d]; }
  }`;

/** Pass 4, per key: dv_j = Σ_i P_ij d_out_i. */
const DV = `  let T = tk();
  let j = i % T;
  let b = i / T;
  let mb = mask_base(b);
  for (var d = 0u; d < dv(); d++) { DV[i * dv() + d] = 0.0; }
  for (var q = 0u; q < tq(); q++) {
    if (!visible(mb, q, j, T)) { continue; }
    let p = probs(b, q, j, score(b, q, j)).x;
    if (p == 0.0) { continue; }
    let r = b * tq() + q;
    for (var d = 0u; d < dv(); d++) { DV[i * dv() + d] += p * GO[r * dv() + d]; }
  }`;

/** attention_grad (see the header): three passes over query rows and keys, no [Tq, Tk] buffer. */
export const attentionGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<AttentionGradAttrs>(ctx, inputs, attrs);
  const [q, k, v, mask, dOut, dW] = inputs as [GpuTensor, GpuTensor, GpuTensor, GpuTensor | null, GpuTensor, GpuTensor | null];
  const kind: Kind = a.select === "softmax" ? "softmax" : a.select === "argmax" ? "argmax" : "topk";
  const words = attentionWords(ctx.op, q, k, v, mask, a);
  words[9] = typeof a.select === "object" ? a.select.topk : 0;
  const [nb, Tq, Tk] = words;
  const dq = ctx.pool.tensor("float32", outputs[0].shape);
  const dk = ctx.pool.tensor("float32", outputs[1].shape);
  const dv = ctx.pool.tensor("float32", outputs[2].shape);
  const rows = nb * Tq;
  const keys = nb * Tk;
  const stats = ctx.pool.tensor("float32", [Math.max(rows, 1) * ST_WORDS]);
  const m = mask ? [mask] : [];
  const run = (pass: Pass, outs: GpuTensor[], n: number) => {
    if (n === 0) return;
    const key = `attention_grad:${pass}:${kind}${dW ? ":dw" : ""}${mask ? ":mask" : ""}`;
    const w = [...words];
    w[8] = n;
    const ins = pass === "dv" ? [q, k, dOut] : [q, k, v, dOut, ...(dW ? [dW] : [])];
    dispatch(ctx, key, () => shader(pass, kind, dW !== null, mask !== null), [...ins, ...outs, ...m], w, groupsFor(n));
  };
  run("stats", [stats], rows);
  run("dq", [stats, dq], rows);
  run("dk", [stats, dk], keys);
  run("dv", [stats, dv], keys);
  ctx.pool.release(stats);
  return [dq, dk, dv];
};
