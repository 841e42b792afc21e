/**
 * attention_mask: a copy of scores [B, ..., Tq, Tk] with masked entries (mask true, causal, outside the
 * window) set to −inf. Elementwise, one thread per score; the mask layout and key ranges come from the
 * shared helpers in `mask.ts`, so one pipeline per (mask / no mask) serves every shape.
 */
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { maskWords, wgslMask } from "./mask.js";

const BASE = 4;

function shader(hasMask: boolean): string {
  return `${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${wgslMask(BASE, hasMask ? 3 : null)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  let tq = u(1u); let tk = u(2u);
  let j = i % tk;
  let q = (i / tk) % tq;
  let b = i / (tk * tq);
  Y[i] = select(neg_inf(), X[i], visible(mask_base(b), q, j, tk));
}`;
}

/** attention_mask: scores with masked entries set to −inf (mask true, causal, outside the window). */
export const attentionMaskKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ causal: boolean; window: number | null }>(ctx, inputs, attrs);
  const [scores, mask] = [inputs[0]!, inputs[1] ?? null];
  const shape = outputs[0].shape;
  const r = shape.length;
  const y = ctx.pool.tensor("float32", shape);
  if (y.size > 0) {
    const words = [y.size, shape[r - 2], shape[r - 1], 0, ...maskWords(ctx.op, mask, shape, a.causal, a.window)];
    const tensors = mask ? [scores, y, mask] : [scores, y];
    dispatch(ctx, `attention_mask${mask ? ":mask" : ""}`, () => shader(mask !== null), tensors, words, groupsFor(y.size));
  }
  return [y];
};
