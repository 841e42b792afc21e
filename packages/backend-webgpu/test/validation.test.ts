import { describe, expect, it } from "vitest";
import { BackendError, GraphBuilder, Tensor, bindParams, type Attrs, type Backend, type Graph, type SourceSpan } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { compileSource } from "@attn/dsl";
import { createWebGpuBackend } from "../src/index.js";
import { requireWebGpu } from "./helpers.js";

/**
 * Data-dependent input errors: every bad value the cpu backend rejects (embedding indices, cross-entropy
 * targets, BCE probabilities, optimizer step and rate, int32 divisors) fails the WebGPU run too, with the
 * same message, through the device-side status channel; also inside a scan body and at a `.attn` span.
 * Failing runs hand every buffer back to the pool and leave the parameters untouched. Shapes are tiny:
 * SwiftShader is slow.
 */

const f32 = (shape: number[], data: number[]) => new Tensor("float32", shape, Float32Array.from(data));
const i32 = (shape: number[], data: number[]) => new Tensor("int32", shape, Int32Array.from(data));
const scalar = (v: number) => f32([], [v]);

/** One node of `op` on inputs named `names` (default in0, in1, …), its outputs out0, out1, …. */
function opGraph(op: string, inputs: readonly Tensor[], attrs: Attrs = {}, names?: readonly string[], span?: SourceSpan): Graph {
  const b = new GraphBuilder(op);
  const ids = inputs.map((t, i) => b.input(names?.[i] ?? `in${i}`, { dtype: t.dtype, shape: [...t.shape] }));
  b.add(op, ids, attrs, { span }).forEach((id, i) => b.output(`out${i}`, id));
  return b.build();
}

const feedsOf = (inputs: readonly Tensor[], names?: readonly string[]) => Object.fromEntries(inputs.map((t, i) => [names?.[i] ?? `in${i}`, t]));

const cpu = createCpuBackend();
const gpu = createWebGpuBackend();

async function runOn(backend: Backend, g: Graph, feeds: Record<string, Tensor>, params = new Map<string, Tensor>()): Promise<Record<string, Tensor>> {
  const exe = await backend.compile(g, { params });
  try {
    return await exe.run(feeds);
  } finally {
    exe.dispose();
  }
}

/** The error a run throws (fails the test when it does not throw). */
async function errorOf(run: Promise<unknown>): Promise<Error> {
  try {
    await run;
  } catch (e) {
    return e as Error;
  }
  return expect.fail("the run did not throw");
}

/** Both backends reject the run with a BackendError; the WebGPU message is the cpu's, which contains `phrase`. */
async function bothReject(g: Graph, feeds: Record<string, Tensor>, phrase: string | RegExp, params = new Map<string, Tensor>()): Promise<Error> {
  const want = await errorOf(runOn(cpu, g, feeds, params));
  expect(want).toBeInstanceOf(BackendError);
  expect(want.message).toMatch(phrase);
  const got = await errorOf(runOn(gpu, g, feeds, params));
  expect(got).toBeInstanceOf(BackendError);
  expect(got.message).toBe(want.message);
  return got;
}

/** Both backends accept the run and agree within `tol`. */
async function bothAccept(g: Graph, feeds: Record<string, Tensor>, tol = 1e-5): Promise<void> {
  const want = await runOn(cpu, g, feeds);
  const got = await runOn(gpu, g, feeds);
  for (const [k, w] of Object.entries(want)) {
    expect(got[k].shape, k).toEqual(w.shape);
    for (let i = 0; i < w.size; i++) {
      const a = got[k].data[i];
      const b = w.data[i];
      if (!(Object.is(a, b) || Math.abs(a - b) <= tol + tol * Math.abs(b))) expect.fail(`${k}[${i}]: got ${a}, want ${b}`);
    }
  }
}

