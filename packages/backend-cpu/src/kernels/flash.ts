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

/**
 * The wasm flash-attention kernel for this context, or null when the context runs the portable path.
 * (softmax selection only: argmax and top-k stay on the JavaScript kernels.)
 */
export function flashFor(ctx: KernelContext): FlashKernel | null {
  if (ctx.gemm.path === "js") return null;
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
