import { describe, expect, it } from "vitest";
import {
  ALL_OPS, BackendError, GraphBuilder, Session, ShapeError, Tensor, constantFold, dce, optimize, type Graph, type Node,
} from "@attn/core";
import { CpuBackend, createCpuBackend, formatProfile, supportedOps } from "../src/index.js";
import { GraphPlan, locate } from "../src/executor.js";
import { SPAN, backend, expectClose, rand, randTensor, runGraph, t } from "./helpers.js";

const span = (line: number) => ({ file: "net.attn", line, column: 5, length: 4 });

/** x [B, 4] → linear(fc) → relu → out; plus a side branch embedding(table, ids) → side. */
function twoBranch(): Graph {
  const b = new GraphBuilder("net");
  const x = b.input("x", { dtype: "float32", shape: ["B", 4] });
  const ids = b.input("ids", { dtype: "int32", shape: ["B"] });
  const w = b.param("fc.weight", { dtype: "float32", shape: [3, 4] }, { kind: "uniform", bound: 0.5 });
  const bias = b.param("fc.bias", { dtype: "float32", shape: [3] }, { kind: "zeros" });
  const table = b.param("emb.weight", { dtype: "float32", shape: [5, 3] }, { kind: "normal", std: 1 });
  const h = b.add1("linear", [x, w, bias], {}, { span: span(2), name: "h" });
  const y = b.add1("relu", [h], {}, { span: span(3), name: "y" });
  b.output("out", y);
  b.output("side", b.add1("embedding", [table, ids], {}, { span: span(4), name: "e" }));
  b.output("x_again", x);
  return b.build();
}

function params(seed = 1): Map<string, Tensor> {
  const r = rand(seed);
  return new Map([
    ["fc.weight", randTensor([3, 4], r)],
    ["fc.bias", randTensor([3], r)],
    ["emb.weight", randTensor([5, 3], r)],
  ]);
}

describe("CpuBackend", () => {
  it("supports every op of the catalogue and nothing else", () => {
    const names = ALL_OPS.map((o) => o.name).sort();
    expect(supportedOps()).toEqual(names);
    for (const n of names) expect(backend.supports(n)).toBe(true);
    expect(backend.supports("fft")).toBe(false);
    expect(createCpuBackend()).toBeInstanceOf(CpuBackend);
    expect(backend.name).toBe("cpu");
  });

  it("compile rejects an unsupported op, naming it and its span", async () => {
    const g = twoBranch();
    const bad: Graph = { ...g, nodes: g.nodes.map((n) => (n.op === "relu" ? { ...n, op: "fft" } : n)) };
    const err = await backend.compile(bad, { params: params() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).span).toEqual(span(3));
    expect((err as Error).message).toBe('net.attn:3:5: the cpu backend has no kernel for op "fft" (in graph net)');
    const two: Graph = { ...g, nodes: g.nodes.map((n) => (n.op === "relu" ? { ...n, op: "fft" } : n.op === "embedding" ? { ...n, op: "ifft" } : n)) };
    await expect(backend.compile(two, { params: params() })).rejects.toThrow(/op "fft" \(in graph net\); also unsupported: "ifft"$/);
  });

  it("compile finds an unsupported op inside a scan body", async () => {
    const b = new GraphBuilder("g");
    const xs = b.input("xs", { dtype: "float32", shape: [2, 3, 4] });
    const h0 = b.input("h0", { dtype: "float32", shape: [2, 4] });
    const body = b.subgraph("body");
    const h = body.input("h", { dtype: "float32", shape: [2, 4] });
    const x = body.input("x", { dtype: "float32", shape: [2, 4] });
    const s = body.add1("add", [h, x], {}, { span: span(9) });
    body.output("h", s);
    const bodyGraph = body.build();
    const weird: Graph = { ...bodyGraph, nodes: bodyGraph.nodes.map((n) => ({ ...n, op: "hyperbolic_warp" })) };
    const [hn] = b.add("scan", [h0, xs], { body: bodyGraph, numCarries: 1, numSequences: 1 }, { span: span(8) });
    b.output("hn", hn);
    const g = b.build();
    const patched: Graph = { ...g, nodes: g.nodes.map((n) => (n.op === "scan" ? { ...n, attrs: { ...n.attrs, body: weird } } : n)) };
    await expect(backend.compile(patched, { params: new Map() })).rejects.toThrow(/^net\.attn:9:5: the cpu backend has no kernel for op "hyperbolic_warp" \(in graph body\)/);
    const ok = await runGraph(g, { xs: Tensor.from(new Array(24).fill(1), { shape: [2, 3, 4] }), h0: Tensor.zeros([2, 4]) });
    expect(Array.from(ok.hn.data)).toEqual(new Array(8).fill(3));
  });

  it("compile checks parameters: missing and mis-shaped", async () => {
    const g = twoBranch();
    const p = params();
    p.delete("fc.bias");
    await expect(backend.compile(g, { params: p })).rejects.toThrow(/parameter "fc\.bias" \(float32\[3\]\) is missing from the compile options/);
    const q = params();
    q.set("fc.weight", Tensor.zeros([4, 3]));
    await expect(backend.compile(g, { params: q })).rejects.toThrow(/parameter "fc\.weight" must be float32\[3, 4\], got float32\[4, 3\]/);
  });
});