if (await requireWebGpu("webgpu data checks")) {
  describe("bad input values fail the run with the cpu backend's message", () => {
    const w = f32([4, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

    it("embedding: an index past the vocabulary, a negative one; the first offending position is named", async () => {
      const names = ["table", "ids"];
      const big = i32([2, 3], [1, 2, 3, 0, 7, 9]);
      const e = await bothReject(opGraph("embedding", [w, big], {}, names), feedsOf([w, big], names), /index 7 at position \[1, 1\] of "ids" is out of range \[0, 4\) for weight "table"/);
      expect(e.message).toMatch(/^embedding: /);
      const neg = i32([3], [0, -1, 2]);
      await bothReject(opGraph("embedding", [w, neg]), feedsOf([w, neg]), /index -1 at position \[1\]/);
    });

    it("embedding_grad: an index out of range", async () => {
      const idx = i32([2], [3, 4]);
      const dy = f32([2, 3], [1, 2, 3, 4, 5, 6]);
      await bothReject(opGraph("embedding_grad", [w, idx, dy]), feedsOf([w, idx, dy]), /^embedding_grad: index 4 at position \[1\] of "in1" is out of range \[0, 4\)$/);
    });

    it("cross_entropy and its gradient: a target out of range that is not ignore_index", async () => {
      const logits = f32([3, 4], [0.1, 0.2, 0.3, 0.4, 1, 2, 3, 4, -1, 0, 1, 2]);
      const target = i32([3], [1, -100, 4]);
      for (const reduction of ["mean", "sum", "none"]) {
        await bothReject(opGraph("cross_entropy", [logits, target], { reduction }), feedsOf([logits, target]), /target 4 at position \[2\] of "in1" is out of range \[0, 4\) \(and is not ignore_index -100\)/);
      }
      const dy = scalar(1);
      await bothReject(opGraph("cross_entropy_grad", [logits, target, dy]), feedsOf([logits, target, dy]), /^cross_entropy_grad: target 4/);
      // -1 is out of range unless it is the ignore_index
      const minus = i32([3], [-1, 0, 1]);
      await bothReject(opGraph("cross_entropy", [logits, minus]), feedsOf([logits, minus]), /target -1 at position \[0\]/);
      await bothAccept(opGraph("cross_entropy", [logits, minus], { ignore_index: -1 }), feedsOf([logits, minus]));
    });

    it("binary_cross_entropy and its gradient: a prediction outside [0, 1] or NaN", async () => {
      const t = f32([2, 2], [0, 1, 1, 0]);
      for (const [bad, shown] of [[1.5, "1.5"], [-0.25, "-0.25"], [NaN, "NaN"]] as const) {
        const p = f32([2, 2], [0.5, 0.25, bad, 0.75]);
        await bothReject(opGraph("binary_cross_entropy", [p, t]), feedsOf([p, t]), `must be a probability in [0, 1], got ${shown} at position [1, 0]`);
      }
      const p = f32([2, 2], [0.5, 2, 0.1, 0.2]);
      await bothReject(opGraph("binary_cross_entropy_grad", [p, t, scalar(1)]), feedsOf([p, t, scalar(1)]), /^binary_cross_entropy_grad: every element of "in0"/);
      // 0 and 1 themselves are probabilities; the logits form takes anything
      const edge = f32([2, 2], [0, 1, 1, 0]);
      await bothAccept(opGraph("binary_cross_entropy", [edge, t], { reduction: "sum" }), feedsOf([edge, t]));
      await bothAccept(opGraph("binary_cross_entropy_with_logits", [f32([2, 2], [-3, 7, 1.5, 0]), t]), feedsOf([f32([2, 2], [-3, 7, 1.5, 0]), t]));
    });

    it("sgd_update and adam_update: a step that is not an integer ≥ 0, a learning rate that is not finite", async () => {
      const v = f32([3], [1, 2, 3]);
      const names = ["param", "grad", "buf", "step", "lr"];
      for (const [step, lr, phrase] of [
        [1.5, 0.1, '"step" must hold the number of steps already taken (an integer ≥ 0), got 1.5'],
        [-1, 0.1, "got -1"],
        [NaN, 0.1, "got NaN"],
        [2, Infinity, 'the learning rate "lr" is Infinity'],
        [2, NaN, 'the learning rate "lr" is NaN'],
      ] as const) {
        const ins = [v, v, v, scalar(step), scalar(lr)];
        const sgd = await bothReject(opGraph("sgd_update", ins, { momentum: 0.9 }, names), feedsOf(ins, names), phrase);
        expect(sgd.message).toMatch(/^sgd_update: /);
        const adamNames = ["param", "grad", "m", "v", "step", "lr"];
        const adam = [v, v, v, v, scalar(step), scalar(lr)];
        const e = await bothReject(opGraph("adam_update", adam, {}, adamNames), feedsOf(adam, adamNames), phrase);
        expect(e.message).toMatch(/^adam_update: /);
      }
      // AMSGrad binds the most buffers; its check still runs
      const ams = [v, v, v, v, scalar(0.5), scalar(0.1), v];
      await bothReject(opGraph("adam_update", ams, { amsgrad: true }), feedsOf(ams), "adam_update: \"in4\" must hold");
      const ok = [v, v, v, v, scalar(0), scalar(0.1)];
      await bothAccept(opGraph("adam_update", ok), feedsOf(ok));
    });

    it("int32 division by zero, broadcast divisor included; float32 division by zero stays IEEE", async () => {
      const a = i32([2, 3], [1, 2, 3, 4, 5, 6]);
      for (const b of [i32([2, 3], [1, 1, 1, 1, 0, 1]), i32([3], [2, 0, 1]), i32([], [0])]) {
        await bothReject(opGraph("div", [a, b]), feedsOf([a, b]), 'div: int32 division by zero (divisor "in1" has a zero element)');
      }
      await bothAccept(opGraph("div", [a, i32([3], [2, -3, 1])]), feedsOf([a, i32([3], [2, -3, 1])]));
      await bothAccept(opGraph("div", [f32([2], [1, -1]), f32([2], [0, 0])]), feedsOf([f32([2], [1, -1]), f32([2], [0, 0])]));
    });

    it("several bad nodes: the one the cpu backend meets first is reported", async () => {
      const b = new GraphBuilder("two");
      const x = b.input("x", { dtype: "int32", shape: [3] });
      const y = b.input("y", { dtype: "int32", shape: [3] });
      const table = b.input("table", { dtype: "float32", shape: [4, 3] });
      const q = b.add1("div", [x, y]);
      b.output("e", b.add1("embedding", [table, q]));
      const g = b.build();
      await bothReject(g, { x: i32([3], [9, 8, 7]), y: i32([3], [1, 1, 0]), table: w }, "int32 division by zero");
      await bothReject(g, { x: i32([3], [9, 8, 7]), y: i32([3], [1, 1, 1]), table: w }, "embedding: index 9 at position [0]");
    });
  });

  describe("inside a scan body", () => {
    /** ys[:, t] = table[ids[:, t]] + h, h accumulating: the body's embedding runs once per step. */
    function scanned(span?: SourceSpan, reverse = false): Graph {
      const b = new GraphBuilder("scanned");
      const h0 = b.input("h0", { dtype: "float32", shape: [2, 3] });
      const ids = b.input("ids", { dtype: "int32", shape: [2, 4] });
      const table = b.input("table", { dtype: "float32", shape: [4, 3] });
      const s = b.subgraph("step");
      const h = s.input("h", { dtype: "float32", shape: [2, 3] });
      const id = s.input("id", { dtype: "int32", shape: [2] });
      const tb = s.input("table", { dtype: "float32", shape: [4, 3] });
      const hn = s.add1("add", [h, s.add1("embedding", [tb, id], {}, { span })]);
      s.output("h", hn);
      s.output("ys", hn);
      const [hLast, ys] = b.add("scan", [h0, ids, table], { body: s.build(), numCarries: 1, numSequences: 1, reverse });
      b.output("h", hLast);
      b.output("ys", ys);
      return b.build();
    }
    const feeds = (ids: number[]) => ({
      h0: f32([2, 3], [0, 0, 0, 1, 1, 1]),
      ids: i32([2, 4], ids),
      table: f32([4, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    });

    it("a bad index at step 2 fails the run; the first failing step is reported, through the scan", async () => {
      // row 0: 0 1 5 9 (5 at step 2, 9 at step 3); row 1: 1 2 3 8 (8 at step 3)
      const e = await bothReject(scanned(), feeds([0, 1, 5, 9, 1, 2, 3, 8]), "index 5 at position [0] of \"id\" is out of range [0, 4)");
      expect(e.message).toMatch(/^scan: embedding: /);
      await bothAccept(scanned(), feeds([0, 1, 2, 3, 3, 2, 1, 0]));
    });

    it("reverse: the step executed first (the last one) is the one reported", async () => {
      await bothReject(scanned(undefined, true), feeds([0, 1, 5, 9, 1, 2, 3, 8]), "index 9 at position [0] of \"id\"");
    });

    it("nested scans: a check in the inner body keeps one slot per enclosing path", async () => {
      const b = new GraphBuilder("nested");
      const h0 = b.input("h0", { dtype: "float32", shape: [1, 3] });
      const ids = b.input("ids", { dtype: "int32", shape: [1, 2, 3] });
      const table = b.input("table", { dtype: "float32", shape: [4, 3] });
      const inner = b.subgraph("inner");
      const ih = inner.input("h", { dtype: "float32", shape: [1, 3] });
      const iid = inner.input("id", { dtype: "int32", shape: [1] });
      const itb = inner.input("table", { dtype: "float32", shape: [4, 3] });
      const ihn = inner.add1("add", [ih, inner.add1("embedding", [itb, iid])]);
      inner.output("h", ihn);
      const outer = b.subgraph("outer");
      const oh = outer.input("h", { dtype: "float32", shape: [1, 3] });
      const oids = outer.input("ids", { dtype: "int32", shape: [1, 3] });
      const otb = outer.input("table", { dtype: "float32", shape: [4, 3] });
      const [ohn] = outer.add("scan", [oh, oids, otb], { body: inner.build(), numCarries: 1, numSequences: 1 });
      outer.output("h", ohn);
      outer.output("hs", ohn);
      const [hLast, hs] = b.add("scan", [h0, ids, table], { body: outer.build(), numCarries: 1, numSequences: 1 });
      b.output("h", hLast);
      b.output("hs", hs);
      const g = b.build();
      const feeds = (d: number[]) => ({ h0: f32([1, 3], [0, 0, 0]), ids: i32([1, 2, 3], d), table: f32([4, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) });
      const e = await bothReject(g, feeds([0, 1, 2, 3, 7, 1]), "index 7 at position [0]");
      expect(e.message).toMatch(/^scan: embedding: /);
      await bothAccept(g, feeds([0, 1, 2, 3, 2, 1]));
    });

    it("a body node with a span is reported at its span", async () => {
      const span = { file: "body.attn", line: 7, column: 9, length: 9 };
      const e = await bothReject(scanned(span), feeds([0, 1, 2, 3, 3, 2, 1, 4]), "index 4 at position [1]");
      expect(e.message).toMatch(/^body\.attn:7:9: embedding: /);
      expect((e as BackendError).span).toEqual(span);
    });
  });

  describe("a model compiled from .attn source", () => {
    const SOURCE = `model Steps(vocab = 4, d = 3) {
  input ids: int32[B, T]
  input h0: float32[B, d]
  output ys: float32[B, T, d]
  output logits: float32[B, T, d]

  logits = embedding(ids, vocab: vocab, dim: d) as embed
  ys, h_last = scan (i over ids, h = h0) {
    h = h + embedding(i, vocab: vocab, dim: d) as inner
    yield h
  }
}
`;
    it("points at the source line of the embedding that failed (top level and scan body)", async () => {
      const { graph, diagnostics } = await compileSource(SOURCE, { file: "steps.attn" });
      expect(graph, diagnostics.map((d) => d.message).join("\n")).toBeDefined();
      const params = bindParams(graph!, undefined, { seed: 3 });
      const h0 = f32([1, 3], [0, 0, 0]);
      const top = await bothReject(graph!, { ids: i32([1, 3], [0, 6, 1]), h0 }, /^steps\.attn:7:\d+: embedding: index 6 at position \[0, 1\] of "ids" is out of range \[0, 4\)/, params);
      expect((top as BackendError).span?.line).toBe(7);
      // ys only: the top-level embedding is not scheduled, the scan body's is (and fails at step 1)
      const run = async (b: Backend) => {
        const exe = await b.compile(graph!, { params });
        try {
          return await exe.run({ ids: i32([1, 3], [0, 6, 1]), h0 }, { outputs: ["ys"] });
        } finally {
          exe.dispose();
        }
      };
      const want = await errorOf(run(cpu));
      const got = await errorOf(run(gpu));
      expect(want.message).toMatch(/^steps\.attn:9:\d+: embedding: index 6 at position \[0\] of "i" is out of range \[0, 4\)/);
      expect(got).toBeInstanceOf(BackendError);
      expect(got.message).toBe(want.message);
    });
  });

  describe("failing runs leave the executable clean", () => {
    it("the pool returns to its after-compile use after a failed run, and a valid run follows", async () => {
      const w = f32([4, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const b = new GraphBuilder("pooled");
      const ids = b.input("ids", { dtype: "int32", shape: [2, 3] });
      const table = b.param("table", { dtype: "float32", shape: [4, 3] }, { kind: "zeros" });
      const e = b.add1("embedding", [table, ids]);
      b.output("y", b.add1("tanh", [b.add1("mul", [e, e])]));
      const exe = await gpu.compile(b.build(), { params: new Map([["table", w]]) });
      try {
        const base = exe.memory();
        const good = i32([2, 3], [0, 1, 2, 3, 2, 1]);
        const bad = i32([2, 3], [0, 1, 2, 3, 4, 1]);
        const first = await exe.run({ ids: good });
        await expect(exe.run({ ids: bad })).rejects.toThrow(/embedding: index 4 at position \[1, 1\]/);
        expect(exe.memory().bytesInUse).toBe(base.bytesInUse);
        const warm = exe.memory();
        for (let k = 0; k < 3; k++) {
          await expect(exe.run({ ids: bad })).rejects.toThrow(BackendError);
          const again = await exe.run({ ids: good });
          expect(Array.from(again.y.data)).toEqual(Array.from(first.y.data));
        }
        // nothing leaked and nothing new was needed: the failing runs reused the same buffers
        expect(exe.memory()).toEqual(warm);
      } finally {
        exe.dispose();
      }
    });

    it("a run that throws while recording hands its intermediates back", async () => {
      const b = new GraphBuilder("deep");
      const shape = [1, 1, 1, 1, 1, 1, 1, 1, 2];
      const x = b.input("x", { dtype: "float32", shape });
      const y = b.add1("neg", [x]);
      b.output("y", b.add1("add", [y, b.add1("exp", [y])]));
      const exe = await gpu.compile(b.build(), { params: new Map() });
      try {
        const base = exe.memory();
        for (let k = 0; k < 2; k++) {
          await expect(exe.run({ x: f32(shape, [1, 2]) })).rejects.toThrow(/rank 9/);
          expect(exe.memory().bytesInUse).toBe(base.bytesInUse);
        }
      } finally {
        exe.dispose();
      }
    });

    it("a failing optimizer step leaves the parameters and their state as they were", async () => {
      const b = new GraphBuilder("train");
      const grad = b.input("grad", { dtype: "float32", shape: [3] });
      const lr = b.input("lr", { dtype: "float32", shape: [] });
      const p = b.param("p", { dtype: "float32", shape: [3] }, { kind: "zeros" });
      const buf = b.param("buf", { dtype: "float32", shape: [3] }, { kind: "zeros" }, undefined, "state");
      const step = b.param("step", { dtype: "float32", shape: [] }, { kind: "zeros" }, undefined, "state");
      const [p1, buf1] = b.add("sgd_update", [p, grad, buf, step, lr], { momentum: 0.5 });
      b.update("p", p1);
      b.update("buf", buf1);
      b.update("step", b.add1("add", [step, b.add1("constant", [], { value: { dtype: "float32", shape: [], data: [1] } })]));
      b.output("p_new", p1);
      const params = new Map([["p", f32([3], [1, 2, 3])], ["buf", f32([3], [0, 0, 0])], ["step", scalar(0)]]);
      const exe = await gpu.compile(b.build(), { params });
      try {
        const g = f32([3], [1, 1, 1]);
        await exe.run({ grad: g, lr: scalar(0.5) });
        const before = await exe.readParams();
        await expect(exe.run({ grad: g, lr: scalar(NaN) })).rejects.toThrow('sgd_update: the learning rate "lr" is NaN');
        const after = await exe.readParams();
        for (const [k, t] of before) expect(Array.from(after.get(k)!.data), k).toEqual(Array.from(t.data));
        const next = await exe.run({ grad: g, lr: scalar(0.5) });
        // step 1 with momentum: buf = 0.5·1 + 1 = 1.5, p = 0.5 − 0.5·1.5
        expect(Array.from(next.p_new.data)).toEqual([-0.25, 0.75, 1.75]);
      } finally {
        exe.dispose();
      }
    });
  });
}
