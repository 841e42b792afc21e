import type { ValueId } from "@attn/core";
import type { Args } from "../args.js";
import { concreteDim, type EmitContext } from "../emit-context.js";

/** A layer emitter: reads its arguments, adds nodes, returns its results in catalogue order. */
export type Emitter = (ctx: EmitContext, args: Args) => ValueId[];

const uniform = (bound: number) => ({ kind: "uniform", bound }) as const;

/** embedding(ids, vocab:, dim:) — weight [vocab, dim], N(0, 1) as PyTorch. */
export const embedding: Emitter = (ctx, a) => {
  const w = ctx.param("weight", [a.int("vocab", 1), a.int("dim", 1)], { kind: "normal", std: 1 });
  return [ctx.add1("embedding", [w, a.tensor("ids")])];
};

/** linear(x, out:, bias: true) — weight [out, in], bias [out], both U(±1/√in) as PyTorch. */
export const linear: Emitter = (ctx, a) => {
  const x = a.tensor("x");
  const inF = concreteDim(ctx, x, -1, "the input features");
  const out = a.int("out", 1);
  const bound = 1 / Math.sqrt(inF);
  const w = ctx.param("weight", [out, inF], uniform(bound));
  const b = a.bool("bias") ? ctx.param("bias", [out], uniform(bound)) : null;
  return [ctx.add1("linear", [x, w, b])];
};

/** layernorm(x, eps:) — weight ones, bias zeros over the last dim. */
export const layernorm: Emitter = (ctx, a) => {
  const x = a.tensor("x");
  const d = concreteDim(ctx, x, -1, "the normalised dim");
  const w = ctx.param("weight", [d], { kind: "ones" });
  const b = ctx.param("bias", [d], { kind: "zeros" });
  return [ctx.add1("layer_norm", [x, w, b], { eps: a.float("eps") })];
};

/** conv2d(x, out:, kernel:, stride:, padding:, dilation:, groups:, bias:) — PyTorch layout and init. */
export const conv2d: Emitter = (ctx, a) => {
  const x = a.tensor("x");
  const inC = concreteDim(ctx, x, 1, "the input channels");
  const out = a.int("out", 1);
  const [kh, kw] = a.pair("kernel");
  const groups = a.int("groups", 1);
  const bound = 1 / Math.sqrt((inC / groups) * kh * kw);
  const w = ctx.param("weight", [out, Math.floor(inC / groups), kh, kw], uniform(bound));
  const b = a.bool("bias") ? ctx.param("bias", [out], uniform(bound)) : null;
  return [ctx.add1("conv2d", [x, w, b], { stride: a.pair("stride"), padding: a.pair("padding"), dilation: a.pair("dilation"), groups })];
};

function gruWeights(ctx: EmitContext, hidden: number, inF: number, suffix: string): ValueId[] {
  const init = uniform(1 / Math.sqrt(hidden));
  return [
    ctx.param(`weight_ih${suffix}`, [3 * hidden, inF], init),
    ctx.param(`weight_hh${suffix}`, [3 * hidden, hidden], init),
    ctx.param(`bias_ih${suffix}`, [3 * hidden], init),
    ctx.param(`bias_hh${suffix}`, [3 * hidden], init),
  ];
}

/** gru(x, hidden:, bidirectional:, h0:) → y, h_n — PyTorch nn.GRU (batch_first) names. */
export const gru: Emitter = (ctx, a) => {
  const x = a.tensor("x");
  const hidden = a.int("hidden", 1);
  const bidirectional = a.bool("bidirectional");
  const inF = concreteDim(ctx, x, -1, "the input features");
  const fwd = gruWeights(ctx, hidden, inF, "_l0");
  const rev = bidirectional ? gruWeights(ctx, hidden, inF, "_l0_reverse") : [null, null, null, null];
  return ctx.add("gru", [x, ...fwd, ...rev, a.optionalTensor("h0")], { hidden, bidirectional });
};

/** gru_cell(x, h, hidden:) → h' — PyTorch nn.GRUCell names. */
export const gruCell: Emitter = (ctx, a) => {
  const x = a.tensor("x");
  const weights = gruWeights(ctx, a.int("hidden", 1), concreteDim(ctx, x, -1, "the input features"), "");
  return [ctx.add1("gru_cell", [x, a.tensor("h"), ...weights])];
};
