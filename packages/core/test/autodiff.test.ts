import { describe, expect, it } from "vitest";
import {
  GraphBuilder, GraphError, ShapeEnv, ShapeError, buildGradientGraph, differentiableOps, graphFromJson, graphToJson, inferGraph,
  inlineGraph, opNames, validateGraph, type Graph,
} from "../src/index.js";
import { gradOps } from "../src/ops/grad-ops.js";
import { trainingOps } from "../src/ops/training-ops.js";

const f32 = (...shape: (number | string)[]) => ({ dtype: "float32" as const, shape });

/** Ops of the catalogue that intentionally have no gradient function, and why. */
const NON_DIFFERENTIABLE: Record<string, string> = {
  argmax: "int32 output",
  equal: "bool output",
  not_equal: "bool output",
  less: "bool output",
  greater: "bool output",
  logical_and: "bool in and out",
  logical_or: "bool in and out",
  logical_not: "bool in and out",
  constant: "no inputs",
};

describe("the gradient catalogue", () => {
  it("gives every op a gradient function or a reason it has none", () => {
    const diff = new Set(differentiableOps());
    // Backward ops are not differentiated again (no second order); loss and optimizer ops belong to the training
    // module, which registers the losses' gradients itself (autodiff/grads/loss.ts).
    const backwardOps = new Set(gradOps.map((o) => o.name).filter((n) => n.endsWith("_grad")));
    const training = new Set(trainingOps.map((o) => o.name));
    const missing = opNames().filter((op) => !diff.has(op) && !(op in NON_DIFFERENTIABLE) && !backwardOps.has(op) && !training.has(op));
    expect(missing).toEqual([]);
    expect(Object.keys(NON_DIFFERENTIABLE).filter((op) => diff.has(op) || !opNames().includes(op))).toEqual([]);
    for (const op of ["scan", "attention", "gru", "gru_cell", "layer_norm", "conv2d", "embedding", "hardmax", "pad", "erf"]) expect(diff.has(op)).toBe(true);
  });
});

describe("gradient ops: shape functions", () => {
  it("pad adds symbolic before/after to the axis", () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", f32("B", "S", 3));
    const y = b.add1("pad", [x], { axis: -2, before: "S", after: 2 });
    expect(b.typeOf(y).shape).toEqual(["B", "2*S+2", 3]);
    expect(() => b.add1("pad", [x], { axis: 0, before: -1, after: 0 })).toThrow(/before must be ≥ 0/);
  });
  it("backward ops require upstream gradients of the forward outputs' types", () => {
    const b = new GraphBuilder("g");
    const q = b.input("q", f32("B", 4, 8));
    const k = b.input("k", f32("B", 6, 8));
    const v = b.input("v", f32("B", 6, 5));
    const [dq, dk, dv] = b.add("attention_grad", [q, k, v, null, b.input("d_out", f32("B", 4, 5)), b.input("d_w", f32("B", 4, 6))], { scale: 1 });
    expect([dq, dk, dv].map((id) => b.typeOf(id).shape)).toEqual([["B", 4, 8], ["B", 6, 8], ["B", 6, 5]]);
    expect(() => b.add("attention_grad", [q, k, v, null, b.input("bad", f32("B", 4, 4))], { scale: 1 })).toThrow(/attention_grad: dim 2 of d_out/);
    const x = b.input("x", f32(2, 3, 4));
    const w = b.input("w", f32(9, 4));
    const wh = b.input("wh", f32(9, 3));
    const y = b.input("y", f32(2, 3, 3));
    const outs = b.add("gru_grad", [x, w, wh, null, null, null, null, null, null, null, y, null, null], { hidden: 3 });
    expect(outs.map((id) => b.typeOf(id).shape)).toEqual([[2, 3, 4], [9, 4], [9, 3], [9], [9], [1, 2, 3]]);
    expect(() => b.add("gru_grad", [x, w, wh, null, null, null, null, null, null, null, b.input("y2", f32(2, 3, 6)), null, null], { hidden: 3 })).toThrow(ShapeError);
    const img = b.input("img", f32(1, 2, 5, 5));
    expect(b.typeOf(b.add1("max_pool2d_grad", [img, b.input("dp", f32(1, 2, 3, 3))], { kernel: [3, 3], stride: [2, 2], padding: [1, 1] })).shape).toEqual([1, 2, 5, 5]);
    expect(() => b.add1("avg_pool2d_grad", [img, b.input("dp2", f32(1, 2, 2, 2))], { kernel: [3, 3], stride: [2, 2], padding: [1, 1] })).toThrow(/dim 2 of dy/);
  });
});

