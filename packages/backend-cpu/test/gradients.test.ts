import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, buildGradientGraph, differentiableOps, optimize, readSafetensors, type Attrs, type Graph } from "@attn/core";
import { decodeTensor, loadCases, modelCaseGraph, readCaseFile } from "@attn/conformance";
import { backend, rand, randTensor } from "./helpers.js";
import { gradCheck, type GradCheckOptions } from "./gradcheck.js";
import { opGraph } from "./op-graph.js";

/**
 * Finite-difference checks of every differentiable op's gradient function (and its backward kernels): the
 * backward graph must match central differences of the forward kernels. Shapes and values come from a
 * seeded generator. Inputs of ops with kinks (relu, abs, max, pooling, top-k) are drawn away from them
 * by more than the step, so the finite difference sees a smooth function.
 */

type Rng = ReturnType<typeof rand>;

interface OpCheck {
  readonly name: string;
  readonly op: string;
  readonly inputs: (r: Rng) => (Tensor | null)[];
  readonly attrs?: Attrs;
  readonly opts?: GradCheckOptions;
}

const u = (r: Rng, shape: number[], lo = -1, hi = 1) => randTensor(shape, r, lo, hi);
/** Values with |v| in [lo, hi] and a random sign (away from a kink at 0). */
const away = (r: Rng, shape: number[], lo = 0.1, hi = 1) => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() < 0 ? -1 : 1) * r(lo, hi)), { shape });
/** Distinct values spaced ≥ 0.05 apart, shuffled: no two within the finite-difference step of each other. */
function spread(r: Rng, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05 + r(0, 0.01));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r(0, i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return Tensor.from(v, { shape });
}
const ints = (r: Rng, shape: number[], n: number) => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(r(0, n))), { shape, dtype: "int32" });
const bools = (shape: number[], data: number[]) => Tensor.from(data, { shape, dtype: "bool" });

const shape = (r: Rng) => [2, 1 + Math.floor(r(1, 3)), 3];

