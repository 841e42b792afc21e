import { Tensor, type AttentionSelect } from "@attn/core";
import type { FlashLayout, FlashOperand } from "../flash/layout.js";
import { inferOutputs, type InputType, type Kernel } from "../kernel.js";
import { swapAxes, swapShape } from "../util/axis-swap.js";
import { attentionKernel } from "./attention.js";
import { flashFor, flashProblem, type FlashAttrs } from "./flash.js";
import { attentionGradKernel } from "./grad/attention-grad.js";

/**
 * Which operands of an attention / attention_grad node are stored with their heads interleaved: the
 * [..., T, H, D] array a multi-head projection produces, which the graph transposes to [..., H, T, D] for
 * the op (inputs), or transposes the op's result back into (outputs). The plan folds those transposes into
 * the kernels below (plan/fold-transposes.ts).
 */
export type Interleaved = Readonly<Partial<Record<FlashOperand, boolean>>>;

interface AttentionAttrs extends FlashAttrs {
  select: AttentionSelect;
  weights: boolean;
}

/** How `t` reads as an operand of the op: its type with axes −3 and −2 swapped when stored interleaved. */
function asOperand(t: Tensor, interleaved: boolean | undefined): InputType {
  return interleaved ? { dtype: t.dtype, shape: swapShape(t.shape, "heads") } : t;
}

/** The operand as the op sees it, materialised (the transpose the fold skipped), for the portable kernels. */
function materialise(t: Tensor, interleaved: boolean | undefined): Tensor {
  return interleaved ? swapAxes(t, "heads") : t;
}

/** A result `data` of logical shape `shape`, stored interleaved when `interleaved`. */
function result(shape: readonly number[], data: Float32Array, interleaved: boolean | undefined): Tensor {
  return new Tensor("float32", interleaved ? swapShape(shape, "heads") : shape, data);
}

/** The flash layout of a call on logical q [..., H, Tq, D]: groups of H heads. */
function layoutOf(q: InputType, interleaved: Interleaved): FlashLayout {
  const r = q.shape.length;
  return { perGroup: r >= 3 ? Math.max(1, q.shape[r - 3]) : 1, interleaved };
}

/**
 * `attention` reading q, k, v and writing its output interleaved where `interleaved` says. The fused
 * WebAssembly kernel reads and writes those heads in place (row strides), with the same results, bit for
 * bit, as on the transposed copies; wherever it does not run (the `"js"` path, argmax or top-k, weights
 * requested, a call too large for wasm memory) the transposes are materialised around the ordinary kernel.
 */
export function interleavedAttentionKernel(interleaved: Interleaved): Kernel {
  const il = interleaved;
  return (inputs, attrs, ctx) => {
    const [q, k, v, mask] = inputs as [Tensor, Tensor, Tensor, Tensor | null];
    const lq = asOperand(q, il.q);
    const lk = asOperand(k, il.k);
    const lv = asOperand(v, il.v);
    const { attrs: a, outputs } = inferOutputs<AttentionAttrs>(ctx, [lq, lk, lv, mask], attrs);
    const flash = a.select === "softmax" && !a.weights ? flashFor(ctx, lq.shape[lq.shape.length - 2], lk.shape[lk.shape.length - 2]) : null;
    if (flash) {
      const p = { ...flashProblem(lq, lk, lv, mask, a), layout: layoutOf(lq, il) };
      const res = flash.forward(p, q.data as Float32Array, k.data as Float32Array, v.data as Float32Array, false);
      if (res) return [result(outputs[0].shape, res.out, il.out)];
    }
    const outs = attentionKernel([materialise(q, il.q), materialise(k, il.k), materialise(v, il.v), mask], attrs, ctx);
    return [materialise(outs[0], il.out), ...outs.slice(1)];
  };
}

/**
 * `attention_grad` reading q, k, v, d_out and writing dq, dk, dv interleaved where `interleaved` says; as
 * `interleavedAttentionKernel`, in place on the fused kernel and materialised around the portable one.
 */
export function interleavedAttentionGradKernel(interleaved: Interleaved): Kernel {
  const il = interleaved;
  return (inputs, attrs, ctx) => {
    const [q, k, v, mask, dOut, dWeights] = inputs as [Tensor, Tensor, Tensor, Tensor | null, Tensor, Tensor | null];
    const lq = asOperand(q, il.q);
    const lk = asOperand(k, il.k);
    const lv = asOperand(v, il.v);
    const { attrs: a, outputs } = inferOutputs<AttentionAttrs>(ctx, [lq, lk, lv, mask, asOperand(dOut, il.dOut), dWeights], attrs);
    const flash = a.select === "softmax" && !dWeights ? flashFor(ctx, lq.shape[lq.shape.length - 2], lk.shape[lk.shape.length - 2]) : null;
    if (flash) {
      const p = { ...flashProblem(lq, lk, lv, mask, a), layout: layoutOf(lq, il) };
      const res = flash.backward(p, q.data as Float32Array, k.data as Float32Array, v.data as Float32Array, dOut.data as Float32Array);
      if (res) return [result(outputs[0].shape, res.dq, il.dq), result(outputs[1].shape, res.dk, il.dk), result(outputs[2].shape, res.dv, il.dv)];
    }
    const [dq, dk, dv] = attentionGradKernel(
      [materialise(q, il.q), materialise(k, il.k), materialise(v, il.v), mask, materialise(dOut, il.dOut), dWeights],
      attrs,
      ctx,
    );
    return [materialise(dq, il.dq), materialise(dk, il.dk), materialise(dv, il.dv)];
  };
}
