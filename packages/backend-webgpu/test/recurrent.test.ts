import { afterAll, describe, expect, it } from "vitest";
import { BackendError, GraphBuilder, Tensor, buildGradientGraph, type Graph } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { createWebGpuBackend, type WebGpuExecutable } from "../src/index.js";
import { requireWebGpu, values } from "./helpers.js";


const f32 = (shape: number[], seed: number, lo = -1, hi = 1) => new Tensor("float32", shape, values(shape.reduce((p, d) => p * d, 1), seed, lo, hi));
const type = (t: Tensor) => ({ dtype: t.dtype, shape: [...t.shape] });

const cpu = createCpuBackend();
const gpu = createWebGpuBackend();

/** Runs `g` on the cpu backend and on WebGPU and compares every output (exact for int32 and bool). */
async function agree(g: Graph, feeds: Record<string, Tensor>, tol = 1e-5): Promise<void> {
  const want = await (await cpu.compile(g, { params: new Map() })).run(feeds);
  const exe = await gpu.compile(g, { params: new Map() });
  const got = await exe.run(feeds);
  exe.dispose();
  for (const [name, w] of Object.entries(want)) {
    const v = got[name];
    expect(v.dtype, name).toBe(w.dtype);
    expect(v.shape, name).toEqual(w.shape);
    for (let i = 0; i < w.size; i++) {
      const a = v.data[i];
      const b = w.data[i];
      if (w.dtype !== "float32") expect(a, `${name}[${i}]`).toBe(b);
      else expect(Math.abs(a - b), `${name}[${i}]: got ${a}, want ${b}`).toBeLessThanOrEqual(tol + tol * Math.abs(b));
    }
  }
}

/** A graph with one `op` node over the given inputs (null: an absent optional input), every output exposed. */
function opGraph(op: string, inputs: Record<string, Tensor | null>, attrs: Record<string, unknown> = {}, outs?: string[]): Graph {
  const b = new GraphBuilder(op);
  const ids = Object.entries(inputs).map(([n, t]) => (t ? b.input(n, type(t)) : null));
  b.add(op, ids, attrs as never).forEach((id, i) => b.output(outs?.[i] ?? `out${i}`, id));
  return b.build();
}

const feedsOf = (inputs: Record<string, Tensor | null>) => Object.fromEntries(Object.entries(inputs).filter((e): e is [string, Tensor] => e[1] !== null));

/** gru inputs for x [B, S, I], hidden H; `bias` and `h0` toggle the optional slots. */
function gruInputs(B: number, S: number, I: number, H: number, dirs: number, bias: boolean, h0: boolean, seed: number): Record<string, Tensor | null> {
  const ins: Record<string, Tensor | null> = { x: f32([B, S, I], seed) };
  for (let d = 0; d < 2; d++) {
    const on = d < dirs;
    ins[`wih${d}`] = on ? f32([3 * H, I], seed + 10 * d + 1, -0.6, 0.6) : null;
    ins[`whh${d}`] = on ? f32([3 * H, H], seed + 10 * d + 2, -0.6, 0.6) : null;
    ins[`bih${d}`] = on && bias ? f32([3 * H], seed + 10 * d + 3) : null;
    ins[`bhh${d}`] = on && bias ? f32([3 * H], seed + 10 * d + 4) : null;
  }
  ins.h0 = h0 ? f32([dirs, B, H], seed + 50) : null;
  return ins;
}

