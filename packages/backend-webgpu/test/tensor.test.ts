import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, type Attrs, type Graph } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { createWebGpuBackend } from "../src/index.js";
import { requireWebGpu, values } from "./helpers.js";

/**
 * Edges of the tensor family the conformance fixtures do not reach: int32 / bool data, long axes (the
 * workgroup-tree reductions), more than 65535 workgroups, non-last and non-adjacent axes, NaN and empty
 * reductions, negative slice steps, long positional tables, and embedding_grad's determinism. The cpu
 * backend is the reference.
 */

const count = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
const f32 = (shape: number[], seed: number, lo?: number, hi?: number) => new Tensor("float32", shape, values(count(shape), seed, lo, hi));
const i32 = (shape: number[], seed: number, lo: number, hi: number) => new Tensor("int32", shape, Int32Array.from(values(count(shape), seed, lo, hi), Math.floor));
const bool = (shape: number[], seed: number) => new Tensor("bool", shape, Uint8Array.from(values(count(shape), seed, 0, 2), Math.floor));

function graph(op: string, inputs: readonly Tensor[], attrs: Attrs, outputs = 1): Graph {
  const b = new GraphBuilder(op);
  const ids = inputs.map((t, i) => b.input(`in${i}`, { dtype: t.dtype, shape: [...t.shape] }));
  const outs = b.add(op, ids, attrs);
  for (let i = 0; i < outputs; i++) b.output(`out${i}`, outs[i]);
  return b.build();
}

const cpu = createCpuBackend();
const gpu = createWebGpuBackend();

async function runOn(backend: typeof cpu | typeof gpu, g: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const exe = await backend.compile(g, { params: new Map() });
  try {
    return await exe.run(feeds);
  } finally {
    exe.dispose?.();
  }
}

/** One op on both backends; int32 / bool and non-finite values must match exactly. */
async function agree(op: string, inputs: readonly Tensor[], attrs: Attrs = {}, opts: { tol?: number; outputs?: number } = {}): Promise<Record<string, Tensor>> {
  const tol = opts.tol ?? 1e-5;
  const g = graph(op, inputs, attrs, opts.outputs);
  const feeds = Object.fromEntries(inputs.map((t, i) => [`in${i}`, t]));
  const want = await runOn(cpu, g, feeds);
  const got = await runOn(gpu, g, feeds);
  for (const name of Object.keys(want)) {
    const w = want[name];
    const v = got[name];
    expect(v.dtype, `${op} ${name} dtype`).toBe(w.dtype);
    expect(v.shape, `${op} ${name} shape`).toEqual(w.shape);
    // one expect per tensor, not per element: the big cases have millions of elements
    const bad: string[] = [];
    for (let i = 0; i < w.size && bad.length < 5; i++) {
      const a = w.data[i];
      const b = v.data[i];
      const ok = w.dtype !== "float32" || !Number.isFinite(a) ? Object.is(a, b) || (a === 0 && b === 0) : Math.abs(b - a) <= tol + tol * Math.abs(a);
      if (!ok) bad.push(`[${i}] got ${b}, want ${a}`);
    }
    expect(bad, `${op} ${name}`).toEqual([]);
  }
  return got;
}

const special = () => new Tensor("float32", [12], new Float32Array([NaN, Infinity, -Infinity, 0, -0, 2.5, -2.5, 3e9, -3e9, 2147483520, -2147483648, 0.75]));

