import { attr, type AttrSchema } from "./attrs.js";
import { defineOp, type InferContext, type OpDef } from "./op.js";
import { dimMul, type Dim } from "../dim.js";
import type { TensorType } from "../types.js";
import { formatType } from "../types.js";
import { inferGraph } from "../ir/infer.js";
import type { Graph } from "../ir/graph.js";
import { attrDim } from "./layout.js";

/** Checks one direction's GRU weights (PyTorch layout, gates stacked r, z, n) against x's features. */
function checkGruWeights(ctx: InferContext, H: Dim, I: Dim, ws: readonly (TensorType | null)[], suffix: string): void {
  const [wih, whh, bih, bhh] = ws;
  const threeH = dimMul(3, H);
  if (!wih || !whh) ctx.fail(`weight_ih${suffix} and weight_hh${suffix} are required`);
  ctx.rank(wih, 2, `weight_ih${suffix}`);
  ctx.rank(whh, 2, `weight_hh${suffix}`);
  ctx.unify(threeH, wih.shape[0], `weight_ih${suffix} ${formatType(wih)} rows (3·hidden)`);
  ctx.unify(I, wih.shape[1], `weight_ih${suffix} ${formatType(wih)} columns (input features)`);
  ctx.unify(threeH, whh.shape[0], `weight_hh${suffix} ${formatType(whh)} rows (3·hidden)`);
  ctx.unify(H, whh.shape[1], `weight_hh${suffix} ${formatType(whh)} columns (hidden)`);
  for (const [b, n] of [[bih, "bias_ih"], [bhh, "bias_hh"]] as const) {
    if (!b) continue;
    ctx.rank(b, 1, n + suffix);
    ctx.unify(threeH, b.shape[0], `${n}${suffix} length (3·hidden)`);
  }
}

export const gruOp = defineOp({
  name: "gru",
  summary: "GRU over a batch-first sequence with PyTorch gates; y [B, S, dirs·H], h_n [dirs, B, H]",
  inputs: [
    { name: "x" },
    { name: "weight_ih" }, { name: "weight_hh" }, { name: "bias_ih", optional: true }, { name: "bias_hh", optional: true },
    { name: "weight_ih_reverse", optional: true }, { name: "weight_hh_reverse", optional: true },
    { name: "bias_ih_reverse", optional: true }, { name: "bias_hh_reverse", optional: true },
    { name: "h0", optional: true },
  ],
  attrs: { hidden: attr.int("hidden size H"), bidirectional: attr.bool("run a reverse direction too", false) },
  numOutputs: () => 2,
  infer: (ctx, inputs, { hidden, bidirectional }) => {
    const x = inputs[0]!;
    ctx.rank(x, 3, "x (batch-first [B, S, I])");
    const [B, S, I] = x.shape;
    checkGruWeights(ctx, hidden, I, inputs.slice(1, 5), "_l0");
    const dirs = bidirectional ? 2 : 1;
    if (bidirectional) checkGruWeights(ctx, hidden, I, inputs.slice(5, 9), "_l0_reverse");
    else if (inputs.slice(5, 9).some((t) => t)) ctx.fail("reverse-direction weights given to a unidirectional GRU");
    const h0 = inputs[9];
    if (h0) {
      ctx.rank(h0, 3, "h0");
      ctx.unify(dirs, h0.shape[0], "h0 directions");
      ctx.unify(B, h0.shape[1], "h0 batch");
      ctx.unify(hidden, h0.shape[2], "h0 hidden");
    }
    return [
      { dtype: "float32", shape: [ctx.env.resolve(B), ctx.env.resolve(S), dirs * hidden] },
      { dtype: "float32", shape: [dirs, ctx.env.resolve(B), hidden] },
    ];
  },
});