const OP_CHECKS: OpCheck[] = [
  // Elementwise
  ...["tanh", "sigmoid", "exp", "neg", "silu", "erf", "identity", "dropout"].map((op) => ({ name: op, op, inputs: (r: Rng) => [u(r, shape(r))] })),
  { name: "relu", op: "relu", inputs: (r) => [away(r, shape(r))] },
  { name: "abs", op: "abs", inputs: (r) => [away(r, shape(r))] },
  { name: "log", op: "log", inputs: (r) => [u(r, shape(r), 0.5, 2)] },
  { name: "sqrt", op: "sqrt", inputs: (r) => [u(r, shape(r), 0.5, 2)] },
  { name: "gelu exact", op: "gelu", inputs: (r) => [u(r, shape(r), -3, 3)] },
  { name: "gelu tanh", op: "gelu", attrs: { approximate: "tanh" }, inputs: (r) => [u(r, shape(r), -3, 3)] },
  { name: "cast float32 → float32", op: "cast", attrs: { to: "float32" }, inputs: (r) => [u(r, [2, 3])] },
  { name: "positional_encoding", op: "positional_encoding", inputs: (r) => [u(r, [2, 3, 5])] },
  { name: "sign (zero gradient)", op: "sign", inputs: (r) => [away(r, [2, 3])] },
  { name: "zeros_like (zero gradient)", op: "zeros_like", inputs: (r) => [u(r, [2, 3])] },
  { name: "pad", op: "pad", attrs: { axis: 1, before: 2, after: 1 }, inputs: (r) => [u(r, [2, 3, 2])] },
  // Broadcasting arithmetic
  { name: "add broadcast", op: "add", inputs: (r) => [u(r, [2, 3, 4]), u(r, [3, 1])] },
  { name: "sub broadcast", op: "sub", inputs: (r) => [u(r, [2, 1, 4]), u(r, [3, 1])] },
  { name: "mul broadcast", op: "mul", inputs: (r) => [u(r, [2, 3, 4]), u(r, [4])] },
  { name: "mul scalar", op: "mul", inputs: (r) => [u(r, [2, 3]), u(r, [])] },
  { name: "div broadcast", op: "div", inputs: (r) => [u(r, [2, 3, 4]), away(r, [3, 1], 0.5, 1.5)] },
  // The operands of maximum/minimum differ by ≥ 0.1 everywhere (a b of ±0.5·k + 0.05 against a in ±0.04).
  { name: "maximum broadcast", op: "maximum", inputs: (r) => [u(r, [2, 3, 4], -0.04, 0.04), Tensor.from([-0.45, 0.05, 0.55], { shape: [3, 1] })] },
  { name: "minimum broadcast", op: "minimum", inputs: (r) => [Tensor.from([-0.45, 0.05, 0.55, -0.95], { shape: [4] }), u(r, [2, 3, 4], -0.04, 0.04)] },
  // Linear algebra
  { name: "matmul batched", op: "matmul", inputs: (r) => [u(r, [2, 3, 4]), u(r, [4, 2])] },
  { name: "matmul batch broadcast", op: "matmul", inputs: (r) => [u(r, [2, 1, 3, 2]), u(r, [3, 2, 2])] },
  { name: "matmul rank-1 lhs", op: "matmul", inputs: (r) => [u(r, [4]), u(r, [2, 4, 3])] },
  { name: "matmul rank-1 rhs", op: "matmul", inputs: (r) => [u(r, [2, 3, 4]), u(r, [4])] },
  { name: "matmul rank-1 both", op: "matmul", inputs: (r) => [u(r, [5]), u(r, [5])] },
  { name: "linear 3-D with bias", op: "linear", inputs: (r) => [u(r, [2, 3, 4]), u(r, [5, 4]), u(r, [5])] },
  { name: "linear 1-D without bias", op: "linear", inputs: (r) => [u(r, [4]), u(r, [3, 4]), null] },
  // Layout
  { name: "transpose", op: "transpose", attrs: { perm: [2, 0, 1] }, inputs: (r) => [u(r, [2, 3, 4])] },
  { name: "reshape", op: "reshape", attrs: { shape: [3, -1] }, inputs: (r) => [u(r, [2, 3, 2])] },
  { name: "squeeze", op: "squeeze", attrs: { axes: [1, -1] }, inputs: (r) => [u(r, [2, 1, 3, 1])] },
  { name: "unsqueeze", op: "unsqueeze", attrs: { axes: [1, 3] }, inputs: (r) => [u(r, [2, 3])] },
  { name: "concat", op: "concat", attrs: { axis: 1 }, inputs: (r) => [u(r, [2, 1, 3]), u(r, [2, 3, 3]), u(r, [2, 2, 3])] },
  { name: "split", op: "split", attrs: { axis: -1, sizes: [1, 3, 2] }, inputs: (r) => [u(r, [2, 2, 6])] },
  { name: "slice", op: "slice", attrs: { axis: 1, start: 1, end: 4 }, inputs: (r) => [u(r, [2, 5, 2])] },
  { name: "slice negative bounds", op: "slice", attrs: { axis: 0, start: -3, end: -1 }, inputs: (r) => [u(r, [5, 2])] },
  { name: "slice step 2", op: "slice", attrs: { axis: 1, start: 1, end: null, step: 2 }, inputs: (r) => [u(r, [2, 6, 2])] },
  { name: "slice step 3 past the end", op: "slice", attrs: { axis: 1, start: 0, end: 7, step: 3 }, inputs: (r) => [u(r, [2, 7])] },
  { name: "slice negative step", op: "slice", attrs: { axis: 1, start: -1, end: 0, step: -2 }, inputs: (r) => [u(r, [2, 6])] },
  { name: "select", op: "select", attrs: { axis: 1, index: -2 }, inputs: (r) => [u(r, [2, 4, 3])] },
  // Reductions and normalisations
  { name: "reduce_sum", op: "reduce_sum", attrs: { axes: [0, 2], keepdims: false }, inputs: (r) => [u(r, [2, 3, 4])] },
  { name: "reduce_mean", op: "reduce_mean", attrs: { axes: [-1], keepdims: true }, inputs: (r) => [u(r, [2, 3, 4])] },
  { name: "reduce_max", op: "reduce_max", attrs: { axes: [1], keepdims: false }, inputs: (r) => [spread(r, [2, 4, 3])] },
  { name: "softmax", op: "softmax", attrs: { axis: 1 }, inputs: (r) => [u(r, [2, 4, 3], -2, 2)] },
  { name: "log_softmax", op: "log_softmax", attrs: { axis: -1 }, inputs: (r) => [u(r, [2, 3, 4], -2, 2)] },
  { name: "topk_softmax", op: "topk_softmax", attrs: { axis: -1, k: 2 }, inputs: (r) => [spread(r, [3, 5])] },
  { name: "layer_norm affine", op: "layer_norm", inputs: (r) => [u(r, [2, 3, 5]), u(r, [5], 0.5, 1.5), u(r, [5])] },
  { name: "layer_norm plain", op: "layer_norm", attrs: { eps: 1e-3 }, inputs: (r) => [u(r, [3, 4]), null, null] },
  // Attention
  {
    name: "attention_mask padding + causal", op: "attention_mask", attrs: { causal: true },
    inputs: (r) => [u(r, [2, 2, 3, 4]), bools([2, 4], [0, 0, 0, 1, 0, 1, 0, 0])],
  },
  {
    name: "attention softmax, padding mask, weights", op: "attention", attrs: { scale: 0.7, weights: true },
    inputs: (r) => [u(r, [2, 2, 3, 4]), u(r, [2, 2, 4, 4]), u(r, [2, 2, 4, 3]), bools([2, 4], [0, 0, 1, 0, 1, 1, 1, 1])],
  },
  { name: "attention causal window", op: "attention", attrs: { scale: 0.5, causal: true, window: 1 }, inputs: (r) => [u(r, [2, 4, 3]), u(r, [2, 5, 3]), u(r, [2, 5, 2]), null] },
  {
    name: "attention top-2", op: "attention", attrs: { scale: 1, select: { topk: 2 }, weights: true },
    // q·k over one feature: scores q·k_j are 0.3·j-spaced, far from ties.
    inputs: (r) => [u(r, [2, 3, 1], 0.5, 1), Tensor.from([0, 0.3, 0.6, 0.9, 1.2, -0.6, 0.3, -0.3, 0.9, 0], { shape: [2, 5, 1] }), u(r, [2, 5, 2]), null],
  },
  // Recurrent
  { name: "gru_cell", op: "gru_cell", inputs: (r) => [u(r, [2, 3]), u(r, [2, 4]), u(r, [12, 3]), u(r, [12, 4]), u(r, [12]), u(r, [12])] },
  { name: "gru_cell without biases", op: "gru_cell", inputs: (r) => [u(r, [2, 3]), u(r, [2, 2]), u(r, [6, 3]), u(r, [6, 2]), null, null] },
  {
    name: "gru unidirectional with h0", op: "gru", attrs: { hidden: 3 },
    inputs: (r) => [u(r, [2, 3, 2]), u(r, [9, 2]), u(r, [9, 3]), u(r, [9]), u(r, [9]), null, null, null, null, u(r, [1, 2, 3])],
  },
  {
    name: "gru bidirectional without h0", op: "gru", attrs: { hidden: 2, bidirectional: true },
    inputs: (r) => [u(r, [2, 3, 2]), u(r, [6, 2]), u(r, [6, 2]), u(r, [6]), u(r, [6]), u(r, [6, 2]), u(r, [6, 2]), null, null, null],
  },
  // Images and sequences
  { name: "conv2d stride, padding, bias", op: "conv2d", attrs: { stride: [2, 1], padding: [1, 1] }, inputs: (r) => [u(r, [1, 2, 4, 4]), u(r, [3, 2, 3, 2]), u(r, [3])] },
  { name: "conv2d groups, dilation", op: "conv2d", attrs: { groups: 2, dilation: [2, 1] }, inputs: (r) => [u(r, [2, 4, 5, 3]), u(r, [2, 2, 2, 2]), null] },
  { name: "max_pool2d overlapping, padded", op: "max_pool2d", attrs: { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }, inputs: (r) => [spread(r, [1, 2, 5, 5])] },
  { name: "avg_pool2d padded", op: "avg_pool2d", attrs: { kernel: [3, 2], stride: [2, 1], padding: [1, 1] }, inputs: (r) => [u(r, [1, 2, 4, 3])] },
  { name: "patches", op: "patches", attrs: { size: 2 }, inputs: (r) => [u(r, [1, 2, 4, 2])] },
  { name: "embedding repeated indices", op: "embedding", inputs: (r) => [u(r, [5, 3]), Tensor.from([[0, 4, 2], [2, 2, 4]], { dtype: "int32" })] },
  // Losses (their gradient functions live with the training ops; they are checked like any other op)
  { name: "cross_entropy mean", op: "cross_entropy", inputs: (r) => [u(r, [2, 3, 4], -2, 2), ints(r, [2, 3], 4)] },
  { name: "cross_entropy smoothed, ignore_index, none", op: "cross_entropy", attrs: { label_smoothing: 0.1, reduction: "none" }, inputs: (r) => [u(r, [4, 3], -2, 2), Tensor.from([1, -100, 0, 2], { dtype: "int32" })] },
  { name: "mse_loss", op: "mse_loss", inputs: (r) => [u(r, [2, 3]), u(r, [2, 3])] },
  { name: "binary_cross_entropy", op: "binary_cross_entropy", attrs: { reduction: "sum" }, inputs: (r) => [u(r, [2, 3], 0.2, 0.8), u(r, [2, 3], 0, 1)] },
  { name: "binary_cross_entropy_with_logits", op: "binary_cross_entropy_with_logits", inputs: (r) => [u(r, [2, 3], -2, 2), u(r, [2, 3], 0, 1)] },
  // Training-mode dropout's mask does not depend on x (its gradient is zero; dropout trains through the mul)
  { name: "dropout_mask", op: "dropout_mask", attrs: { p: 0.3, salt: 1 }, inputs: (r) => [u(r, [3, 4]), Tensor.from([5], { dtype: "int32", shape: [] })] },
];

