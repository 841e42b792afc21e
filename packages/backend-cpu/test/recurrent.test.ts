import { describe, expect, it } from "vitest";
import { BackendError, GraphBuilder, Session, Tensor } from "@attn/core";
import { createCpuBackend } from "../src/index.js";
import { backend, expectClose, rand, randTensor, runGraph, runOp, t } from "./helpers.js";

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** Textbook GRU cell on plain arrays: rows of W are gates r, z, n stacked (PyTorch). */
function refCell(x: number[], h: number[], wih: number[][], whh: number[][], bih: number[] | null, bhh: number[] | null): number[] {
  const H = h.length;
  const dot = (w: number[], u: number[]) => w.reduce((s, wi, i) => s + wi * u[i], 0);
  const gi = wih.map((w, g) => dot(w, x) + (bih ? bih[g] : 0));
  const gh = whh.map((w, g) => dot(w, h) + (bhh ? bhh[g] : 0));
  return h.map((hj, j) => {
    const r = sig(gi[j] + gh[j]);
    const z = sig(gi[H + j] + gh[H + j]);
    const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
    return (1 - z) * n + z * hj;
  });
}

interface Dir {
  wih: Tensor;
  whh: Tensor;
  bih: Tensor | null;
  bhh: Tensor | null;
}

function makeDir(r: (lo?: number, hi?: number) => number, H: number, I: number, bias = true): Dir {
  const b = 1 / Math.sqrt(H);
  return {
    wih: randTensor([3 * H, I], r, -b, b),
    whh: randTensor([3 * H, H], r, -b, b),
    bih: bias ? randTensor([3 * H], r, -b, b) : null,
    bhh: bias ? randTensor([3 * H], r, -b, b) : null,
  };
}

function rows(x: Tensor): number[][] {
  return x.toNested() as number[][];
}

/** Reference bidirectional GRU: y [B, S, dirs·H], h_n [dirs, B, H]. */
function refGru(x: Tensor, dirs: Dir[], h0: Tensor | null, H: number): { y: number[]; hn: number[] } {
  const [B, S] = x.shape;
  const xs = x.toNested() as number[][][];
  const y: number[][][] = xs.map(() => Array.from({ length: S }, () => [] as number[]));
  const hn: number[][][] = [];
  dirs.forEach((d, di) => {
    const hs: number[][] = [];
    for (let b = 0; b < B; b++) {
      let h = h0 ? (h0.toNested() as number[][][])[di][b] : new Array<number>(H).fill(0);
      const order = di === 0 ? [...Array(S).keys()] : [...Array(S).keys()].reverse();
      for (const s of order) {
        h = refCell(xs[b][s], h, rows(d.wih), rows(d.whh), d.bih ? Array.from(d.bih.data) : null, d.bhh ? Array.from(d.bhh.data) : null);
        y[b][s].push(...h);
      }
      hs.push(h);
    }
    hn.push(hs);
  });
  return { y: y.flat(2), hn: hn.flat(2) };
}

describe("gru_cell", () => {
  it("matches the textbook equations, with and without biases", async () => {
    const r = rand(21);
    const [B, I, H] = [3, 4, 5];
    for (const bias of [true, false]) {
      const d = makeDir(r, H, I, bias);
      const x = randTensor([B, I], r);
      const h = randTensor([B, H], r);
      const [hp] = await runOp("gru_cell", [x, h, d.wih, d.whh, d.bih, d.bhh]);
      const want = rows(x).flatMap((xr, b) => refCell(xr, rows(h)[b], rows(d.wih), rows(d.whh), d.bih && Array.from(d.bih.data), d.bhh && Array.from(d.bhh.data)));
      expectClose(hp, want, { shape: [B, H] });
    }
  });
  it("hand value: zero weights give h' = ½·h (z = ½, n = 0)", async () => {
    const z = (s: number[]) => Tensor.zeros(s);
    const [hp] = await runOp("gru_cell", [z([1, 2]), t([[2, -4, 6]]), z([9, 2]), z([9, 3])]);
    expect(Array.from(hp.data)).toEqual([1, -2, 3]);
  });
});