describe("CpuExecutable.run", () => {
  const g = twoBranch();
  const p = params();
  const feeds = { x: randTensor([2, 4], rand(5)), ids: t([4, 0], "int32") };

  it("computes the outputs against a hand reference", async () => {
    const res = await runGraph(g, feeds, p);
    const w = p.get("fc.weight")!.toNested() as number[][];
    const bias = p.get("fc.bias")!.data;
    const xs = feeds.x.toNested() as number[][];
    const want = xs.flatMap((row) => w.map((wr, o) => Math.max(0, wr.reduce((s, v, i) => s + v * row[i], bias[o]))));
    expectClose(res.out, want, { shape: [2, 3] });
    expect(Array.from(res.side.data)).toEqual([...p.get("emb.weight")!.data.slice(12, 15), ...p.get("emb.weight")!.data.slice(0, 3)]);
  });

  it("bad feeds get core's messages", async () => {
    const exe = await backend.compile(g, { params: p });
    await expect(exe.run({ x: feeds.x })).rejects.toThrow(BackendError);
    await expect(exe.run({ x: feeds.x })).rejects.toThrow(/missing input "ids"/);
    await expect(exe.run({ ...feeds, z: feeds.x })).rejects.toThrow(/unknown input "z"; net takes x, ids/);
    await expect(exe.run({ x: randTensor([2, 5], rand(1)), ids: feeds.ids })).rejects.toThrow(ShapeError);
    await expect(exe.run({ x: randTensor([2, 4], rand(1)), ids: t([1, 2, 3], "int32") })).rejects.toThrow(/input "ids"/);
    await expect(exe.run({ x: feeds.x, ids: t([1, 2]) })).rejects.toThrow(/input "ids" must be int32\[B\], got float32/);
  });

  it("computes only what the requested outputs need", async () => {
    const exe = await backend.compile(g, { params: p });
    const bad = { x: feeds.x, ids: t([7, 0], "int32") };
    const only = await exe.run(bad, { outputs: ["out"] });
    expect(Object.keys(only)).toEqual(["out"]);
    const err = await exe.run(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toBe('net.attn:4:5: embedding: index 7 at position [0] of "ids" is out of range [0, 5) for weight "emb.weight" [5, 3]');
    await expect(exe.run(feeds, { outputs: ["nope"] })).rejects.toThrow(/unknown output "nope"; net has out, side, x_again/);
  });

  it("returns tensors that share no memory with feeds or parameters", async () => {
    const b = new GraphBuilder("alias");
    const x = b.input("x", { dtype: "float32", shape: [2] });
    const w = b.param("w", { dtype: "float32", shape: [2] }, { kind: "ones" });
    b.output("x", x);
    b.output("xi", b.add1("identity", [x]));
    b.output("wi", b.add1("reshape", [w], { shape: [1, 2] }));
    const wv = t([5, 6]);
    const xv = t([1, 2]);
    const exe = await backend.compile(b.build(), { params: new Map([["w", wv]]) });
    const res = await exe.run({ x: xv });
    for (const k of ["x", "xi", "wi"]) res[k].data[0] = 99;
    expect(Array.from(xv.data)).toEqual([1, 2]);
    expect(Array.from(wv.data)).toEqual([5, 6]);
    expect([...res.wi.shape]).toEqual([1, 2]);
    const read = await exe.readParams();
    expect(Array.from(read.get("w")!.data)).toEqual([5, 6]);
    read.get("w")!.data[0] = 0;
    expect(Array.from(wv.data)).toEqual([5, 6]);
    const again = await exe.run({ x: xv });
    expect(Array.from(again.wi.data)).toEqual([5, 6]);
    exe.dispose();
    await expect(exe.run({ x: xv })).rejects.toThrow(/has been disposed/);
  });

  it("runs through a Session with loaded and seeded weights", async () => {
    const s = await Session.create(g, backend, { weights: new Map([["fc.weight", p.get("fc.weight")!]]), seed: 4 });
    const res = await s.run(feeds, { outputs: ["out"] });
    expect([...res.out.shape]).toEqual([2, 3]);
    const read = await s.readParams();
    expect(Array.from(read.get("fc.weight")!.data)).toEqual(Array.from(p.get("fc.weight")!.data));
    expect(Array.from(read.get("fc.bias")!.data)).toEqual([0, 0, 0]);
    s.dispose();
  });
});

describe("schedule", () => {
  it("drops each intermediate after its last reader and skips unrequested branches", () => {
    const b = new GraphBuilder("chain");
    const x = b.input("x", { dtype: "float32", shape: [3] });
    const a = b.add1("exp", [x], {}, { name: "a" });
    const c = b.add1("neg", [a], {}, { name: "c" });
    const d = b.add1("add", [a, c], {}, { name: "d" });
    const [s0, s1] = b.add("split", [d], { axis: 0, sizes: [1, 2] }, { names: ["s0", "s1"] });
    const e = b.add1("tanh", [x], {}, { name: "e" });
    b.output("s1", s1);
    b.output("e", e);
    const g = b.build();
    const plan = new GraphPlan(g, new Map());
    const name = (id: number) => g.values[id].name;
    const all = plan.schedule(plan.allOutputs);
    expect(all.steps.map((s) => [s.node.op, s.release.map(name)])).toEqual([
      ["exp", []],
      ["neg", []],
      ["add", ["a", "c"]],
      ["split", ["d", "s0"]],
      ["tanh", []],
    ]);
    const onlyE = plan.schedule([e]);
    expect(onlyE.steps.map((s) => s.node.op)).toEqual(["tanh"]);
    expect(plan.schedule([e])).toBe(onlyE);
    expect(s0).toBeGreaterThan(0);
  });
});

describe("errors and constant folding", () => {
  it("locate() attaches the node's span and op to any error", () => {
    const node: Node = { id: 0, op: "matmul", inputs: [], outputs: [], attrs: {}, span: SPAN };
    const e = locate(new RangeError("Invalid typed array length: -1"), node);
    expect(e).toBeInstanceOf(BackendError);
    expect(e.message).toBe("model.attn:7:3: matmul: Invalid typed array length: -1");
    const inner = new BackendError("embedding: bad", span(1));
    expect(locate(inner, node)).toBe(inner);
    expect(locate(new ShapeError("oops"), node).message).toBe("model.attn:7:3: matmul: oops");
  });

  it("evaluateNode folds constant subgraphs; the folded graph gives the same results", async () => {
    const b = new GraphBuilder("fold");
    const x = b.input("x", { dtype: "float32", shape: ["B", 3] });
    const c = b.add1("constant", [], { value: { dtype: "float32", shape: [3], data: [1, 4, 9] } });
    const s = b.add1("sqrt", [c]);
    const m = b.add1("unsqueeze", [s], { axes: [0] });
    b.output("y", b.add1("mul", [x, m]));
    const g = b.build();
    const folded = dce(constantFold(g, backend.evaluateNode.bind(backend)));
    expect(folded.nodes.map((n) => n.op)).toEqual(["constant", "mul"]);
    expect(folded.nodes[0].attrs.value).toMatchObject({ shape: [1, 3], data: [1, 2, 3] });
    const xv = t([[1, 1, 1], [2, 2, 2]]);
    const a = await runGraph(g, { x: xv });
    const f = await runGraph(optimize(g, { evaluate: backend.evaluateNode.bind(backend) }), { x: xv });
    expect(Array.from(a.y.data)).toEqual([1, 2, 3, 2, 4, 6]);
    expect(Array.from(f.y.data)).toEqual(Array.from(a.y.data));
  });

  it("evaluateNode leaves nodes that need the feeds unfolded", () => {
    const node: Node = { id: 0, op: "reshape", inputs: [0], outputs: [1], attrs: { shape: ["B", 2] } };
    expect(backend.evaluateNode(node, [t([1, 2, 3, 4])])).toEqual([]);
    const ok: Node = { id: 0, op: "reshape", inputs: [0], outputs: [1], attrs: { shape: [2, -1] } };
    expect([...backend.evaluateNode(ok, [t([1, 2, 3, 4])])[0].shape]).toEqual([2, 2]);
    const split: Node = { id: 0, op: "split", inputs: [0], outputs: [1, 2], attrs: { axis: 0, sizes: [1, 3] } };
    expect(backend.evaluateNode(split, [t([1, 2, 3, 4])]).map((x) => Array.from(x.data))).toEqual([[1], [2, 3, 4]]);
    const lin: Node = { id: 0, op: "linear", inputs: [0, 1, null], outputs: [2], attrs: {} };
    expect(Array.from(backend.evaluateNode(lin, [t([[1, 2]]), t([[3, 4]])])[0].data)).toEqual([11]);
  });
});

describe("profiling (createCpuBackend({ profile: true }))", () => {
  function counter(): Graph {
    const g = new GraphBuilder("count");
    const c0 = g.input("c0", { dtype: "float32", shape: [] });
    const step = g.input("step", { dtype: "float32", shape: [] });
    const body = g.subgraph("body");
    const c = body.input("c", { dtype: "float32", shape: [] });
    const inc = body.input("inc", { dtype: "float32", shape: [] });
    const c2 = body.add1("add", [c, inc]);
    body.output("c", c2);
    body.output("sq", body.add1("mul", [c2, c2]));
    const [final, sq] = g.add("scan", [c0, step], { body: body.build(), numCarries: 1, numSequences: 0, length: 4 });
    g.output("final", g.add1("relu", [final]));
    g.output("sq", sq);
    return g.build();
  }

  it("counts calls per op (scan bodies per step), self times that add up, per executable and per backend", async () => {
    const be = createCpuBackend({ profile: true });
    const exe = await be.compile(counter(), { params: new Map() });
    const feeds = { c0: Tensor.scalar(1), step: Tensor.scalar(2) };
    await exe.run(feeds);
    await exe.run(feeds);
    const p = exe.profile();
    const calls = Object.fromEntries(p.ops.map((r) => [r.op, r.calls]));
    expect(calls).toEqual({ scan: 2, add: 8, mul: 8, relu: 2 });
    for (const r of p.ops) expect(r.ms).toBeGreaterThanOrEqual(0);
    expect(p.totalMs).toBeCloseTo(p.ops.reduce((s, r) => s + r.ms, 0), 9);
    expect(p.ops.map((r) => r.ms)).toEqual([...p.ops.map((r) => r.ms)].sort((a, b) => b - a));
    // The backend's profile sums its executables.
    const other = await be.compile(counter(), { params: new Map() });
    await other.run(feeds);
    expect(Object.fromEntries(be.profile().ops.map((r) => [r.op, r.calls]))).toEqual({ scan: 3, add: 12, mul: 12, relu: 3 });
    expect(exe.profile({ reset: true }).ops.length).toBe(4);
    expect(exe.profile().ops).toEqual([]);
    expect(formatProfile(be.profile())).toMatch(/^op\s+calls\s+ms\s+share\n/);
  });

  it("is off by default, and asking for a profile then says how to turn it on", async () => {
    const exe = await createCpuBackend().compile(counter(), { params: new Map() });
    expect(() => exe.profile()).toThrow(/profile: true/);
    expect(() => createCpuBackend().profile()).toThrow(/profile: true/);
  });
});
