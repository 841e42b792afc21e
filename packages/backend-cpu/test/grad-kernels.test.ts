import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, buildGradientGraph, type Attrs, type Graph } from "@attn/core";
import { backend, expectClose, rand, randTensor, runGraph, runOp, t } from "./helpers.js";
import { opGraph } from "./op-graph.js";

/** Values of the gradient-op kernels and of the gradient conventions that finite differences cannot see (ties, masks). */

/** The gradient of Σ out ⊙ up w.r.t. every float input of a one-node graph. */
async function vjp(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs, upstream: readonly (Tensor | null)[]): Promise<(Tensor | undefined)[]> {
  const { graph, feeds } = opGraph(op, inputs, attrs);
  const seeds = Object.fromEntries(upstream.flatMap((u, i) => (u ? [[`out${i}`, "input" as const]] : [])));
  upstream.forEach((u, i) => u && (feeds[`grad:out${i}`] = u));
  const wrt = inputs.flatMap((x, i) => (x?.dtype === "float32" ? [`in${i}`] : []));
  const res = await runGraph(buildGradientGraph(graph, { seeds, params: [], inputs: wrt }), feeds);
  return inputs.map((_, i) => res[`grad:in${i}`]);
}

describe("helper ops", () => {
  it("pad frames x with zeros, with symbolic bounds evaluated per run", async () => {
    const b = new GraphBuilder("pad");
    const x = b.input("x", { dtype: "float32", shape: [2, "S"] });
    b.output("y", b.add1("pad", [x], { axis: 1, before: "S-1", after: 1 }));
    const g = b.build();
    expect(g.values[g.outputs[0].value].type.shape).toEqual([2, "2*S"]);
    const { y } = await runGraph(g, { x: t([[1, 2], [3, 4]]) });
    expect(y.toNested()).toEqual([[0, 1, 2, 0], [0, 3, 4, 0]]);
    const [z] = await runOp("pad", [t([[1, 2]], "int32")], { axis: 0, before: 0, after: 2 });
    expect(z.toNested()).toEqual([[1, 2], [0, 0], [0, 0]]);
  });
  it("zeros_like keeps dtype and shape; sign and erf are elementwise", async () => {
    const [z] = await runOp("zeros_like", [t([[true, false]], "bool")]);
    expect([z.dtype, ...z.shape, ...z.data]).toEqual(["bool", 1, 2, 0, 0]);
    expect(Array.from((await runOp("sign", [t([-2, 0, 3, NaN])]))[0].data)).toEqual([-1, 0, 1, NaN]);
    expectClose((await runOp("erf", [t([0, 0.5, -1, 3])]))[0], [0, 0.5204998778, -0.8427007929, 0.9999779095]);
  });
});

describe("gradient conventions", () => {
  it("maximum and minimum split the gradient evenly on exact ties (as PyTorch)", async () => {
    const [da, db] = await vjp("maximum", [t([1, 2, 3]), t([1, 5, 0])], {}, [t([2, 4, 6])]);
    expect(Array.from(da!.data)).toEqual([1, 0, 6]);
    expect(Array.from(db!.data)).toEqual([1, 4, 0]);
    const [ma, mb] = await vjp("minimum", [t([[1, 2]]), t([2])], {}, [t([[2, 4]])]);
    expect(Array.from(ma!.data)).toEqual([2, 2]);
    expect(Array.from(mb!.data)).toEqual([2]);
  });
  it("reduce_max splits the gradient among equal maxima (as torch.amax)", async () => {
    const [dx] = await vjp("reduce_max", [t([[1, 3, 3], [2, 0, 1]])], { axes: [1] }, [t([6, 5])]);
    expect(dx!.toNested()).toEqual([[0, 3, 3], [5, 0, 0]]);
  });
  it("relu and abs have zero gradient at 0", async () => {
    expect(Array.from((await vjp("relu", [t([-1, 0, 2])], {}, [t([1, 1, 1])]))[0]!.data)).toEqual([0, 0, 1]);
    expect(Array.from((await vjp("abs", [t([-1, 0, 2])], {}, [t([1, 1, 1])]))[0]!.data)).toEqual([-1, 0, 1]);
  });
  it("max_pool2d routes a tie to the window's first maximum", async () => {
    const [dx] = await vjp("max_pool2d", [t([[[[1, 1], [1, 0]]]])], { kernel: [2, 2] }, [t([[[[5]]]])]);
    expect(Array.from(dx!.data)).toEqual([5, 0, 0, 0]);
  });
  it("softmax rows that are all -inf, and -inf entries, get zero gradient", async () => {
    const [dx] = await vjp("softmax", [t([[-Infinity, -Infinity], [0, -Infinity]])], { axis: -1 }, [t([[1, 2], [3, 4]])]);
    expect(Array.from(dx!.data)).toEqual([0, 0, 0, 0]);
  });
  it("attention_mask passes gradient only at kept scores", async () => {
    const mask = t([[false, true, false]], "bool");
    const [ds] = await vjp("attention_mask", [t([[[1, 2, 3], [4, 5, 6]]]), mask], { causal: true }, [t([[[1, 1, 1], [1, 1, 1]]])]);
    expect(ds!.toNested()).toEqual([[[1, 0, 0], [1, 0, 0]]]);
  });
  it("embedding accumulates repeated indices; an index out of range names the tensor", async () => {
    const w = t([[0, 0], [0, 0], [0, 0]]);
    const [dw] = await vjp("embedding", [w, t([2, 0, 2], "int32")], {}, [t([[1, 2], [3, 4], [5, 6]])]);
    expect(dw!.toNested()).toEqual([[3, 4], [0, 0], [6, 8]]);
    await expect(runOp("embedding_grad", [w, t([3], "int32"), t([[1, 1]])])).rejects.toThrow(/embedding_grad: index 3 at position \[0\] of "in1" is out of range \[0, 3\)/);
    await expect(runOp("embedding_grad", [w, t([1], "int32"), t([[1, 1, 1]])])).rejects.toThrow(/embedding_grad: dim 1 of dy .* must match/);
  });
});