/** A seed from a check's name, so adding a check changes no other. */
const seedOf = (name: string) => [...name].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 7);

async function expectGradients(graph: Graph, feeds: Record<string, Tensor>, params?: Map<string, Tensor>, opts?: GradCheckOptions): Promise<void> {
  const res = await gradCheck(graph, feeds, params, opts);
  expect(res.failures, res.failures.join("\n")).toEqual([]);
  expect(res.checked).toBeGreaterThan(0);
}

describe("gradients match finite differences", () => {
  for (const c of OP_CHECKS) {
    it(c.name, async () => {
      const r = rand(seedOf(c.name));
      const { graph, feeds } = opGraph(c.op, c.inputs(r), c.attrs);
      await expectGradients(graph, feeds, undefined, { seed: seedOf(c.name), ...c.opts });
    });
  }

  it("covers every op with a gradient function", () => {
    const checked = new Set([...OP_CHECKS.map((c) => c.op), ...GRAPH_CHECKED]);
    expect(differentiableOps().filter((op) => !checked.has(op))).toEqual([]);
  });
});

/** Ops whose gradients are checked by the graph-level tests below rather than as a single node. */
const GRAPH_CHECKED = ["scan", "hardmax"];

const f32 = { dtype: "float32" } as const;

/** h' = tanh(W x_t + U h), yield (h', 2·h'): a small recurrent body over captures W, U. */
function rnnBody(b: GraphBuilder, I: number, H: number): Graph {
  const s = b.subgraph("rnn_step");
  const h = s.input("h", { ...f32, shape: ["B", H] });
  const x = s.input("x", { ...f32, shape: ["B", I] });
  const w = s.input("W", { ...f32, shape: [H, I] });
  const uu = s.input("U", { ...f32, shape: [H, H] });
  const h2 = s.add1("tanh", [s.add1("add", [s.add1("linear", [x, w]), s.add1("linear", [h, uu])])]);
  s.output("h", h2);
  s.output("y", s.add1("mul", [h2, s.add1("constant", [], { value: { dtype: "float32", shape: [], data: [2] } })]));
  return s.build();
}

