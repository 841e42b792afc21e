import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";
import { affineRows } from "../linear.js";
import { weightsOf, type GruWeights } from "../gru.js";
import { wasmGruGatesFor } from "../../elementwise/gru-gates.js";
import { backProject, columnSums, gruBackwardGemm, project, stepGatesBackward, weightGrad } from "../gru-gemm.js";
import { sigmoid } from "../unary.js";

/** Gradient accumulators of one direction's weights and biases (double). */
interface GruGrads {
  readonly wih: Float64Array;
  readonly whh: Float64Array;
  readonly bih: Float64Array;
  readonly bhh: Float64Array;
}

function gradsOf(H: number, I: number): GruGrads {
  return { wih: new Float64Array(3 * H * I), whh: new Float64Array(3 * H * H), bih: new Float64Array(3 * H), bhh: new Float64Array(3 * H) };
}

/** Scratch for one step: the gates' pre-activations and their gradients (each [3H]). */
interface StepScratch {
  readonly gi: Float64Array;
  readonly gh: Float64Array;
  readonly dgi: Float64Array;
  readonly dgh: Float64Array;
}

const scratch = (H: number): StepScratch => ({ gi: new Float64Array(3 * H), gh: new Float64Array(3 * H), dgi: new Float64Array(3 * H), dgh: new Float64Array(3 * H) });

/**
 * Back-propagates one GRU step for one batch row. The gates are recomputed from x and the incoming
 * state h exactly as the forward kernel does (r = σ(gi_r + gh_r), z = σ(gi_z + gh_z),
 * n = tanh(gi_n + r ⊙ gh_n), h' = (1 − z) ⊙ n + z ⊙ h); then, from dh' (`dh`, [H]):
 *
 *   dn = dh'(1 − z), dz = dh'(h − n), da_n = dn(1 − n²), dr = da_n ⊙ gh_n,
 *   dgi = [dr·r(1 − r), dz·z(1 − z), da_n], dgh = [same r, same z, da_n ⊙ r],
 *   dW_ih += dgi xᵀ, dW_hh += dgh hᵀ, db = dgi / dgh, dx += W_ihᵀ dgi, dh_prev = dh' ⊙ z + W_hhᵀ dgh.
 *
 * `dx` accumulates at `dxOff`; `dhPrev` ([H]) is overwritten and may not alias `dh`.
 */
function gruStepBackward(
  x: Float32Array, xOff: number, I: number, h: Float32Array, hOff: number, H: number, w: GruWeights, s: StepScratch,
  dh: Float64Array, dx: Float64Array, dxOff: number, dhPrev: Float64Array, grads: GruGrads,
): void {
  const { gi, gh, dgi, dgh } = s;
  affineRows(x, xOff, 1, I, w.wih, w.bih, 3 * H, gi, 0);
  affineRows(h, hOff, 1, H, w.whh, w.bhh, 3 * H, gh, 0);
  for (let j = 0; j < H; j++) {
    const r = sigmoid(gi[j] + gh[j]);
    const z = sigmoid(gi[H + j] + gh[H + j]);
    const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
    const d = dh[j];
    const dan = d * (1 - z) * (1 - n * n);
    const dar = dan * gh[2 * H + j] * r * (1 - r);
    const daz = d * (h[hOff + j] - n) * z * (1 - z);
    dgi[j] = dar;
    dgh[j] = dar;
    dgi[H + j] = daz;
    dgh[H + j] = daz;
    dgi[2 * H + j] = dan;
    dgh[2 * H + j] = dan * r;
    dhPrev[j] = d * z;
  }
  for (let g = 0; g < 3 * H; g++) {
    const a = dgi[g];
    const c = dgh[g];
    grads.bih[g] += a;
    grads.bhh[g] += c;
    const wi = g * I;
    for (let i = 0; i < I; i++) {
      grads.wih[wi + i] += a * x[xOff + i];
      dx[dxOff + i] += a * w.wih[wi + i];
    }
    const wh = g * H;
    for (let j = 0; j < H; j++) {
      grads.whh[wh + j] += c * h[hOff + j];
      dhPrev[j] += c * w.whh[wh + j];
    }
  }
}

const f32 = (shape: number[], data: Float64Array) => new Tensor("float32", shape, Float32Array.from(data));

/**
 * gru_grad: backpropagation through time. y holds every step's output state, so step t's incoming state
 * is y at the previous step of its direction (or h0), and the gates are recomputed per step instead of
 * being saved. Each direction walks its steps in reverse order with dh = dh_n + Σ dy at each step;
 * what is left after its first step is dh0.
 */
