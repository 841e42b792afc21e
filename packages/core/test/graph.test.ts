import { describe, expect, it } from "vitest";
import {
  GraphBuilder, ShapeError, GraphError, graphFromJson, graphToJson, inferGraph, printGraph, graphToDot, optimize, dce,
  constantFold, ShapeEnv, validateGraph, bindParams, bindFeeds, Tensor, Rng, WeightsError, BackendError,
  type Graph, type Node,
} from "../src/index.js";

const span = { file: "m.attn", line: 3, column: 5, length: 6 };

function attentionChain(withMask = true): Graph {
  const b = new GraphBuilder("attn");
  const q = b.input("q", { dtype: "float32", shape: ["B", "T", 4] });
  const k = b.input("k", { dtype: "float32", shape: ["B", "S", 4] });
  const m = b.input("pad", { dtype: "bool", shape: ["B", "S"] });
  const kt = b.add1("transpose", [k], { perm: [0, 2, 1] });
  const s = b.add1("matmul", [q, kt]);
  const c = b.add1("constant", [], { value: { dtype: "float32", shape: [], data: [0.5] } });
  const s2 = b.add1("mul", [s, c]);
  const s3 = withMask ? b.add1("attention_mask", [s2, m], { causal: true }) : s2;
  const w = b.add1("softmax", [s3], { axis: -1 });
  b.output("out", b.add1("matmul", [w, k], {}, { span }));
  return b.build();
}

describe("GraphBuilder and inference", () => {
  it("infers symbolic shapes and unifies symbols across inputs", () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", { dtype: "float32", shape: ["B", "S", 8] });
    const w = b.param("fc.weight", { dtype: "float32", shape: [16, 8] }, { kind: "uniform", bound: 0.1 });
    const y = b.add1("linear", [x, w, null]);
    expect(b.typeOf(y).shape).toEqual(["B", "S", 16]);
    const m = b.input("m", { dtype: "float32", shape: ["B", "T", 16] });
    const z = b.add1("add", [y, m]);
    expect(b.typeOf(z).shape).toEqual(["B", "S", 16]);
    expect(b.typeOf(m).shape).toEqual(["B", "S", 16]); // T := S
  });
  it("attaches the statement's span to shape errors", () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", { dtype: "float32", shape: ["B", 7] });
    const w = b.param("w", { dtype: "float32", shape: [3, 8] }, { kind: "zeros" });
    let err: unknown;
    try {
      b.add1("linear", [x, w, null], {}, { span });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as ShapeError).span).toEqual(span);
    expect((err as Error).message).toMatch(/^m\.attn:3:5: linear: weight float32\[3, 8\] expects 8 input features/);
  });
  it("rejects unknown ops and attributes with clear messages", () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", { dtype: "float32", shape: [2] });
    expect(() => b.add1("softmaxx", [x])).toThrow(/unknown op "softmaxx"/);
    expect(() => b.add1("softmax", [x], { axes: 0 })).toThrow(/softmax has no attribute "axes"/);
    expect(() => b.add1("softmax", [x], { axis: "0" })).toThrow(/attribute "axis" of softmax must be an integer/);
    expect(() => b.add1("relu", [b.input("i", { dtype: "int32", shape: [2] })])).toThrow(/input "x" must be float32, got int32\[2\]/);
  });
  it("infers a scan over a GRU cell with the carry threaded", () => {
    const b = new GraphBuilder("g");
    const xs = b.input("xs", { dtype: "float32", shape: ["B", "T", 3] });
    const h0 = b.input("h0", { dtype: "float32", shape: ["B", 2] });
    const wih = b.param("c.weight_ih", { dtype: "float32", shape: [6, 3] }, { kind: "zeros" });
    const whh = b.param("c.weight_hh", { dtype: "float32", shape: [6, 2] }, { kind: "zeros" });
    const body = b.subgraph("step");
    const h = body.input("h", { dtype: "float32", shape: ["B", 2] });
    const x = body.input("x", { dtype: "float32", shape: ["B", 3] });
    const bw1 = body.input("wih", { dtype: "float32", shape: [6, 3] });
    const bw2 = body.input("whh", { dtype: "float32", shape: [6, 2] });
    const h2 = body.add1("gru_cell", [x, h, bw1, bw2]);
    body.output("h", h2);
    body.output("y", h2);
    const [hn, ys] = b.add("scan", [h0, xs, wih, whh], { body: body.build(), numCarries: 1, numSequences: 1 });
    expect(b.typeOf(hn).shape).toEqual(["B", 2]);
    expect(b.typeOf(ys).shape).toEqual(["B", "T", 2]);
  });
});