describe("scan gradients match finite differences", () => {
  it("a recurrent cell with captured weights (their gradients accumulate over steps)", async () => {
    const r = rand(11);
    const b = new GraphBuilder("rnn");
    const h0 = b.input("h0", { ...f32, shape: ["B", 3] });
    const x = b.input("x", { ...f32, shape: ["B", "T", 2] });
    const w = b.input("W", { ...f32, shape: [3, 2] });
    const uu = b.input("U", { ...f32, shape: [3, 3] });
    const [hT, ys] = b.add("scan", [h0, x, w, uu], { body: rnnBody(b, 2, 3), numCarries: 1, numSequences: 1 });
    b.output("h", hT);
    b.output("ys", ys);
    await expectGradients(b.build(), { h0: u(r, [2, 3]), x: u(r, [2, 4, 2]), W: u(r, [3, 2]), U: u(r, [3, 3]) });
  });

  it("a reverse scan, only the per-step outputs seeded", async () => {
    const r = rand(12);
    const b = new GraphBuilder("rnn_rev");
    const h0 = b.input("h0", { ...f32, shape: ["B", 3] });
    const x = b.input("x", { ...f32, shape: ["B", "T", 2] });
    const w = b.input("W", { ...f32, shape: [3, 2] });
    const uu = b.input("U", { ...f32, shape: [3, 3] });
    const [, ys] = b.add("scan", [h0, x, w, uu], { body: rnnBody(b, 2, 3), numCarries: 1, numSequences: 1, reverse: true });
    b.output("ys", ys);
    await expectGradients(b.build(), { h0: u(r, [2, 3]), x: u(r, [2, 3, 2]), W: u(r, [3, 2]), U: u(r, [3, 3]) });
  });

  it("a scan whose saved per-step carries are themselves an output", async () => {
    const r = rand(15);
    const b = new GraphBuilder("saved");
    const h0 = b.input("h0", { ...f32, shape: ["B", 3] });
    const x = b.input("x", { ...f32, shape: ["B", "T", 2] });
    const w = b.input("W", { ...f32, shape: [3, 2] });
    const uu = b.input("U", { ...f32, shape: [3, 3] });
    const [hT, , saved] = b.add("scan", [h0, x, w, uu], { body: rnnBody(b, 2, 3), numCarries: 1, numSequences: 1, saveCarries: true });
    b.output("h", hT);
    b.output("saved", saved);
    await expectGradients(b.build(), { h0: u(r, [2, 3]), x: u(r, [2, 3, 2]), W: u(r, [3, 2]), U: u(r, [3, 3]) });
  });

  it("carries of rank 0 and int32, a length without sequences, parameters as captures", async () => {
    const r = rand(13);
    const b = new GraphBuilder("counter");
    const h0 = b.input("h0", { ...f32, shape: [2, 3] });
    const uu = b.param("U", { ...f32, shape: [3, 3] }, { kind: "zeros" });
    const s = b.subgraph("step");
    const h = s.input("h", { ...f32, shape: [2, 3] });
    const acc = s.input("acc", { ...f32, shape: [] });
    const k = s.input("k", { dtype: "int32", shape: [] });
    const su = s.input("U", { ...f32, shape: [3, 3] });
    const one = s.add1("constant", [], { value: { dtype: "int32", shape: [], data: [1] } });
    const k2 = s.add1("add", [k, one]);
    // The step counter scales the update, so the int carry matters to the values.
    const h2 = s.add1("tanh", [s.add1("mul", [s.add1("linear", [h, su]), s.add1("cast", [k2], { to: "float32" })])]);
    s.output("h", h2);
    s.output("acc", s.add1("add", [acc, s.add1("reduce_sum", [s.add1("mul", [h2, h2])], { axes: [0, 1] })]));
    s.output("k", k2);
    s.output("trace", s.add1("reduce_mean", [h2], { axes: [0, 1] }));
    const zero = b.add1("constant", [], { value: { dtype: "float32", shape: [], data: [0.5] } });
    const k0 = b.add1("constant", [], { value: { dtype: "int32", shape: [], data: [0] } });
    const [hT, accT, , trace] = b.add("scan", [h0, zero, k0, uu], { body: s.build(), numCarries: 3, numSequences: 0, length: 3 });
    b.output("h", hT);
    b.output("acc", accT);
    b.output("trace", trace);
    await expectGradients(b.build(), { h0: u(r, [2, 3]) }, new Map([["U", u(r, [3, 3], -0.5, 0.5)]]));
  });

  it("a scan nested in a scan's body", async () => {
    const r = rand(14);
    const b = new GraphBuilder("nested");
    const h0 = b.input("h0", { ...f32, shape: ["B", 3] });
    const x = b.input("x", { ...f32, shape: ["B", "T", 3] });
    const mem = b.input("mem", { ...f32, shape: ["B", "K", 3] });
    // Inner: a' = tanh(a ⊙ m_k + x_t) over the K memory slots, starting from h.
    const outer = b.subgraph("outer");
    const h = outer.input("h", { ...f32, shape: ["B", 3] });
    const xt = outer.input("x", { ...f32, shape: ["B", 3] });
    const m = outer.input("mem", { ...f32, shape: ["B", "K", 3] });
    const inner = outer.subgraph("inner");
    const a = inner.input("a", { ...f32, shape: ["B", 3] });
    const mk = inner.input("m", { ...f32, shape: ["B", 3] });
    const ix = inner.input("x", { ...f32, shape: ["B", 3] });
    inner.output("a", inner.add1("tanh", [inner.add1("add", [inner.add1("mul", [a, mk]), ix])]));
    const [aK] = outer.add("scan", [h, m, xt], { body: inner.build(), numCarries: 1, numSequences: 1 });
    const h2 = outer.add1("sigmoid", [aK]);
    outer.output("h", h2);
    outer.output("y", h2);
    const [hT, ys] = b.add("scan", [h0, x, mem], { body: outer.build(), numCarries: 1, numSequences: 1 });
    b.output("h", hT);
    b.output("ys", ys);
    await expectGradients(b.build(), { h0: u(r, [2, 3]), x: u(r, [2, 3, 3]), mem: u(r, [2, 2, 3]) });
  });
});

