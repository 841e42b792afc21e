import { Tensor } from "@attn/core";
import { seededArray } from "../data.js";
import { ATTN_DIM, ATTN_HEADS, TRAIN_STEP } from "../graphs.js";

/** q, k, v [1, 8, N, 64] (uniform ±1), identical in every process. */
export function attentionInputs(n: number): { q: Tensor; k: Tensor; v: Tensor } {
  const shape = [1, ATTN_HEADS, n, ATTN_DIM];
  const size = ATTN_HEADS * n * ATTN_DIM;
  return {
    q: new Tensor("float32", shape, seededArray(`attention.q.${n}`, size)),
    k: new Tensor("float32", shape, seededArray(`attention.k.${n}`, size)),
    v: new Tensor("float32", shape, seededArray(`attention.v.${n}`, size)),
  };
}

export function gemmInputs(m: number, k: number, n: number): { a: Tensor; b: Tensor } {
  return {
    a: new Tensor("float32", [m, k], seededArray(`gemm.a.${m}.${k}`, m * k)),
    b: new Tensor("float32", [k, n], seededArray(`gemm.b.${k}.${n}`, k * n)),
  };
}

/** The training-step batch (x and target [16, 64, 128]) and the block's weights by PyTorch name. */
export function trainStepData(): { x: Tensor; target: Tensor; weights: Map<string, Tensor> } {
  const { batch, seq, dModel: d } = TRAIN_STEP;
  const shape = [batch, seq, d];
  const size = batch * seq * d;
  const bound = 1 / Math.sqrt(d);
  const weights = new Map<string, Tensor>([
    ["mha.in_proj_weight", new Tensor("float32", [3 * d, d], seededArray("train.in_proj_weight", 3 * d * d, bound))],
    ["mha.in_proj_bias", new Tensor("float32", [3 * d], seededArray("train.in_proj_bias", 3 * d, bound))],
    ["mha.out_proj.weight", new Tensor("float32", [d, d], seededArray("train.out_proj.weight", d * d, bound))],
    ["mha.out_proj.bias", new Tensor("float32", [d], seededArray("train.out_proj.bias", d, bound))],
  ]);
  return { x: new Tensor("float32", shape, seededArray("train.x", size)), target: new Tensor("float32", shape, seededArray("train.target", size)), weights };
}