if (await requireWebGpu("webgpu recurrent kernels")) {
  describe("gru and gru_cell match the cpu backend", () => {
    it("bidirectional with h0 and biases, more than one workgroup per step (B·H > 64)", async () => {
      const ins = gruInputs(3, 6, 5, 33, 2, true, true, 1);
      await agree(opGraph("gru", ins, { hidden: 33, bidirectional: true }, ["y", "h_n"]), feedsOf(ins));
    });
    it("unidirectional without h0 or biases; a single step", async () => {
      const ins = gruInputs(2, 1, 4, 5, 1, false, false, 2);
      await agree(opGraph("gru", ins, { hidden: 5 }, ["y", "h_n"]), feedsOf(ins));
    });
    it("an empty sequence gives h_n = h0", async () => {
      const ins = gruInputs(2, 0, 3, 4, 2, true, true, 3);
      await agree(opGraph("gru", ins, { hidden: 4, bidirectional: true }, ["y", "h_n"]), feedsOf(ins));
    });
    it("gru_cell with large pre-activations (saturated gates stay finite)", async () => {
      const ins = { x: f32([4, 3], 4, -30, 30), h: f32([4, 6], 5), wih: f32([18, 3], 6, -2, 2), whh: f32([18, 6], 7, -2, 2), bih: f32([18], 8), bhh: f32([18], 9) };
      await agree(opGraph("gru_cell", ins), ins);
    });
  });

  describe("gru_grad and gru_cell_grad match the cpu backend", () => {
    /** The gradient graph of a single-op graph with the given seeds and differentiated inputs. */
    function gradGraph(op: string, ins: Record<string, Tensor | null>, attrs: Record<string, unknown>, outs: string[], seeds: string[]): Graph {
      const g = opGraph(op, ins, attrs, outs);
      const wrt = Object.entries(ins).filter(([, t]) => t).map(([n]) => n);
      return buildGradientGraph(g, { seeds: Object.fromEntries(seeds.map((s) => [s, "input" as const])), params: [], inputs: wrt });
    }
    it("bidirectional with h0, seeds on y and h_n", async () => {
      const ins = gruInputs(2, 5, 3, 7, 2, true, true, 11);
      const g = gradGraph("gru", ins, { hidden: 7, bidirectional: true }, ["y", "h_n"], ["y", "h_n"]);
      await agree(g, { ...feedsOf(ins), "grad:y": f32([2, 5, 14], 12), "grad:h_n": f32([2, 2, 7], 13) });
    });
    it("unidirectional without biases or h0, seed on y only; B·H > 64", async () => {
      const ins = gruInputs(3, 4, 6, 30, 1, false, false, 21);
      const g = gradGraph("gru", ins, { hidden: 30 }, ["y", "h_n"], ["y"]);
      await agree(g, { ...feedsOf(ins), "grad:y": f32([3, 4, 30], 22) });
    });
    it("seed on h_n only (no dy): the state gradient alone flows back through time", async () => {
      const ins = gruInputs(2, 6, 2, 4, 2, true, false, 31);
      const g = gradGraph("gru", ins, { hidden: 4, bidirectional: true }, ["y", "h_n"], ["h_n"]);
      await agree(g, { ...feedsOf(ins), "grad:h_n": f32([2, 2, 4], 32) });
    });
    it("gru_cell_grad, with and without biases", async () => {
      for (const bias of [true, false]) {
        const ins: Record<string, Tensor | null> = {
          x: f32([5, 3], 41), h: f32([5, 4], 42), wih: f32([12, 3], 43), whh: f32([12, 4], 44), bih: bias ? f32([12], 45) : null, bhh: bias ? f32([12], 46) : null,
        };
        const g = gradGraph("gru_cell", ins, {}, ["h1"], ["h1"]);
        await agree(g, { ...feedsOf(ins), "grad:h1": f32([5, 4], 47) });
      }
    });
  });

  describe("scan records its body once per step", () => {
    /** h' = tanh(x_t W + h U) over xs [B, T, I]; yields h' (also the new carry) and the incoming h. */
    function elman(reverse: boolean, saveCarries: boolean): Graph {
      const b = new GraphBuilder("elman");
      const h0 = b.input("h0", { dtype: "float32", shape: [2, 4] });
      const xs = b.input("xs", { dtype: "float32", shape: [2, 5, 3] });
      const W = b.input("W", { dtype: "float32", shape: [3, 4] });
      const U = b.input("U", { dtype: "float32", shape: [4, 4] });
      const s = b.subgraph("step");
      const h = s.input("h", { dtype: "float32", shape: [2, 4] });
      const x = s.input("x", { dtype: "float32", shape: [2, 3] });
      const w = s.input("W", { dtype: "float32", shape: [3, 4] });
      const u = s.input("U", { dtype: "float32", shape: [4, 4] });
      const hn = s.add1("tanh", [s.add1("add", [s.add1("matmul", [x, w]), s.add1("matmul", [h, u])])]);
      s.output("h", hn);
      s.output("ys", hn);
      s.output("seen", h);
      const outs = b.add("scan", [h0, xs, W, U], { body: s.build(), numCarries: 1, numSequences: 1, reverse, saveCarries });
      ["h_last", "ys", "seen", "saved"].slice(0, outs.length).forEach((n, i) => b.output(n, outs[i]));
      return b.build();
    }
    const elmanFeeds = () => ({ h0: f32([2, 4], 61), xs: f32([2, 5, 3], 62), W: f32([3, 4], 63), U: f32([4, 4], 64) });

    it("carries, a sequence and captures; outputs that alias the carry or a body input", async () => {
      await agree(elman(false, true), elmanFeeds());
    });
    it("reverse: t = T−1 … 0, outputs still at index t", async () => {
      await agree(elman(true, true), elmanFeeds());
      await agree(elman(true, false), elmanFeeds());
    });

    it("no sequence: the step count comes from `length`; int32 and bool values pass through", async () => {
      const b = new GraphBuilder("count");
      const c0 = b.input("c0", { dtype: "float32", shape: [2, 3] });
      const k0 = b.input("k0", { dtype: "int32", shape: [2] });
      const flag = b.input("flag", { dtype: "bool", shape: [2, 2] });
      const s = b.subgraph("step");
      const c = s.input("c", { dtype: "float32", shape: [2, 3] });
      const k = s.input("k", { dtype: "int32", shape: [2] });
      const f = s.input("flag", { dtype: "bool", shape: [2, 2] });
      s.output("c", s.add1("add", [s.add1("mul", [c, c]), c]));
      s.output("k", s.add1("add", [k, k]));
      s.output("flags", f);
      s.output("ks", k);
      const outs = b.add("scan", [c0, k0, flag], { body: s.build(), numCarries: 2, numSequences: 0, length: 4, saveCarries: true });
      ["c", "k", "flags", "ks", "saved_c", "saved_k"].forEach((n, i) => b.output(n, outs[i]));
      await agree(b.build(), { c0: f32([2, 3], 71, -0.5, 0.5), k0: new Tensor("int32", [2], Int32Array.from([1, -3])), flag: new Tensor("bool", [2, 2], Uint8Array.from([1, 0, 0, 1])) });
    });

    it("int32 sequences, an unchanged carry and scalar per-step outputs (stacked to [T])", async () => {
      const b = new GraphBuilder("scalars");
      const c0 = b.input("c0", { dtype: "float32", shape: [3] });
      const ids = b.input("ids", { dtype: "int32", shape: [2, 4] });
      const v = b.input("v", { dtype: "float32", shape: [1, 4] });
      const s = b.subgraph("step");
      const c = s.input("c", { dtype: "float32", shape: [3] });
      const id = s.input("id", { dtype: "int32", shape: [2] });
      const vt = s.input("vt", { dtype: "float32", shape: [1] });
      s.output("c", c);
      s.output("ids", id);
      s.output("scalar", s.add1("reshape", [s.add1("neg", [vt])], { shape: [] }));
      const outs = b.add("scan", [c0, ids, v], { body: s.build(), numCarries: 1, numSequences: 2 });
      ["c", "ids", "scalars"].forEach((n, i) => b.output(n, outs[i]));
      await agree(b.build(), { c0: f32([3], 81), ids: new Tensor("int32", [2, 4], Int32Array.from([1, 2, 3, 4, -5, 6, 7, 8])), v: f32([1, 4], 82) });
    });

    it("nested scans: an inner scan over each outer step's slice", async () => {
      const b = new GraphBuilder("nested");
      const h0 = b.input("h0", { dtype: "float32", shape: [2, 3] });
      const xs = b.input("xs", { dtype: "float32", shape: [2, 4, 5, 3] });
      const inner = b.subgraph("inner");
      const ih = inner.input("h", { dtype: "float32", shape: [2, 3] });
      const ix = inner.input("x", { dtype: "float32", shape: [2, 3] });
      const nh = inner.add1("tanh", [inner.add1("add", [ih, ix])]);
      inner.output("h", nh);
      inner.output("hs", nh);
      const outer = b.subgraph("outer");
      const oh = outer.input("h", { dtype: "float32", shape: [2, 3] });
      const ox = outer.input("x", { dtype: "float32", shape: [2, 5, 3] });
      const [hEnd, hs] = outer.add("scan", [oh, ox], { body: inner.build(), numCarries: 1, numSequences: 1, reverse: true });
      outer.output("h", outer.add1("mul", [hEnd, hEnd]));
      outer.output("hs", hs);
      const [h, all] = b.add("scan", [h0, xs], { body: outer.build(), numCarries: 1, numSequences: 1 });
      b.output("h", h);
      b.output("all", all);
      await agree(b.build(), { h0: f32([2, 3], 91), xs: f32([2, 4, 5, 3], 92) });
    });

    it("gradients through a scan (a reverse scan over the body's VJP)", async () => {
      const g = buildGradientGraph(elman(false, false), { seeds: { ys: "input", h_last: "input" }, params: [], inputs: ["h0", "xs", "W", "U"] });
      await agree(g, { ...elmanFeeds(), "grad:ys": f32([2, 5, 4], 65), "grad:h_last": f32([2, 4], 66) });
    });

    it("a GRU cell scanned over a sequence equals gru, gradients included", async () => {
      const b = new GraphBuilder("cellscan");
      const xs = b.input("xs", { dtype: "float32", shape: [3, 4, 2] });
      const h0 = b.input("h0", { dtype: "float32", shape: [3, 5] });
      const ws = [b.input("wih", { dtype: "float32", shape: [15, 2] }), b.input("whh", { dtype: "float32", shape: [15, 5] }), b.input("bih", { dtype: "float32", shape: [15] }), b.input("bhh", { dtype: "float32", shape: [15] })];
      const s = b.subgraph("step");
      const h = s.input("h", { dtype: "float32", shape: [3, 5] });
      const x = s.input("x", { dtype: "float32", shape: [3, 2] });
      const sw = [s.input("wih", { dtype: "float32", shape: [15, 2] }), s.input("whh", { dtype: "float32", shape: [15, 5] }), s.input("bih", { dtype: "float32", shape: [15] }), s.input("bhh", { dtype: "float32", shape: [15] })];
      const hn = s.add1("gru_cell", [x, h, ...sw]);
      s.output("h", hn);
      s.output("ys", hn);
      const [hLast, ys] = b.add("scan", [h0, xs, ...ws], { body: s.build(), numCarries: 1, numSequences: 1, saveCarries: true });
      b.output("h_last", hLast);
      b.output("ys", ys);
      const feeds = { xs: f32([3, 4, 2], 101), h0: f32([3, 5], 102), wih: f32([15, 2], 103), whh: f32([15, 5], 104), bih: f32([15], 105), bhh: f32([15], 106) };
      await agree(b.build(), feeds);
      const g = buildGradientGraph(b.build(), { seeds: { ys: "input" }, params: [], inputs: ["xs", "h0", "wih", "whh", "bih", "bhh"] });
      await agree(g, { ...feeds, "grad:ys": f32([3, 4, 5], 107) });
    });

    describe("executables", () => {
      let exe: WebGpuExecutable | undefined;
      afterAll(() => exe?.dispose());
      it("a second run creates no new buffers (every step's values go back to the pool)", async () => {
        exe = await gpu.compile(elman(false, true), { params: new Map() });
        const feeds = elmanFeeds();
        const first = await exe.run(feeds);
        const created = exe.buffersCreated;
        const second = await exe.run(feeds);
        expect(exe.buffersCreated).toBe(created);
        expect(Array.from(second.ys.data)).toEqual(Array.from(first.ys.data));
      });
      it("compile names an unsupported op inside a scan body, and the body", async () => {
        const g = elman(false, false);
        const scan = g.nodes.find((n) => n.op === "scan")!;
        const body = scan.attrs.body as Graph;
        const weird: Graph = { ...body, nodes: body.nodes.map((n) => (n.op === "tanh" ? { ...n, op: "hyperbolic_warp" } : n)) };
        const bad: Graph = { ...g, nodes: g.nodes.map((n) => (n === scan ? { ...n, attrs: { ...n.attrs, body: weird } } : n)) };
        const err = await gpu.compile(bad, { params: new Map() }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BackendError);
        expect((err as Error).message).toMatch(/no WGSL kernel for op "hyperbolic_warp" yet \(in graph step\)/);
      });
    });
  });
}