export const gruGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ hidden: number; bidirectional: boolean }>(ctx, inputs, attrs);
  const x = inputs[0]!;
  const xd = x.data as Float32Array;
  const [B, S, I] = x.shape;
  const H = a.hidden;
  const dirs = a.bidirectional ? 2 : 1;
  const h0 = inputs[9] ? (inputs[9].data as Float32Array) : new Float32Array(dirs * B * H);
  const yd = inputs[10]!.data as Float32Array;
  const dyd = inputs[11] ? (inputs[11].data as Float32Array) : null;
  const dhn = inputs[12] ? (inputs[12].data as Float32Array) : null;
  const dx = new Float64Array(xd.length);
  const dh0 = new Float64Array(dirs * B * H);
  const dh = new Float64Array(H);
  const dhPrev = new Float64Array(H);
  const s = scratch(H);
  const result: Tensor[] = [];
  const perDir: Tensor[] = [];
  for (let d = 0; d < dirs; d++) {
    const w = weightsOf(inputs.slice(1 + 4 * d, 5 + 4 * d));
    const o = 1 + 4 * d;
    if (ctx.gemm.path !== "js") {
      const dhd = new Float64Array(B * H);
      if (dhn) for (let i = 0; i < B * H; i++) dhd[i] = dhn[d * B * H + i];
      const g = gruBackwardGemm(ctx.gemm, xd, B, S, I, H, w, d, dirs, h0, d * B * H, yd, dyd, dhd, dx, wasmGruGatesFor(ctx));
      dh0.set(dhd, d * B * H);
      const t32 = (i: number, v: Float32Array) => new Tensor("float32", outputs[o + i].shape, v);
      perDir.push(t32(0, g.wih), t32(1, g.whh), t32(2, g.bih), t32(3, g.bhh));
      continue;
    }
    const grads = gradsOf(H, I);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) dh[j] = dhn ? dhn[(d * B + b) * H + j] : 0;
      // Forward order of this direction is t = 0 … S−1 (reverse direction: S−1 … 0); walk it backwards.
      for (let k = S - 1; k >= 0; k--) {
        const t = d === 1 ? S - 1 - k : k;
        const yo = ((b * S + t) * dirs + d) * H;
        if (dyd) for (let j = 0; j < H; j++) dh[j] += dyd[yo + j];
        const tPrev = d === 1 ? t + 1 : t - 1;
        const [hArr, hOff] = k === 0 ? [h0, (d * B + b) * H] : [yd, ((b * S + tPrev) * dirs + d) * H];
        gruStepBackward(xd, (b * S + t) * I, I, hArr, hOff, H, w, s, dh, dx, (b * S + t) * I, dhPrev, grads);
        dh.set(dhPrev);
      }
      dh0.set(dh, (d * B + b) * H);
    }
    perDir.push(f32(outputs[o].shape, grads.wih), f32(outputs[o + 1].shape, grads.whh), f32(outputs[o + 2].shape, grads.bih), f32(outputs[o + 3].shape, grads.bhh));
  }
  result.push(f32(outputs[0].shape, dx), ...perDir, f32(outputs[1 + 4 * dirs].shape, dh0));
  return result;
};

/** gru_cell_grad: one step of the above for every batch row: dx, dh, dweight_ih, dweight_hh, dbias_ih, dbias_hh. */
export const gruCellGradKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const [x, h] = inputs as [Tensor, Tensor];
  const dhNew = inputs[6]!.data as Float32Array;
  const [B, H] = h.shape;
  const I = x.shape[1];
  const w = weightsOf(inputs.slice(2, 6));
  if (ctx.gemm.path !== "js") {
    // Gates for the whole batch, then five GEMMs: the two projections, dx, dh, and the weight gradients.
    const xd = x.data as Float32Array;
    const hd = h.data as Float32Array;
    const H3 = 3 * H;
    const gi = project(ctx.gemm, xd, 0, B, I, w.wih, w.bih, H3);
    const gh = project(ctx.gemm, hd, 0, B, H, w.whh, w.bhh, H3);
    const dh = Float64Array.from(dhNew);
    const dgi = new Float32Array(B * H3);
    const dgh = new Float32Array(B * H3);
    stepGatesBackward(wasmGruGatesFor(ctx), B, H, gi, gh, hd, dh, dgi, dgh);
    const back = backProject(ctx.gemm, dgh, 0, B, H3, w.whh, H);
    const dhOut = new Float32Array(B * H);
    for (let i = 0; i < B * H; i++) dhOut[i] = dh[i] + back[i];
    const res = [backProject(ctx.gemm, dgi, 0, B, H3, w.wih, I), dhOut, weightGrad(ctx.gemm, dgi, H3, xd, I, B), weightGrad(ctx.gemm, dgh, H3, hd, H, B), columnSums(dgi, B, H3), columnSums(dgh, B, H3)];
    return res.map((v, i) => new Tensor("float32", outputs[i].shape, v));
  }
  const grads = gradsOf(H, I);
  const dx = new Float64Array(B * I);
  const dhOut = new Float64Array(B * H);
  const dh = new Float64Array(H);
  const dhPrev = new Float64Array(H);
  const s = scratch(H);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) dh[j] = dhNew[b * H + j];
    gruStepBackward(x.data as Float32Array, b * I, I, h.data as Float32Array, b * H, H, w, s, dh, dx, b * I, dhPrev, grads);
    dhOut.set(dhPrev, b * H);
  }
  return [dx, dhOut, grads.wih, grads.whh, grads.bih, grads.bhh].map((t, i) => f32(outputs[i].shape, t));
};