/** matmul(q, kᵀ)·scale → attention_mask → select → matmul(·, v), also returning the weights. */
function unfusedAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, a: { scale: number; causal?: boolean; window?: number | null; select: string; k?: number }): Graph {
  const b = new GraphBuilder("unfused");
  const qi = b.input("q", { dtype: "float32", shape: q.shape });
  const ki = b.input("k", { dtype: "float32", shape: k.shape });
  const vi = b.input("v", { dtype: "float32", shape: v.shape });
  const mi = mask ? b.input("mask", { dtype: "bool", shape: mask.shape }) : null;
  const r = q.rank;
  const perm = [...Array(r).keys()].map((i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
  const s = b.add1("mul", [b.add1("matmul", [qi, b.add1("transpose", [ki], { perm })]), b.add1("constant", [], { value: { dtype: "float32", shape: [], data: [a.scale] } })]);
  const m = b.add1("attention_mask", [s, mi], { causal: a.causal ?? false, window: a.window ?? null });
  const w = a.select === "topk" ? b.add1("topk_softmax", [m], { axis: -1, k: a.k! }) : b.add1(a.select, [m], { axis: -1 });
  b.output("out", b.add1("matmul", [w, vi]));
  b.output("weights", w);
  return b.build();
}

function fusedAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, attrs: Attrs): Graph {
  const b = new GraphBuilder("fused");
  const ins = [b.input("q", { dtype: "float32", shape: q.shape }), b.input("k", { dtype: "float32", shape: k.shape }), b.input("v", { dtype: "float32", shape: v.shape })];
  const mi = mask ? b.input("mask", { dtype: "bool", shape: mask.shape }) : null;
  const [out, w] = b.add("attention", [...ins, mi], { ...attrs, weights: true });
  b.output("out", out);
  b.output("weights", w);
  return b.build();
}

describe("attention_grad agrees with the gradient of the unfused chain", () => {
  const variants: { name: string; select: string; k?: number; causal?: boolean; window?: number | null; fullyMasked?: boolean }[] = [
    { name: "softmax, padding with a fully masked batch", select: "softmax", fullyMasked: true },
    { name: "argmax (straight-through), causal", select: "hardmax", causal: true },
    { name: "top-2, window 1", select: "topk", k: 2, window: 1 },
  ];
  for (const vnt of variants) {
    it(vnt.name, async () => {
      const r = rand(31);
      const q = randTensor([2, 2, 3, 4], r);
      const k = randTensor([2, 2, 5, 4], r);
      const v = randTensor([2, 2, 5, 3], r);
      const mask = t(vnt.fullyMasked ? [[false, false, true, false, true], [true, true, true, true, true]] : [[false, false, false, true, false], [false, true, false, false, false]], "bool");
      const up = { out: randTensor([2, 2, 3, 3], r), weights: randTensor([2, 2, 3, 5], r) };
      const select = vnt.select === "hardmax" ? "argmax" : vnt.select === "topk" ? { topk: vnt.k! } : "softmax";
      const grads = async (g: Graph) => {
        const bg = buildGradientGraph(g, { seeds: { out: "input", weights: "input" }, params: [], inputs: ["q", "k", "v"] });
        return runGraph(bg, { q, k, v, mask, "grad:out": up.out, "grad:weights": up.weights });
      };
      const fused = await grads(fusedAttention(q, k, v, mask, { scale: 0.5, causal: vnt.causal ?? false, window: vnt.window ?? null, select }));
      const unfused = await grads(unfusedAttention(q, k, v, mask, { scale: 0.5, ...vnt }));
      for (const n of ["out", "grad:q", "grad:k", "grad:v"]) expectClose(fused[n], unfused[n], { atol: 1e-6, rtol: 1e-5 });
      if (vnt.fullyMasked) {
        // Batch 1 masks every key: no gradient reaches its q, k or v.
        for (const n of ["grad:q", "grad:k", "grad:v"]) expect(Array.from(fused[n].data.subarray(fused[n].size / 2)).every((x) => x === 0)).toBe(true);
      }
    });
  }
});

describe("scan kernel: reverse and saveCarries", () => {
  /** A body carrying c' = c + x_t and yielding c (the incoming carry) at every step. */
  function prefixSum(reverse: boolean): Graph {
    const b = new GraphBuilder("prefix");
    const c0 = b.input("c0", { dtype: "float32", shape: [1] });
    const xs = b.input("xs", { dtype: "float32", shape: [1, 3] });
    const s = b.subgraph("step");
    const c = s.input("c", { dtype: "float32", shape: [1] });
    const x = s.input("x", { dtype: "float32", shape: [1] });
    s.output("c", s.add1("add", [c, x]));
    s.output("seen", c);
    const [cT, seen, saved] = b.add("scan", [c0, xs], { body: s.build(), numCarries: 1, numSequences: 1, reverse, saveCarries: true });
    b.output("c", cT);
    b.output("seen", seen);
    b.output("saved", saved);
    return b.build();
  }
  it("forward: per-step outputs and the saved incoming carries at index t", async () => {
    const res = await runGraph(prefixSum(false), { c0: t([10]), xs: t([[1, 2, 3]]) });
    expect(Array.from(res.c.data)).toEqual([16]);
    expect(res.seen.toNested()).toEqual([[10, 11, 13]]);
    expect(res.saved.toNested()).toEqual([[10, 11, 13]]);
  });
  it("reverse: iterates t = T−1 … 0 and still stores step t at index t", async () => {
    const res = await runGraph(prefixSum(true), { c0: t([10]), xs: t([[1, 2, 3]]) });
    expect(Array.from(res.c.data)).toEqual([16]);
    expect(res.seen.toNested()).toEqual([[15, 13, 10]]);
    expect(res.saved.toNested()).toEqual([[15, 13, 10]]);
  });
});

describe("backward graphs run with symbolic shapes", () => {
  it("reduce_mean over a symbolic axis counts the elements at run time", async () => {
    const b = new GraphBuilder("mean");
    const x = b.input("x", { dtype: "float32", shape: [2, "S"] });
    b.output("y", b.add1("reduce_mean", [x], { axes: [1] }));
    const g = buildGradientGraph(b.build(), { seeds: { y: "ones" }, params: [], inputs: ["x"] });
    for (const S of [2, 4]) {
      const res = await runGraph(g, { x: Tensor.zeros([2, S]) });
      expect(Array.from(res["grad:x"].data)).toEqual(new Array(2 * S).fill(1 / S));
    }
  });
  it("select and slice with negative positions on a symbolic axis", async () => {
    const b = new GraphBuilder("pick");
    const x = b.input("x", { dtype: "float32", shape: [2, "S"] });
    b.output("last", b.add1("select", [x], { axis: 1, index: -1 }));
    b.output("tail", b.add1("slice", [x], { axis: 1, start: -2, end: null }));
    const g = buildGradientGraph(b.build(), { seeds: { last: "ones", tail: "ones" }, params: [], inputs: ["x"] });
    const res = await runGraph(g, { x: Tensor.zeros([2, 4]) });
    expect(res["grad:x"].toNested()).toEqual([[0, 0, 1, 2], [0, 0, 1, 2]]);
    expect(backend.supports("pad")).toBe(true);
  });
});