if (await requireWebGpu("webgpu tensor kernels")) {
  describe("cast", () => {
    it("between every pair of float32, int32 and bool, with NaN, ±inf and out-of-range values", async () => {
      const sources = [special(), i32([3, 5], 1, -1000, 1000), bool([4, 3], 2)];
      for (const x of sources) for (const to of ["float32", "int32", "bool"]) await agree("cast", [x], { to });
    });
    it("covers more than 65535 workgroups", () => agree("cast", [f32([65536 * 64 + 7], 3, -1e4, 1e4)], { to: "int32" }), 60_000);
  });

  describe("layout of every dtype", () => {
    const xs = () => [f32([3, 4, 5], 4), i32([3, 4, 5], 5, -50, 50), bool([3, 4, 5], 6)];
    it("concat and split along a middle axis", async () => {
      for (const x of xs()) {
        await agree("concat", [x, x, x], { axis: 1 });
        await agree("split", [x], { axis: 1, sizes: [1, 0, 3] }, { outputs: 3 });
      }
    });
    it("slice with negative steps and clamped bounds, and select", async () => {
      for (const x of xs()) {
        await agree("slice", [x], { axis: 2, start: -1, end: null, step: -2 });
        await agree("slice", [x], { axis: 0, start: 5, end: -10, step: -1 });
        await agree("slice", [x], { axis: 1, start: 1, end: 100, step: 2 });
        await agree("select", [x], { axis: 1, index: -1 });
      }
    });
    it("pad on each side of a non-last axis", async () => {
      for (const x of xs()) await agree("pad", [x], { axis: 1, before: 2, after: 3 });
    });
    it("zeros_like over stale pooled buffers", async () => {
      for (const x of xs()) await agree("zeros_like", [x]);
    });
  });

  describe("reductions", () => {
    it("short and long rows, non-adjacent axes, keepdims", async () => {
      const x = f32([3, 4, 5, 6], 7);
      for (const op of ["reduce_sum", "reduce_mean", "reduce_max"]) {
        await agree(op, [x], { axes: [0, 2], keepdims: false });
        await agree(op, [x], { axes: [1, 3], keepdims: true });
        await agree(op, [x], { axes: [0, 1, 2, 3], keepdims: false });
        await agree(op, [f32([5, 3000], 8)], { axes: [1] }, { tol: 2e-5 });
        await agree(op, [f32([700, 2, 3], 9)], { axes: [0, 2] }, { tol: 2e-5 });
      }
    });
    it("a long sum of one sign stays accurate (compensated per thread, tree across threads)", () =>
      agree("reduce_sum", [f32([1, 200000], 10, 0, 1)], { axes: [1] }));
    it("NaN propagates through reduce_max, and empty reductions give 0, NaN and −inf", async () => {
      const x = f32([4, 100], 11);
      (x.data as Float32Array)[150] = NaN;
      (x.data as Float32Array)[3] = NaN;
      await agree("reduce_max", [x], { axes: [1] });
      await agree("reduce_max", [new Tensor("float32", [2, 3], new Float32Array(6).fill(-Infinity))], { axes: [1] });
      for (const op of ["reduce_sum", "reduce_mean", "reduce_max"]) await agree(op, [new Tensor("float32", [3, 0], new Float32Array(0))], { axes: [1] });
    });
    it("packs many rows per workgroup (every segment width)", async () => {
      await agree("reduce_sum", [f32([8000, 65], 12)], { axes: [1] });
      for (const L of [100, 300, 700, 2000]) await agree("reduce_mean", [f32([37, L], L)], { axes: [1] }, { tol: 2e-5 });
      await agree("argmax", [f32([5000, 90], 21)], { axis: 1 });
    }, 60_000);
  });

  describe("argmax", () => {
    it("first maximum on ties and first NaN, short and long axes, non-last axis", async () => {
      const ties = new Tensor("float32", [3, 4], new Float32Array([1, 3, 3, 0, NaN, 1, NaN, 2, -Infinity, -Infinity, -Infinity, -Infinity]));
      await agree("argmax", [ties], { axis: -1 });
      const long = new Tensor("float32", [3, 1000], values(3000, 13).map((v) => Math.round(v)));
      (long.data as Float32Array)[1000 + 777] = NaN;
      (long.data as Float32Array)[1000 + 900] = NaN;
      await agree("argmax", [long], { axis: 1 });
      await agree("argmax", [long], { axis: 0, keepdims: true });
      await agree("argmax", [f32([4, 300, 5], 14)], { axis: 1 });
    });
  });

  describe("embedding", () => {
    it("an out-of-range index fails the run (the status channel; more in validation.test.ts)", async () => {
      const w = f32([4, 3], 15);
      const idx = new Tensor("int32", [3], new Int32Array([1, 7, -1]));
      await expect(runOn(gpu, graph("embedding", [w, idx], {}), { in0: w, in1: idx })).rejects.toThrow(
        'embedding: index 7 at position [1] of "in1" is out of range [0, 4) for weight "in0" [4, 3]',
      );
    });
    it("embedding_grad: long runs of repeated indices, unused rows, deterministic bits", async () => {
      const V = 9;
      const D = 5;
      const idx = i32([40, 75], 16, 0, 4); // rows 0..3 only, ~750 repeats each
      const w = f32([V, D], 17);
      const dy = f32([40, 75, D], 18);
      const first = await agree("embedding_grad", [w, idx, dy], {}, { tol: 1e-5 });
      const again = await runOn(gpu, graph("embedding_grad", [w, idx, dy], {}), { in0: w, in1: idx, in2: dy });
      expect(new Uint32Array((again.out0.data as Float32Array).buffer)).toEqual(new Uint32Array((first.out0.data as Float32Array).buffer));
      expect([...again.out0.data.slice(4 * D)].every((v) => v === 0)).toBe(true);
    });
  });

  describe("elementwise helpers", () => {
    it("erf across its branches, sign with NaN and ±0", async () => {
      await agree("erf", [f32([2000], 19, -6, 6)], {}, { tol: 2e-7 });
      await agree("erf", [new Tensor("float32", [6], new Float32Array([1e-8, -1e-6, 0.4999, 0.5, NaN, Infinity]))], {}, { tol: 2e-7 });
      await agree("sign", [special()]);
    });
    it("positional_encoding stays exact for long sequences", () => agree("positional_encoding", [f32([2, 3000, 12], 20)]));
  });
}
