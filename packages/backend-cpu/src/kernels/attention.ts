import { Tensor, type AttentionSelect } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";
import { flashFor, flashProblem } from "./flash.js";
import { keyRange, maskLayout } from "./mask.js";
import { hardmaxRow, softmaxRow, topkSoftmaxRow } from "./select-rows.js";

interface AttentionAttrs {
  scale: number;
  causal: boolean;
  window: number | null;
  select: AttentionSelect;
  weights: boolean;
}

/**
 * Fused attention: out = select(mask(scale · q kᵀ)) · v for q [B, ..., Tq, D], k [B, ..., Tk, D],
 * v [B, ..., Tk, Dv], with an optional bool mask (true = masked out), `causal` and `window`.
 *
 * - `select: "softmax"` without weights runs an online softmax over the keys (running max and sum,
 *   rescaling the output accumulator when the max grows): O(Tk) work and O(Dv) memory per query, no
 *   [Tq, Tk] buffer. Causal and windowed attention only visit the visible keys.
 * - `"argmax"`, `{ topk }` or `weights: true` build one score row of Tk entries at a time (the weights
 *   output itself when requested).
 *
 * A query whose keys are all masked gets zero weights and a zero output. Scores, sums and the output
 * accumulate in double and round once on store.
 *
 * On the `"wasm-simd"` kernel path, softmax attention (weights or not) runs the fused WebAssembly kernel
 * instead (flash/wasm.ts, assembly/attention.ts: key tiles with an online softmax, float32); argmax and
 * top-k stay here, as does a call whose wasm memory would be too large, and one whose per-head problem is
 * too small for the fused kernel's tiles (a decoder step: `smallAttention` in flash.ts).
 */
export const attentionKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<AttentionAttrs>(ctx, inputs, attrs);
  const [q, k, v, mask] = inputs as [Tensor, Tensor, Tensor, Tensor | null];
  const flash = a.select === "softmax" ? flashFor(ctx, q.shape[q.rank - 2], k.shape[k.rank - 2]) : null;
  if (flash) {
    const res = flash.forward(flashProblem(q, k, v, mask, a), q.data as Float32Array, k.data as Float32Array, v.data as Float32Array, a.weights);
    if (res) {
      const result = [new Tensor("float32", outputs[0].shape, res.out)];
      if (res.weights) result.push(new Tensor("float32", outputs[1].shape, res.weights));
      return result;
    }
  }
  const r = q.rank;
  const Tq = q.shape[r - 2];
  const D = q.shape[r - 1];
  const Tk = k.shape[r - 2];
  const Dv = v.shape[r - 1];
  const nb = outputs[0].shape.slice(0, r - 2).reduce((p, d) => p * d, 1);
  const qd = q.data as Float32Array;
  const kd = k.data as Float32Array;
  const vd = v.data as Float32Array;
  const out = new Float32Array(nb * Tq * Dv);
  const weights = a.weights ? new Float32Array(nb * Tq * Tk) : null;
  const ml = maskLayout(mask, [...q.shape.slice(0, r - 1), Tk]);
  const md = ml?.data;
  const sq = ml?.sq ?? 0;
  const sk = ml?.sk ?? 0;
  const scale = a.scale;
  const acc = new Float64Array(Dv);
  const online = a.select === "softmax" && !weights;
  const row = online ? null : new Float64Array(Tk);
  const idx = online ? null : new Int32Array(Tk);
  const tmp = online ? null : new Float64Array(Tk);
  const topk = typeof a.select === "object" ? a.select.topk : 0;

  for (let b = 0; b < nb; b++) {
    const qb = b * Tq * D;
    const kb = b * Tk * D;
    const vb = b * Tk * Dv;
    const mb = ml ? ml.batch[b] : 0;
    for (let i = 0; i < Tq; i++) {
      const qo = qb + i * D;
      const mrow = mb + i * sq;
      const oo = (b * Tq + i) * Dv;
      const [lo, hi] = keyRange(i, Tk, a.causal, a.window);
      acc.fill(0);
      if (online) {
        let m = -Infinity;
        let l = 0;
        for (let j = lo; j < hi; j++) {
          if (md && md[mrow + j * sk] !== 0) continue;
          const ko = kb + j * D;
          let s = 0;
          for (let d = 0; d < D; d++) s += qd[qo + d] * kd[ko + d];
          s *= scale;
          if (s === -Infinity) continue;
          if (s > m) {
            if (l !== 0) {
              const c = Math.exp(m - s);
              l *= c;
              for (let d = 0; d < Dv; d++) acc[d] *= c;
            }
            m = s;
          }
          const p = Math.exp(s - m);
          l += p;
          const vo = vb + j * Dv;
          for (let d = 0; d < Dv; d++) acc[d] += p * vd[vo + d];
        }
        if (l !== 0) for (let d = 0; d < Dv; d++) out[oo + d] = acc[d] / l;
        continue;
      }
      const s = row!;
      s.fill(-Infinity);
      for (let j = lo; j < hi; j++) {
        if (md && md[mrow + j * sk] !== 0) continue;
        const ko = kb + j * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += qd[qo + d] * kd[ko + d];
        s[j] = dot * scale;
      }
      if (a.select === "softmax") softmaxRow(s, Tk);
      else if (a.select === "argmax") hardmaxRow(s, Tk);
      else topkSoftmaxRow(s, Tk, topk, idx!, tmp!);
      if (weights) {
        const wo = (b * Tq + i) * Tk;
        for (let j = 0; j < Tk; j++) weights[wo + j] = s[j];
      }
      for (let j = 0; j < Tk; j++) {
        const p = s[j];
        if (p === 0) continue;
        const vo = vb + j * Dv;
        for (let d = 0; d < Dv; d++) acc[d] += p * vd[vo + d];
      }
      for (let d = 0; d < Dv; d++) out[oo + d] = acc[d];
    }
  }
  const result = [new Tensor("float32", outputs[0].shape, out)];
  if (weights) result.push(new Tensor("float32", outputs[1].shape, weights));
  return result;
};