export const gruCellOp = defineOp({
  name: "gru_cell",
  summary: "one GRU step (PyTorch GRUCell): h' from x [B, I] and h [B, H]",
  inputs: [{ name: "x" }, { name: "h" }, { name: "weight_ih" }, { name: "weight_hh" }, { name: "bias_ih", optional: true }, { name: "bias_hh", optional: true }],
  attrs: {},
  infer: (ctx, [x, h, ...ws]) => {
    ctx.rank(x!, 2, "x");
    ctx.rank(h!, 2, "h");
    ctx.unify(x!.shape[0], h!.shape[0], `batch of x ${formatType(x!)} and h ${formatType(h!)}`);
    checkGruWeights(ctx, h!.shape[1], x!.shape[1], ws, "");
    return [{ dtype: "float32", shape: h!.shape.map((d) => ctx.env.resolve(d)) }];
  },
});

export const scanOp = defineOp({
  name: "scan",
  summary: "runs a body graph once per step along axis 1 of its sequences, carrying state",
  inputs: [{ name: "operands", variadic: true, optional: true, dtypes: ["float32", "int32", "bool"] }],
  attrs: {
    body: attr.graph("body: inputs = carries, sequence slices, captures; outputs = new carries, per-step outputs"),
    numCarries: attr.int("number of carried states"),
    numSequences: attr.int("number of scanned sequences"),
    length: { ...attr.json<number | string | null>("step count when there is no sequence", null), dims: true },
    reverse: attr.bool("iterate t = T−1 … 0 (per-step outputs still land at index t)", false),
    saveCarries: attr.bool("also return each step's incoming carries, stacked on axis 1 (for the gradient)", false),
  },
  numOutputs: (a) => (a.body as Graph).outputs.length + (a.saveCarries ? a.numCarries : 0),
  infer: (ctx, inputs, { body, numCarries, numSequences, length, saveCarries }) => {
    const g = body as Graph;
    if (numCarries < 0 || numSequences < 0 || numCarries + numSequences > inputs.length) {
      ctx.fail(`numCarries ${numCarries} + numSequences ${numSequences} exceed the ${inputs.length} operands`);
    }
    if (g.inputs.length !== inputs.length) ctx.fail(`body takes ${g.inputs.length} inputs, scan has ${inputs.length} operands`);
    const carries = inputs.slice(0, numCarries) as TensorType[];
    const seqs = inputs.slice(numCarries, numCarries + numSequences) as TensorType[];
    let T: Dim | undefined = length === null ? undefined : attrDim(ctx, length);
    const slices = seqs.map((s, i) => {
      ctx.minRank(s, 2, `sequence ${i}`);
      T = T === undefined ? ctx.env.resolve(s.shape[1]) : ctx.unify(T, s.shape[1], `length (axis 1) of sequence ${i} ${formatType(s)}`);
      return { dtype: s.dtype, shape: s.shape.filter((_, k) => k !== 1) };
    });
    if (T === undefined) return ctx.fail("a scan without sequences needs a length");
    const bodyIn = [...carries, ...slices, ...(inputs.slice(numCarries + numSequences) as TensorType[])];
    const bodyOut = inferGraph(g, ctx.env, bodyIn);
    if (bodyOut.length < numCarries) ctx.fail(`body returns ${bodyOut.length} values, fewer than its ${numCarries} carries`);
    carries.forEach((c, i) => {
      const o = bodyOut[i];
      if (o.dtype !== c.dtype || o.shape.length !== c.shape.length) ctx.fail(`carry ${i} enters as ${formatType(c)} but the body returns ${formatType(o)}`);
      o.shape.forEach((d, k) => ctx.unify(c.shape[k], d, `dim ${k} of carry ${i}`));
    });
    const stepT: Dim = T;
    const stacked = (t: TensorType): TensorType => ({ dtype: t.dtype, shape: t.shape.length === 0 ? [stepT] : [t.shape[0], stepT, ...t.shape.slice(1)] });
    const outs = bodyOut.map((o, i) => (i < numCarries ? { dtype: o.dtype, shape: carries[i].shape.map((d) => ctx.env.resolve(d)) } : stacked(o)));
    return saveCarries ? [...outs, ...carries.map(stacked)] : outs;
  },
});

export const recurrentOps: OpDef<AttrSchema>[] = [gruOp, gruCellOp, scanOp];