describe("gru", () => {
  const r = rand(22);
  const [B, S, I, H] = [2, 5, 3, 4];
  const x = randTensor([B, S, I], r);
  it("unidirectional, zero h0", async () => {
    const d = makeDir(r, H, I);
    const [y, hn] = await runOp("gru", [x, d.wih, d.whh, d.bih, d.bhh], { hidden: H });
    const want = refGru(x, [d], null, H);
    expectClose(y, want.y, { shape: [B, S, H] });
    expectClose(hn, want.hn, { shape: [1, B, H] });
    // h_n is the last step's output
    expect(Array.from(hn.data.slice(0, H))).toEqual(Array.from(y.data.slice((S - 1) * H, S * H)));
  });
  it("bidirectional with h0 and no biases on the reverse direction", async () => {
    const f = makeDir(r, H, I);
    const b = makeDir(r, H, I, false);
    const h0 = randTensor([2, B, H], r);
    const [y, hn] = await runOp("gru", [x, f.wih, f.whh, f.bih, f.bhh, b.wih, b.whh, null, null, h0], { hidden: H, bidirectional: true });
    const want = refGru(x, [f, b], h0, H);
    expectClose(y, want.y, { shape: [B, S, 2 * H] });
    expectClose(hn, want.hn, { shape: [2, B, H] });
    // the reverse direction's final state is its output at t = 0
    expect(Array.from(hn.data.slice(B * H, B * H + H))).toEqual(Array.from(y.data.slice(H, 2 * H)));
  });
  it("rejects reverse weights on a unidirectional GRU", async () => {
    const d = makeDir(r, H, I);
    await expect(runOp("gru", [x, d.wih, d.whh, d.bih, d.bhh, d.wih, d.whh], { hidden: H })).rejects.toThrow(/reverse-direction weights/);
  });
});