describe("inlineGraph", () => {
  function square(): Graph {
    const s = new GraphBuilder("square");
    const x = s.input("x", f32("N"));
    s.output("y", s.add1("mul", [x, x]));
    s.output("x_again", x);
    return s.build();
  }
  it("copies the nodes, reading the given inputs, with shapes inferred in the target", () => {
    const b = new GraphBuilder("outer");
    const a = b.input("a", f32(5));
    const [y, same] = inlineGraph(b, square(), [a]);
    expect(same).toBe(a);
    expect(b.typeOf(y)).toEqual(f32(5));
  });
  it("rejects a wrong input count, dtype or rank, and graphs with parameters", () => {
    const b = new GraphBuilder("outer");
    expect(() => inlineGraph(b, square(), [])).toThrow(/takes 1 inputs, got 0/);
    expect(() => inlineGraph(b, square(), [b.input("i", { dtype: "int32", shape: [2] })])).toThrow(/input "x" is float32\[N\], got int32\[2\]/);
    const p = new GraphBuilder("p");
    p.output("w", p.param("w", f32(2), { kind: "zeros" }));
    expect(() => inlineGraph(b, p.build(), [])).toThrow(GraphError);
  });
});

describe("scan gradients", () => {
  /** h' = tanh(h ⊙ x_t ⊙ w); yields h'. Carries h, sequence x, capture w; also an int32 capture read by nothing. */
  function model(reverse = false): Graph {
    const b = new GraphBuilder("m");
    const h0 = b.input("h0", f32("B", 3));
    const x = b.input("x", f32("B", "T", 3));
    const w = b.param("w", f32(3), { kind: "ones" });
    const s = b.subgraph("step");
    const h = s.input("h", f32("B", 3));
    const xt = s.input("x", f32("B", 3));
    const sw = s.input("w", f32(3));
    const h2 = s.add1("tanh", [s.add1("mul", [s.add1("mul", [h, xt]), sw])]);
    s.output("h", h2);
    s.output("y", h2);
    const [, ys] = b.add("scan", [h0, x, w], { body: s.build(), numCarries: 1, numSequences: 1, reverse });
    b.output("ys", ys);
    return b.build();
  }
  it("is a scan in the other direction over saved carries, sequences and upstream gradients", () => {
    for (const reverse of [false, true]) {
      const g = buildGradientGraph(model(reverse), { seeds: { ys: "ones" }, inputs: ["h0", "x"] });
      const scans = g.nodes.filter((n) => n.op === "scan");
      expect(scans).toHaveLength(2);
      const [fwd, bwd] = scans;
      expect(fwd.attrs.saveCarries).toBe(true);
      expect(fwd.outputs).toHaveLength(3);
      // carries: d h and the accumulator of w; sequences: saved h, x, d ys; captures: w.
      expect([bwd.attrs.reverse, bwd.attrs.numCarries, bwd.attrs.numSequences, bwd.inputs.length]).toEqual([!reverse, 2, 3, 6]);
      expect(g.outputs.map((o) => o.name)).toEqual(["ys", "grad:w", "grad:h0", "grad:x"]);
      const types = inferGraph(g, new ShapeEnv());
      expect(types.map((t) => t.shape)).toEqual([["B", "T", 3], [3], ["B", 3], ["B", "T", 3]]);
      // A gradient graph is an ordinary graph: valid, and serialisable with its nested bodies.
      validateGraph(g);
      expect(graphToJson(graphFromJson(graphToJson(g)))).toEqual(graphToJson(g));
    }
  });
  it("leaves scans off the gradient path alone", () => {
    const g = buildGradientGraph(model(), { seeds: { ys: "ones" }, params: [], inputs: [] });
    expect(g.nodes.filter((n) => n.op === "scan").map((n) => n.attrs.saveCarries)).toEqual([false]);
  });
});