describe("straight-through gradients", () => {
  it("hardmax has the gradient of softmax over the same scores", async () => {
    const r = rand(21);
    const x = u(r, [3, 4], -2, 2);
    const up = randTensor([3, 4], r);
    const gradOf = async (op: string) => {
      const { graph } = opGraph(op, [x], { axis: -1 });
      const exe = await backend.compile(buildGradientGraph(graph, { seeds: { out0: "input" }, params: [], inputs: ["in0"] }), { params: new Map() });
      return Array.from((await exe.run({ in0: x, "grad:out0": up }))["grad:in0"].data);
    };
    // softmax's gradient is itself checked against finite differences above.
    expect(await gradOf("hardmax")).toEqual(await gradOf("softmax"));
  });
});

describe("whole models: gradients match finite differences", async () => {
  const cases = await loadCases();
  const MODELS = ["model/tutorial_gru_additive", "model/transformer_encoder_layer", "model/gru_bahdanau_seq2seq"];
  for (const name of MODELS) {
    for (const optimized of [false, true]) {
      it(`${name} (${optimized ? "optimised" : "as lowered"})`, async () => {
        const c = cases.find((x) => x.name === name);
        if (c?.kind !== "model") throw new Error(`no model case ${name}`);
        const lowered = await modelCaseGraph(c);
        const graph = optimized ? optimize(lowered) : lowered;
        const weights = c.weightsFile
          ? readSafetensors(await readCaseFile(c.weightsFile), c.weightsFile).tensors
          : new Map(Object.entries(c.weights ?? {}).map(([k, t]) => [k, decodeTensor(t, k)]));
        const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, t]) => [k, decodeTensor(t, k)]));
        const floatInputs = Object.keys(feeds).filter((k) => feeds[k].dtype === "float32");
        await expectGradients(graph, feeds, weights, { inputs: floatInputs, sample: 6, seed: seedOf(name) });
      });
    }
  }
});
