import { Tensor, type AttentionSelect } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";
import { flashFor, flashProblem } from "../flash.js";
import { keyRange, maskLayout } from "../mask.js";
import { hardmaxRow, softmaxRow, topkSoftmaxRow } from "../select-rows.js";

interface AttentionGradAttrs {
  scale: number;
  causal: boolean;
  window: number | null;
  select: AttentionSelect;
}

/**
 * attention_grad: dq, dk, dv of out = P·v with P = select(mask(scale · q kᵀ)), given d_out and, when
 * the weights were an output too, d_weights. Each query's score row is recomputed (Tk doubles of
 * scratch; no [Tq, Tk] matrix), then with dP_j = d_out_i · v_j + d_weights_ij:
 *
 *   dv_j += P_j · d_out_i
 *   dS_j  = G_j · (dP_j − Σ_l G_l dP_l),  G = P (softmax; top-k: the softmax over the kept keys, zero
 *           elsewhere) or, for argmax, softmax(S) (straight-through estimator: forward one-hot, backward
 *           softmax's gradient)
 *   dq_i += scale · Σ_j dS_j k_j,  dk_j += scale · dS_j q_i
 *
 * A query whose keys are all masked has P = G = 0 and contributes nothing. Accumulation is in double.
 *
 * On the `"wasm-simd"` kernel path, softmax attention without d_weights runs the fused WebAssembly
 * backward instead (FlashAttention-2 style: the forward recomputed for O and the log-sum-exp, then key
 * tiles outer, query blocks inner; no [Tq, Tk] buffer; float32), except for per-head problems too small for
 * its tiles (`smallAttention` in ../flash.ts), which stay here.
 */
export const attentionGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<AttentionGradAttrs>(ctx, inputs, attrs);
  const [q, k, v, mask, dOut, dWeights] = inputs as [Tensor, Tensor, Tensor, Tensor | null, Tensor, Tensor | null];
  const flash = a.select === "softmax" && !dWeights ? flashFor(ctx, q.shape[q.rank - 2], k.shape[k.rank - 2]) : null;
  if (flash) {
    const res = flash.backward(flashProblem(q, k, v, mask, a), q.data as Float32Array, k.data as Float32Array, v.data as Float32Array, dOut.data as Float32Array);
    if (res) {
      return [
        new Tensor("float32", outputs[0].shape, res.dq),
        new Tensor("float32", outputs[1].shape, res.dk),
        new Tensor("float32", outputs[2].shape, res.dv),
      ];
    }
  }
  const r = q.rank;
  const Tq = q.shape[r - 2];
  const D = q.shape[r - 1];
  const Tk = k.shape[r - 2];
  const Dv = v.shape[r - 1];
  const nb = q.shape.slice(0, r - 2).reduce((p, d) => p * d, 1);
  const qd = q.data as Float32Array;
  const kd = k.data as Float32Array;
  const vd = v.data as Float32Array;
  const god = dOut.data as Float32Array;
  const gwd = dWeights ? (dWeights.data as Float32Array) : null;
  const dq = new Float64Array(qd.length);
  const dk = new Float64Array(kd.length);
  const dv = new Float64Array(vd.length);
  const ml = maskLayout(mask, [...q.shape.slice(0, r - 1), Tk]);
  const scale = a.scale;
  const argmax = a.select === "argmax";
  const topk = typeof a.select === "object" ? a.select.topk : 0;
  const p = new Float64Array(Tk);
  const soft = argmax ? new Float64Array(Tk) : p;
  const dp = new Float64Array(Tk);
  const idx = new Int32Array(Tk);
  const tmp = new Float64Array(Tk);

  for (let b = 0; b < nb; b++) {
    const qb = b * Tq * D;
    const kb = b * Tk * D;
    const vb = b * Tk * Dv;
    const mb = ml ? ml.batch[b] : 0;
    for (let i = 0; i < Tq; i++) {
      const qo = qb + i * D;
      const go = (b * Tq + i) * Dv;
      const wo = (b * Tq + i) * Tk;
      const mrow = mb + i * (ml?.sq ?? 0);
      const [lo, hi] = keyRange(i, Tk, a.causal, a.window);
      p.fill(-Infinity);
      for (let j = lo; j < hi; j++) {
        if (ml && ml.data[mrow + j * ml.sk] !== 0) continue;
        const ko = kb + j * D;
        let s = 0;
        for (let d = 0; d < D; d++) s += qd[qo + d] * kd[ko + d];
        p[j] = s * scale;
      }
      if (argmax) {
        soft.set(p);
        softmaxRow(soft, Tk);
        hardmaxRow(p, Tk);
      } else if (topk) topkSoftmaxRow(p, Tk, topk, idx, tmp);
      else softmaxRow(p, Tk);

      let dot = 0;
      for (let j = lo; j < hi; j++) {
        const vo = vb + j * Dv;
        const pj = p[j];
        if (pj !== 0) for (let d = 0; d < Dv; d++) dv[vo + d] += pj * god[go + d];
        if (soft[j] === 0) continue;
        let s = gwd ? gwd[wo + j] : 0;
        for (let d = 0; d < Dv; d++) s += god[go + d] * vd[vo + d];
        dp[j] = s;
        dot += soft[j] * s;
      }
      for (let j = lo; j < hi; j++) {
        const gj = soft[j];
        if (gj === 0) continue;
        const ds = gj * (dp[j] - dot) * scale;
        const ko = kb + j * D;
        for (let d = 0; d < D; d++) {
          dq[qo + d] += ds * kd[ko + d];
          dk[ko + d] += ds * qd[qo + d];
        }
      }
    }
  }
  return [
    new Tensor("float32", outputs[0].shape, Float32Array.from(dq)),
    new Tensor("float32", outputs[1].shape, Float32Array.from(dk)),
    new Tensor("float32", outputs[2].shape, Float32Array.from(dv)),
  ];
};
