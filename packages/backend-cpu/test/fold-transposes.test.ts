import { describe, expect, it } from "vitest";
import { GraphBuilder, ShapeEnv, Tensor, type Attrs, type Graph, type ValueId } from "@attn/core";
import { createCpuBackend, type CpuBackend } from "../src/index.js";
import { jsGemm, type Gemm } from "../src/gemm/index.js";
import { interleavedAttentionGradKernel, interleavedAttentionKernel } from "../src/kernels/attention-interleaved.js";
import { foldTransposes } from "../src/plan/fold-transposes.js";
import { isAxisSwap, swapAxes } from "../src/util/axis-swap.js";
import { kernelPathAvailable, rand, randTensor } from "./helpers.js";

// The plan's transpose folding (plan/fold-transposes.ts) against an independent reference: the same graph
// evaluated node by node with the ordinary kernels (`evaluateNode`: no plan, so no folding), on the same
// kernel path. Folding only changes where operands are read from, so results must match bit for bit.

const paths: { name: string; make: () => CpuBackend }[] = [
  { name: "js", make: () => createCpuBackend({ kernels: "js", profile: true }) },
  ...(kernelPathAvailable("wasm-simd", "transpose folding") ? [{ name: "wasm-simd", make: () => createCpuBackend({ kernels: "wasm-simd", profile: true }) }] : []),
  ...(kernelPathAvailable("wasm-simd-threads", "transpose folding on threads")
    ? [{ name: "wasm-simd-threads", make: () => createCpuBackend({ kernels: "wasm-simd-threads", threads: 2, threadMinFlops: 0, profile: true }) }]
    : []),
];

/** Runs `g` node by node through `evaluateNode` (the kernels as registered, no plan). */
function reference(be: CpuBackend, g: Graph, feeds: Record<string, Tensor>, params: ReadonlyMap<string, Tensor>): Record<string, Tensor> {
  const vals = new Map<ValueId, Tensor>();
  g.inputs.forEach((id) => vals.set(id, feeds[g.values[id].name]));
  g.params.forEach((p) => vals.set(p.value, params.get(p.name)!));
  for (const n of g.nodes) {
    const outs = be.evaluateNode(n, n.inputs.filter((i): i is ValueId => i !== null).map((i) => vals.get(i)!));
    expect(outs.length, `reference: ${n.op}`).toBe(n.outputs.length);
    n.outputs.forEach((o, i) => vals.set(o, outs[i]));
  }
  return Object.fromEntries(g.outputs.map((o) => [o.name, vals.get(o.value)!]));
}

/** Compiles and runs `g`, checks every output against the reference bit for bit; returns transpose calls. */
async function check(be: CpuBackend, g: Graph, feeds: Record<string, Tensor>, params: Map<string, Tensor> = new Map()): Promise<number> {
  const exe = await be.compile(g, { params });
  const got = await exe.run(feeds);
  const want = reference(be, g, feeds, params);
  for (const name of Object.keys(want)) {
    expect([...got[name].shape], name).toEqual([...want[name].shape]);
    expect(Array.from(got[name].data), name).toEqual(Array.from(want[name].data));
  }
  return exe.profile().ops.find((o) => o.op === "transpose")?.calls ?? 0;
}

const HEADS = [0, 2, 1, 3];

interface Mha {
  graph: Graph;
  feeds: Record<string, Tensor>;
  params: Map<string, Tensor>;
}

/**
 * Multi-head self-attention as the DSL lowers it, forward and (explicit) backward: x [B, S, E] projected,
 * split into heads (reshape, transpose), attention, heads merged, projected out; attention_grad from an
 * incoming gradient split the same way, each gradient merged back. `extra` adds other readers of the
 * transposed values (which must then keep their transposes).
 */