describe("scan", () => {
  const r = rand(23);
  const [B, T, I, H] = [2, 6, 3, 4];

  function gruScanGraph() {
    const g = new GraphBuilder("g");
    const xs = g.input("xs", { dtype: "float32", shape: ["B", "T", I] });
    const h0 = g.input("h0", { dtype: "float32", shape: ["B", H] });
    const wih = g.param("cell.weight_ih", { dtype: "float32", shape: [3 * H, I] }, { kind: "zeros" });
    const whh = g.param("cell.weight_hh", { dtype: "float32", shape: [3 * H, H] }, { kind: "zeros" });
    const bih = g.param("cell.bias_ih", { dtype: "float32", shape: [3 * H] }, { kind: "zeros" });
    const bhh = g.param("cell.bias_hh", { dtype: "float32", shape: [3 * H] }, { kind: "zeros" });
    const body = g.subgraph("step");
    const h = body.input("h", { dtype: "float32", shape: ["B", H] });
    const x = body.input("x", { dtype: "float32", shape: ["B", I] });
    const ws = [
      body.input("wih", { dtype: "float32", shape: [3 * H, I] }),
      body.input("whh", { dtype: "float32", shape: [3 * H, H] }),
      body.input("bih", { dtype: "float32", shape: [3 * H] }),
      body.input("bhh", { dtype: "float32", shape: [3 * H] }),
    ];
    const h2 = body.add1("gru_cell", [x, h, ...ws]);
    body.output("h", h2);
    body.output("y", h2);
    body.output("ysum", body.add1("reduce_sum", [h2], { axes: [1] }));
    const [hn, ys, sums] = g.add("scan", [h0, xs, wih, whh, bih, bhh], { body: body.build(), numCarries: 1, numSequences: 1 });
    // the gru op over the same parameters
    const [y2, hn2] = g.add("gru", [xs, wih, whh, bih, bhh, null, null, null, null, g.add1("unsqueeze", [h0], { axes: [0] })], { hidden: H });
    g.output("hn", hn);
    g.output("ys", ys);
    g.output("sums", sums);
    g.output("gru_y", y2);
    g.output("gru_hn", hn2);
    return g.build();
  }

  for (const kernels of ["js", "wasm-simd"] as const) {
    it(`scan over gru_cell matches the gru op with the same weights (${kernels} kernels)`, async () => {
      const g = gruScanGraph();
      const d = makeDir(r, H, I);
      const params = new Map([
        ["cell.weight_ih", d.wih],
        ["cell.weight_hh", d.whh],
        ["cell.bias_ih", d.bih!],
        ["cell.bias_hh", d.bhh!],
      ]);
      const xs = randTensor([B, T, I], r);
      const h0 = randTensor([B, H], r);
      const res = await runGraph(g, { xs, h0 }, params, createCpuBackend({ kernels }));
      expect([...res.ys.shape]).toEqual([B, T, H]);
      expect([...res.hn.shape]).toEqual([B, H]);
      expect([...res.sums.shape]).toEqual([B, T]);
      // bitwise: both run the same float32 recurrence
      expect(Array.from(res.ys.data)).toEqual(Array.from(res.gru_y.data));
      expect(Array.from(res.hn.data)).toEqual(Array.from(res.gru_hn.data));
      const want = refGru(xs, [d], new Tensor("float32", [1, B, H], h0.data), H);
      expectClose(res.ys, want.y);
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < T; s++) {
          const row = Array.from(res.ys.data.slice((b * T + s) * H, (b * T + s + 1) * H));
          expect(res.sums.data[b * T + s]).toBeCloseTo(row.reduce((a, c) => a + c, 0), 5);
        }
      }
    });
  }

  it("runs through a Session and on a zero-length sequence returns the initial carry", async () => {
    const g = gruScanGraph();
    const s = await Session.create(g, backend, { seed: 3 });
    const h0 = randTensor([B, H], r);
    const res = await s.run({ xs: Tensor.zeros([B, 0, I]), h0 }, { outputs: ["hn", "ys"] });
    expect(Object.keys(res).sort()).toEqual(["hn", "ys"]);
    expect(Array.from(res.hn.data)).toEqual(Array.from(h0.data));
    expect([...res.ys.shape]).toEqual([B, 0, H]);
  });

  it("a scan without sequences uses its length; scalar per-step outputs stack to [T]", async () => {
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
    g.output("final", final);
    g.output("sq", sq);
    const res = await runGraph(g.build(), { c0: Tensor.scalar(1), step: Tensor.scalar(2) });
    expect(Array.from(res.final.data)).toEqual([9]);
    expect([...res.sq.shape]).toEqual([4]);
    expect(Array.from(res.sq.data)).toEqual([9, 25, 49, 81]);
  });

  it("two sequences, int32 carries, and an error inside the body names the body node", async () => {
    const g = new GraphBuilder("emb");
    const ids = g.input("ids", { dtype: "int32", shape: ["B", "T"] });
    const scale = g.input("scale", { dtype: "float32", shape: ["B", "T", 1] });
    const table = g.param("table", { dtype: "float32", shape: [5, 2] }, { kind: "zeros" });
    const n0 = g.input("n0", { dtype: "int32", shape: [] });
    const body = g.subgraph("body");
    const n = body.input("n", { dtype: "int32", shape: [] });
    const id = body.input("id", { dtype: "int32", shape: ["B"] });
    const sc = body.input("sc", { dtype: "float32", shape: ["B", 1] });
    const tb = body.input("tb", { dtype: "float32", shape: [5, 2] });
    const one = body.add1("constant", [], { value: { dtype: "int32", shape: [], data: [1] } });
    const bodySpan = { file: "emb.attn", line: 4, column: 9, length: 5 };
    const e = body.add1("embedding", [tb, id], {}, { span: bodySpan, name: "emb" });
    body.output("n", body.add1("add", [n, one]));
    body.output("e", body.add1("mul", [e, sc]));
    const [count, es] = g.add("scan", [n0, ids, scale, table], { body: body.build(), numCarries: 1, numSequences: 2 }, { span: { file: "emb.attn", line: 2, column: 1, length: 4 } });
    g.output("count", count);
    g.output("es", es);
    const graph = g.build();
    const tableV = Tensor.from([0, 1, 10, 11, 20, 21, 30, 31, 40, 41], { shape: [5, 2] });
    const params = new Map([["table", tableV]]);
    const feeds = {
      ids: Tensor.from([[1, 4, 0], [2, 2, 3]], { dtype: "int32" }),
      scale: Tensor.from([1, 2, 3, -1, 1, 0.5], { shape: [2, 3, 1] }),
      n0: Tensor.scalar(0, "int32"),
    };
    const res = await runGraph(graph, feeds, params);
    expect(Array.from(res.count.data)).toEqual([3]);
    expect([...res.es.shape]).toEqual([2, 3, 2]);
    expect(Array.from(res.es.data)).toEqual([10, 11, 80, 82, 0, 3, -20, -21, 20, 21, 15, 15.5]);
    const bad = { ...feeds, ids: Tensor.from([[1, 4, 0], [2, 9, 3]], { dtype: "int32" }) };
    const err = await runGraph(graph, bad, params).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).span).toEqual(bodySpan);
    expect((err as Error).message).toMatch(/emb\.attn:4:9: embedding: index 9 at position \[1\] of "id" is out of range \[0, 5\)/);
  });
});