describe("JSON form, printing and validation", () => {
  it("round-trips through JSON and keeps -inf constants", () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", { dtype: "float32", shape: [2] });
    const c = b.add1("constant", [], { value: { dtype: "float32", shape: [2], data: [-Infinity, 1] } });
    b.output("y", b.add1("add", [x, c]));
    const g = b.build();
    const back = graphFromJson(graphToJson(g));
    expect(back).toEqual(g);
  });
  it("rejects other formats and newer versions", () => {
    expect(() => graphFromJson("{}")).toThrow(/not an attn IR document/);
    expect(() => graphFromJson('{"format":"attn-ir","version":99,"graph":{}}')).toThrow(/version 99 is not supported/);
    expect(() => graphFromJson("nope")).toThrow(/not valid JSON/);
  });
  it("catches a node reading a value before it is defined", () => {
    const g = attentionChain();
    const broken: Graph = { ...g, nodes: [...g.nodes].reverse() };
    expect(() => validateGraph(broken)).toThrow(GraphError);
  });
  it("prints nodes with their source location and emits DOT", () => {
    const g = attentionChain();
    expect(printGraph(g)).toContain("= matmul(%softmax, %k)   # m.attn:3:5");
    const dot = graphToDot(g);
    expect(dot.startsWith('digraph "attn" {')).toBe(true);
    expect(dot).toContain('[label="attention_mask"');
  });
});

describe("passes", () => {
  it("fuses matmul → scale → mask → softmax → matmul into one attention node", () => {
    const g = optimize(attentionChain());
    expect(g.nodes.map((n) => n.op)).toEqual(["attention"]);
    expect(g.nodes[0].attrs).toMatchObject({ scale: 0.5, causal: true, window: null, select: "softmax", weights: false });
    expect(g.nodes[0].span).toEqual(span);
    expect(inferGraph(g, new ShapeEnv())[0].shape).toEqual(["B", "T", 4]);
  });
  it("keeps the weights as a second output when they are read elsewhere", () => {
    const base = attentionChain(false);
    const sm = base.nodes.find((n) => n.op === "softmax")!;
    const g = optimize({ ...base, outputs: [...base.outputs, { name: "w", value: sm.outputs[0] }] });
    expect(g.nodes.map((n) => n.op)).toEqual(["attention"]);
    expect(g.nodes[0].outputs).toHaveLength(2);
    expect(g.nodes[0].attrs.weights).toBe(true);
  });
  it("drops the weights output when their only other reader is dead code", () => {
    // e.g. multi-head lowering averages the weights over heads for an output the model does not declare
    const base = attentionChain(false);
    const sm = base.nodes.find((n) => n.op === "softmax")!;
    const dead: Node = { id: 999, op: "neg", inputs: [sm.outputs[0]], outputs: [base.values.length], attrs: {} };
    const g = optimize({ ...base, values: [...base.values, { ...base.values[sm.outputs[0]], id: base.values.length, name: "unread" }], nodes: [...base.nodes, dead] });
    expect(g.nodes.map((n) => n.op)).toEqual(["attention"]);
    expect(g.nodes[0].outputs).toHaveLength(1);
    expect(g.nodes[0].attrs.weights).toBe(false);
  });
  it("does not fuse when an intermediate has another reader", () => {
    const base = attentionChain();
    const mm = base.nodes.find((n) => n.op === "matmul")!;
    const g = optimize({ ...base, outputs: [...base.outputs, { name: "scores", value: mm.outputs[0] }] });
    expect(g.nodes.some((n) => n.op === "attention")).toBe(false);
  });
  it("dce drops unreachable nodes; constant folding uses the given evaluator", () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", { dtype: "float32", shape: [2] });
    b.add1("relu", [x]);
    const c = b.add1("constant", [], { value: { dtype: "float32", shape: [2], data: [1, 2] } });
    const d = b.add1("neg", [c]);
    b.output("y", b.add1("add", [x, d]));
    const g = dce(b.build());
    expect(g.nodes.map((n) => n.op)).toEqual(["constant", "neg", "add"]);
    const folded = dce(constantFold(g, (_n, [t]) => [Tensor.from(Array.from(t.data, (v) => -v))]));
    expect(folded.nodes.map((n) => n.op)).toEqual(["constant", "add"]);
    expect(folded.nodes[0].attrs.value).toMatchObject({ data: [-1, -2] });
  });
});

