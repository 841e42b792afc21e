import type { Tensor } from "@attn/core";
import { wasmFlash, type FlashProblem } from "../flash/wasm.js";
import type { FlashKernel } from "../gemm/types.js";
import type { InputType, KernelContext } from "../kernel.js";
import { maskLayout } from "./mask.js";

/** The attributes of attention / attention_grad the fused kernel reads. */
export interface FlashAttrs {
  scale: number;
  causal: boolean;
  window: number | null;
}

/** The fused kernel's query block and key tile (assembly/attention.ts: BQ, BC). */
const TILE = 64;

/**
 * How much of its padded 64 × 64 tiles a per-head problem must fill for the fused kernel to run it:
 * it computes whole tiles (a query block of 64 × a key tile of 64) whatever Tq and Tk are, while the
 * portable kernel (double, one dot product per score) costs about 20–40 times more per score than the
 * kernel per tile entry. Measured on a 2-core x86-64 under Node 20 over Tq 1…64, Tk 8…128, D 16, 64 and
 * 512, forward and backward: the portable kernel wins where the problem fills under 1/32 of its tiles
 * (Tq = 1 at any Tk; Tq = 4 up to Tk ≈ 16…32), the two are within ~2× of each other around it, and the
 * fused kernel wins from there on (16–50× at Tq, Tk ≥ 32).
 */
export const SMALL_ATTENTION_FILL = 1 / 32;

/**
 * Whether a per-head attention problem of Tq queries and Tk keys is too small for the fused kernel's tiles
 * (see SMALL_ATTENTION_FILL): Tq·Tk ≤ ⌈Tq⌉₆₄·⌈Tk⌉₆₄ / 32. One-query problems (a decoder step) always are.
 */
export function smallAttention(Tq: number, Tk: number): boolean {
  const padded = Math.ceil(Tq / TILE) * TILE * Math.ceil(Tk / TILE) * TILE;
  return Tq * Tk <= padded * SMALL_ATTENTION_FILL;
}

/**
 * The wasm flash-attention kernel for this context and a per-head problem of Tq queries and Tk keys, or
 * null where the portable kernel runs it: on the `"js"` path, and for a problem too small for the fused
 * kernel's tiles (`smallAttention`) unless the context asks for the fused kernel regardless
 * (`fuseSmallAttention`). (softmax selection only: argmax and top-k stay on the JavaScript kernels.)
 */
export function flashFor(ctx: KernelContext, Tq: number, Tk: number): FlashKernel | null {
  if (ctx.gemm.path === "js") return null;
  if (ctx.fuseSmallAttention !== true && smallAttention(Tq, Tk)) return null;
  return ctx.gemm.flash ?? wasmFlash();
}

/**
 * The per-head problem of q [B, ..., Tq, D], k [B, ..., Tk, D], v [B, ..., Tk, Dv] with an optional bool
 * mask: a key-padding mask (or any mask constant along the query axis) becomes one byte per key and head,
 * any other mask one byte per query and key (read through core's broadcasting rules, as the JS kernel).
 */
export function flashProblem(q: InputType, k: InputType, v: InputType, mask: Tensor | null, a: FlashAttrs): FlashProblem {
  const r = q.shape.length;
  const Tq = q.shape[r - 2];
  const D = q.shape[r - 1];
  const Tk = k.shape[r - 2];
  const Dv = v.shape[r - 1];
  const heads = q.shape.slice(0, r - 2).reduce((p, d) => p * d, 1);
  const ml = maskLayout(mask, [...q.shape.slice(0, r - 1), Tk]);
  const base = { heads, Tq, Tk, D, Dv, scale: a.scale, causal: a.causal, window: a.window };
  if (!ml || Tk === 0) return { ...base, maskBytes: 0 };
  const { data, batch, sq, sk } = ml;
  if (sq === 0 || Tq === 1) {
    return {
      ...base,
      maskBytes: Tk,
      fillMask: (h, dst) => {
        const mb = batch[h];
        for (let j = 0; j < Tk; j++) dst[j] = data[mb + j * sk] !== 0 ? 1 : 0;
      },
    };
  }
  return {
    ...base,
    maskBytes: Tq * Tk,
    fillMask: (h, dst) => {
      const mb = batch[h];
      for (let i = 0; i < Tq; i++) {
        const mi = mb + i * sq;
        const o = i * Tk;
        for (let j = 0; j < Tk; j++) dst[o + j] = data[mi + j * sk] !== 0 ? 1 : 0;
      }
    },
  };
}