function mha(opts: { B: number; S: number; H: number; D: number; causal?: boolean; pad?: boolean; extra?: boolean; seed: number }): Mha {
  const { B, S, H, D } = opts;
  const E = H * D;
  const b = new GraphBuilder("mha");
  const x = b.input("x", { dtype: "float32", shape: [B, S, E] });
  const g = b.input("g", { dtype: "float32", shape: [B, S, E] });
  const mask = opts.pad ? b.input("mask", { dtype: "bool", shape: [B, S] }) : null;
  const split = (v: ValueId) => b.add1("transpose", [b.add1("reshape", [v], { shape: [B, S, H, D] })], { perm: HEADS });
  const merge = (v: ValueId) => b.add1("reshape", [b.add1("transpose", [v], { perm: HEADS })], { shape: [B, S, E] });
  const proj = (name: string) => {
    const w = b.param(`${name}.weight`, { dtype: "float32", shape: [E, E] }, { kind: "zeros" });
    return split(b.add1("linear", [x, w]));
  };
  const [q, k, v] = [proj("q"), proj("k"), proj("v")];
  const attrs: Attrs = { scale: 1 / Math.sqrt(D), causal: opts.causal ?? false };
  const a = b.add1("attention", [q, k, v, mask], attrs);
  const wo = b.param("o.weight", { dtype: "float32", shape: [E, E] }, { kind: "zeros" });
  b.output("y", b.add1("linear", [merge(a), wo]));
  const [dq, dk, dv] = b.add("attention_grad", [q, k, v, mask, split(g), null], attrs);
  b.output("dq", merge(dq));
  b.output("dk", merge(dk));
  b.output("dv", merge(dv));
  if (opts.extra) {
    b.output("q_heads", q); // a requested transposed value
    b.output("k_relu", b.add1("relu", [k])); // another reader of a transposed value
    b.output("dv_heads", dv); // a requested attention result (its transpose back must not fold)
  }
  const r = rand(opts.seed);
  const feeds: Record<string, Tensor> = { x: randTensor([B, S, E], r), g: randTensor([B, S, E], r) };
  if (opts.pad) feeds.mask = Tensor.from(Array.from({ length: B * S }, (_, i) => i % S >= S - 3 - (i >= S ? 5 : 0)), { dtype: "bool", shape: [B, S] });
  const params = new Map(["q", "k", "v", "o"].map((n) => [`${n}.weight`, randTensor([E, E], r, -0.5, 0.5)]));
  return { graph: b.build(), feeds, params };
}

describe.each(paths)("transpose folding on $name", ({ name, make }) => {
  const be = make();
  const flash = name !== "js";

  it("multi-head attention forward and backward: the head transposes fold away (on the fused kernel)", async () => {
    const m = mha({ B: 2, S: 70, H: 3, D: 8, seed: 1 });
    const transposes = await check(be, m.graph, m.feeds, m.params);
    // 3 q/k/v splits + 1 d_out split + 1 output merge + 3 gradient merges
    expect(transposes).toBe(flash ? 0 : 8);
  });

  it("with a causal mask and key padding", async () => {
    const m = mha({ B: 2, S: 67, H: 2, D: 16, causal: true, pad: true, seed: 2 });
    expect(await check(be, m.graph, m.feeds, m.params)).toBe(flash ? 0 : 8);
  });

  it("keeps a transpose whose value is also requested or read elsewhere", async () => {
    const m = mha({ B: 2, S: 9, H: 4, D: 4, extra: true, seed: 3 });
    // q and k still split (their transposes have other readers), dv's merge no longer folds
    expect(await check(be, m.graph, m.feeds, m.params)).toBe(flash ? 3 : 8);
  });

  it("mixed layouts: q from a head split, k and v fed as [B, H, S, D], the output requested as is", async () => {
    const b = new GraphBuilder("mixed");
    const x = b.input("x", { dtype: "float32", shape: [2, 5, 3, 4] });
    const k = b.input("k", { dtype: "float32", shape: [2, 3, 6, 4] });
    const v = b.input("v", { dtype: "float32", shape: [2, 3, 6, 5] });
    const q = b.add1("transpose", [x], { perm: [0, -2, 1, -1] });
    b.output("out", b.add1("attention", [q, k, v, null], { scale: 0.5 }));
    const r = rand(4);
    const feeds = { x: randTensor([2, 5, 3, 4], r), k: randTensor([2, 3, 6, 4], r), v: randTensor([2, 3, 6, 5], r) };
    expect(await check(be, b.build(), feeds)).toBe(flash ? 0 : 1);
  });

  it("matmul reads a transposed operand in place (rank 2, batched, negative perm entries, both operands)", async () => {
    const b = new GraphBuilder("mm");
    const a2 = b.input("a2", { dtype: "float32", shape: [33, 17] });
    const b2 = b.input("b2", { dtype: "float32", shape: [33, 9] });
    const a3 = b.input("a3", { dtype: "float32", shape: [3, 7, 6] });
    const b3 = b.input("b3", { dtype: "float32", shape: [3, 6, 5] });
    const bt = b.add1("transpose", [b2], { perm: [1, 0] });
    b.output("atb", b.add1("matmul", [b.add1("transpose", [a2], { perm: [1, 0] }), b2]));
    b.output("abt", b.add1("matmul", [b.add1("transpose", [b3], { perm: [0, -1, 1] }), b.add1("transpose", [a3], { perm: [0, 2, 1] })]));
    b.output("both", b.add1("matmul", [bt, b.add1("transpose", [bt], { perm: [1, 0] })]));
    b.output("bt", bt); // requested: stays
    const r = rand(5);
    const feeds = { a2: randTensor([33, 17], r), b2: randTensor([33, 9], r), a3: randTensor([3, 7, 6], r), b3: randTensor([3, 6, 5], r) };
    // every transpose folds into its matmul, except bt itself (requested); the one of bt folds into "both"
    expect(await check(be, b.build(), feeds)).toBe(1);
  });
});