describe("parameters and feeds", () => {
  const b = new GraphBuilder("g");
  const x = b.input("x", { dtype: "float32", shape: ["B", 4] });
  const m = b.input("m", { dtype: "bool", shape: ["B"] });
  const w = b.param("fc.weight", { dtype: "float32", shape: [3, 4] }, { kind: "uniform", bound: 0.5 });
  const bias = b.param("fc.bias", { dtype: "float32", shape: [3] }, { kind: "zeros" });
  b.output("y", b.add1("linear", [x, w, bias]));
  b.output("m", m);
  const g = b.build();

  it("initialises from the seed deterministically and within PyTorch-style bounds", () => {
    const a = bindParams(g, new Map(), { seed: 7 });
    const c = bindParams(g, new Map(), { seed: 7 });
    expect(Array.from(a.get("fc.weight")!.data)).toEqual(Array.from(c.get("fc.weight")!.data));
    expect(Array.from(a.get("fc.weight")!.data).every((v) => Math.abs(v) <= 0.5)).toBe(true);
    expect(Array.from(a.get("fc.bias")!.data)).toEqual([0, 0, 0]);
    expect(Array.from(bindParams(g, new Map(), { seed: 8 }).get("fc.weight")!.data)).not.toEqual(Array.from(a.get("fc.weight")!.data));
  });
  it("checks loaded weights by name and shape", () => {
    expect(() => bindParams(g, new Map([["fc.weight", Tensor.zeros([4, 3])]]), { source: "w.safetensors" })).toThrow(
      /w\.safetensors: parameter "fc\.weight" must have shape \[3, 4\], the file has \[4, 3\]/,
    );
    expect(() => bindParams(g, new Map([["fc.wieght", Tensor.zeros([3, 4])]]))).toThrow(WeightsError);
    expect(() => bindParams(g, new Map(), { requireAll: true })).toThrow(/missing 2 parameter/);
  });
  it("validates feeds and binds symbols", () => {
    const env = bindFeeds(g, { x: Tensor.zeros([2, 4]), m: Tensor.zeros([2], "bool") });
    expect(env.resolve("B")).toBe(2);
    expect(() => bindFeeds(g, { x: Tensor.zeros([2, 4]), m: Tensor.zeros([3], "bool") })).toThrow(/input "m".*B \(= 2\)|2 and 3/);
    expect(() => bindFeeds(g, { x: Tensor.zeros([2, 4]) })).toThrow(BackendError);
    expect(() => bindFeeds(g, { x: Tensor.zeros([2, 5]), m: Tensor.zeros([2], "bool") })).toThrow(/dim 1 of input "x"/);
    expect(() => bindFeeds(g, { x: Tensor.zeros([2, 4]), m: Tensor.zeros([2], "bool"), z: Tensor.zeros([1]) })).toThrow(/unknown input "z"/);
  });
  it("the generator is deterministic and roughly uniform/normal", () => {
    const r = new Rng(1);
    const u = Array.from({ length: 20000 }, () => r.uniform());
    const mean = u.reduce((a, v) => a + v, 0) / u.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    const n = Array.from({ length: 20000 }, () => r.normal());
    const var_ = n.reduce((a, v) => a + v * v, 0) / n.length;
    expect(Math.abs(var_ - 1)).toBeLessThan(0.05);
    const s = new Rng(1);
    s.uniform();
    const state = s.getState();
    const next = s.uniform();
    s.setState(state);
    expect(s.uniform()).toBe(next);
  });
});
