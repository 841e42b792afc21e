import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

const LN_10000 = Math.log(10000);

/**
 * The sinusoidal table of Vaswani et al. as float32 [S, D]: PE[pos, 2i] = sin(pos·ω_i),
 * PE[pos, 2i+1] = cos(pos·ω_i), ω_i = 10000^(−2i/D) = exp(2i·(−ln 10000 / D)), computed in double and
 * rounded once (the form PyTorch tutorials use, so an odd D works too).
 */
export function sinusoidalTable(S: number, D: number): Float32Array {
  const pe = new Float32Array(S * D);
  const freq = new Float64Array(Math.ceil(D / 2));
  for (let i = 0; i < freq.length; i++) freq[i] = Math.exp(2 * i * (-LN_10000 / D));
  for (let pos = 0; pos < S; pos++) {
    for (let j = 0; j < D; j++) {
      const angle = pos * freq[j >> 1];
      pe[pos * D + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return pe;
}

/** x [B, S, D] + PE[S, D] (float32 addition of the rounded table, as x + pe in PyTorch). */
export const positionalEncodingKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const x = inputs[0]!;
  const xd = x.data as Float32Array;
  const [B, S, D] = x.shape;
  const pe = sinusoidalTable(S, D);
  const out = new Float32Array(xd.length);
  const block = S * D;
  for (let b = 0; b < B; b++) for (let i = 0; i < block; i++) out[b * block + i] = xd[b * block + i] + pe[i];
  return [new Tensor("float32", outputs[0].shape, out)];
};