describe("foldTransposes", () => {
  it("recognises only the swaps it folds", () => {
    expect(isAxisSwap([0, 2, 1, 3], "heads")).toBe(true);
    expect(isAxisSwap([1, 0, 2], "heads")).toBe(true);
    expect(isAxisSwap([0, -2, -3, 3], "heads")).toBe(true);
    expect(isAxisSwap([0, 1, 3, 2], "heads")).toBe(false);
    expect(isAxisSwap([1, 0], "heads")).toBe(false);
    expect(isAxisSwap([0, 1, 3, 2], "matrix")).toBe(true);
    expect(isAxisSwap([1, 0], "matrix")).toBe(true);
    expect(isAxisSwap([0], "matrix")).toBe(false);
    expect(isAxisSwap([2, 0, 1], "matrix")).toBe(false);
  });

  it("leaves attention alone without the fused kernel, and argmax attention everywhere", () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", { dtype: "float32", shape: [1, 4, 2, 3] });
    const q = b.add1("transpose", [x], { perm: HEADS });
    b.output("soft", b.add1("attention", [q, q, q, null], { scale: 0.5 }));
    b.output("hard", b.add1("attention", [q, q, q, null], { scale: 0.5, select: "argmax" }));
    const g = b.build();
    expect(foldTransposes(g, [], { attention: false }).kernels.size).toBe(0);
    const folded = foldTransposes(g, [], { attention: true });
    expect(folded.kernels.size).toBe(1);
    expect(folded.graph.nodes.map((n) => n.op)).toEqual(["transpose", "attention", "attention"]);
    expect(folded.graph.nodes[1].inputs).toEqual([x, x, x, null]);
  });
});

describe("interleaved attention kernels off the fused path", () => {
  // A context whose fused kernel declines every call (as for a problem too large for wasm memory): the
  // kernels then materialise the transposes around the portable kernels.
  const declining: Gemm = { path: "wasm-simd", gemm: (p) => jsGemm.gemm(p), flash: { forward: () => null, backward: () => null } };
  const ctx = (op: string) => ({ op, env: new ShapeEnv(), inputNames: [], gemm: declining, runGraph: () => [] });
  const jsCtx = (op: string) => ({ op, env: new ShapeEnv(), inputNames: [], gemm: jsGemm, runGraph: () => [] });
  const r = rand(6);
  const x = randTensor([2, 5, 3, 4], r); // [B, S, H, D]
  const g = randTensor([2, 5, 3, 4], r);
  const xh = swapAxes(x, "heads");
  const gh = swapAxes(g, "heads");

  it("attention: same results as the ordinary kernel on the transposed operands (softmax and argmax)", () => {
    for (const attrs of [{ scale: 0.5, causal: true }, { scale: 0.5, select: "argmax" }] as Attrs[]) {
      const [got] = interleavedAttentionKernel({ q: true, k: true, v: true, out: true })([x, x, x, null], attrs, ctx("attention"));
      const [want] = interleavedAttentionKernel({})([xh, xh, xh, null], attrs, jsCtx("attention"));
      expect([...got.shape]).toEqual([2, 5, 3, 4]);
      expect(Array.from(got.data)).toEqual(Array.from(swapAxes(want, "heads").data));
    }
  });

  it("attention_grad: same results as the ordinary kernel on the transposed operands", () => {
    const got = interleavedAttentionGradKernel({ q: true, k: true, v: true, dOut: true, dq: true, dk: true, dv: true })([x, x, x, null, g, null], { scale: 0.5 }, ctx("attention_grad"));
    const want = interleavedAttentionGradKernel({})([xh, xh, xh, null, gh, null], { scale: 0.5 }, jsCtx("attention_grad"));
    for (let i = 0; i < 3; i++) expect(Array.from(got[i].data), `output ${i}`).toEqual(Array.from(swapAxes(want[i], "heads").data));
  });
});
