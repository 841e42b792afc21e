import { afterAll, describe, expect, it } from "vitest";
import { ALL_OPS, GraphBuilder, Tensor, defineOp, hasOp, registerOp, type Attrs, type Graph } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { createWebGpuBackend, getKernel, type WebGpuExecutable } from "../src/index.js";
import { requireWebGpu, values } from "./helpers.js";


const f32 = (shape: number[], seed: number, lo?: number, hi?: number) => new Tensor("float32", shape, values(shape.reduce((p, d) => p * d, 1), seed, lo, hi));

function opGraph(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Graph {
  const b = new GraphBuilder(op);
  const ids = inputs.map((t, i) => b.input(`in${i}`, { dtype: t.dtype, shape: [...t.shape] }));
  b.add(op, ids, attrs).forEach((id, i) => b.output(`out${i}`, id));
  return b.build();
}

const cpu = createCpuBackend();
const gpu = createWebGpuBackend();

/** Runs one op on the cpu backend and on WebGPU and compares (exact for int32 and bool). */
async function agree(op: string, inputs: readonly Tensor[], attrs: Attrs = {}, tol = 1e-5): Promise<void> {
  const g = opGraph(op, inputs, attrs);
  const feeds = Object.fromEntries(inputs.map((t, i) => [`in${i}`, t]));
  const want = (await (await cpu.compile(g, { params: new Map() })).run(feeds)).out0;
  const exe = await gpu.compile(g, { params: new Map() });
  const got = (await exe.run(feeds)).out0;
  exe.dispose();
  expect(got.dtype).toBe(want.dtype);
  expect(got.shape).toEqual(want.shape);
  const exact = want.dtype !== "float32";
  for (let i = 0; i < want.size; i++) {
    const w = want.data[i];
    const v = got.data[i];
    if (exact || !Number.isFinite(w)) expect(v, `${op} element ${i}`).toBe(w);
    else expect(Math.abs(v - w), `${op} element ${i}: got ${v}, want ${w}`).toBeLessThanOrEqual(tol + tol * Math.abs(w));
  }
}

if (await requireWebGpu("webgpu kernels")) {
  describe("unary kernels match the cpu backend", () => {
    for (const op of ["relu", "tanh", "sigmoid", "exp", "neg", "abs", "silu"]) {
      it(op, () => agree(op, [f32([3, 37], 1)]));
    }
    it("log and sqrt (positive inputs)", async () => {
      await agree("log", [f32([5, 7], 2, 0.01, 10)]);
      await agree("sqrt", [f32([5, 7], 3, 0, 10)]);
    });
    it("gelu, exact (erf approximation) and tanh", async () => {
      await agree("gelu", [f32([4, 50], 4, -6, 6)], {}, 2e-6);
      await agree("gelu", [f32([4, 50], 5, -6, 6)], { approximate: "tanh" }, 2e-6);
    });
    it("logical_not on bool", () => agree("logical_not", [new Tensor("bool", [5], new Uint8Array([0, 1, 1, 0, 1]))]));
  });

  describe("binary kernels broadcast like NumPy", () => {
    const shapes: [number[], number[]][] = [[[2, 3, 4], [2, 3, 4]], [[2, 3, 4], [4]], [[2, 1, 4], [3, 1]], [[1], [5, 2]], [[], [3]]];
    for (const op of ["add", "sub", "mul", "div", "maximum", "minimum", "less", "greater", "equal", "not_equal"]) {
      it(op, async () => {
        for (const [sa, sb] of shapes) await agree(op, [f32(sa, 7), op === "equal" || op === "not_equal" ? f32(sa, 7) : f32(sb, 8)]);
      });
    }
    it("int32 arithmetic wraps and div truncates toward zero", async () => {
      const a = new Tensor("int32", [2, 3], new Int32Array([7, -7, 2147483647, 5, -9, 0]));
      const b = new Tensor("int32", [3], new Int32Array([2, 3, 1]));
      for (const op of ["add", "sub", "mul", "div", "maximum", "less"]) await agree(op, [a, b]);
    });
  });

  describe("matmul and linear", () => {
    it("tiles shapes that are not multiples of the 16×16 tile", () => agree("matmul", [f32([37, 19], 9), f32([19, 23], 10)], {}, 1e-4));
    it("broadcasts batch dims and takes rank-1 operands", async () => {
      await agree("matmul", [f32([2, 1, 5, 7], 11), f32([3, 7, 9], 12)], {}, 1e-4);
      await agree("matmul", [f32([7], 13), f32([2, 7, 4], 14)], {}, 1e-4);
      await agree("matmul", [f32([3, 6, 7], 15), f32([7], 16)], {}, 1e-4);
    });
    it("runs a 256×256×256 matmul", () => agree("matmul", [f32([256, 256], 17), f32([256, 256], 18)], {}, 1e-4));
    it("linear with and without bias", async () => {
      await agree("linear", [f32([2, 5, 19], 19), f32([17, 19], 20), f32([17], 21)], {}, 1e-4);
      await agree("linear", [f32([33, 20], 22), f32([18, 20], 23)], {}, 1e-4);
    });
  });

  describe("softmax, log_softmax and layout", () => {
    const masked = () => {
      const t = f32([4, 9], 24);
      for (let j = 0; j < 9; j++) (t.data as Float32Array)[9 + j] = -Infinity;
      (t.data as Float32Array)[2] = -Infinity;
      return t;
    };
    it("softmax: an all −inf row gives zeros", () => agree("softmax", [masked()], { axis: -1 }));
    it("log_softmax: an all −inf row stays −inf", () => agree("log_softmax", [masked()], { axis: -1 }));
    it("softmax along a non-last axis", () => agree("softmax", [f32([3, 4, 5], 25)], { axis: 1 }));
    it("transpose", async () => {
      await agree("transpose", [f32([2, 3, 4], 26)], { perm: [2, 0, 1] });
      await agree("transpose", [new Tensor("int32", [2, 3], new Int32Array([1, 2, 3, 4, 5, 6]))], { perm: [1, 0] });
    });
  });

  describe("executables", () => {
    function mlp(): Graph {
      const b = new GraphBuilder("mlp");
      const x = b.input("x", { dtype: "float32", shape: [3, 4] });
      const w = b.param("fc.weight", { dtype: "float32", shape: [5, 4] }, { kind: "uniform", bound: 0.5 });
      const bias = b.param("fc.bias", { dtype: "float32", shape: [5] }, { kind: "zeros" });
      const [h] = b.add("linear", [x, w, bias]);
      const [r] = b.add("relu", [h]);
      const [flat] = b.add("reshape", [r], { shape: [15] });
      const [s] = b.add("softmax", [flat], { axis: -1 });
      b.output("y", s);
      b.output("h", h);
      return b.build();
    }
    const params = () => new Map([["fc.weight", f32([5, 4], 30)], ["fc.bias", f32([5], 31)]]);
    let exe: WebGpuExecutable | undefined;
    afterAll(() => exe?.dispose());

    it("keeps parameters resident, reuses pooled buffers and reads back only requested outputs", async () => {
      const g = mlp();
      exe = await gpu.compile(g, { params: params() });
      const want = await (await cpu.compile(g, { params: params() })).run({ x: f32([3, 4], 32) });
      const first = await exe.run({ x: f32([3, 4], 32) });
      const created = exe.buffersCreated;
      for (let k = 0; k < 3; k++) await exe.run({ x: f32([3, 4], 32) });
      expect(exe.buffersCreated).toBe(created);
      for (const n of ["y", "h"]) for (let i = 0; i < want[n].size; i++) expect(first[n].data[i]).toBeCloseTo(want[n].data[i], 5);
      expect(Object.keys(await exe.run({ x: f32([3, 4], 32) }, { outputs: ["h"] }))).toEqual(["h"]);
    });

    it("reads and writes parameters", async () => {
      const w = new Tensor("float32", [5], new Float32Array([1, 2, 3, 4, 5]));
      await exe!.writeParams(new Map([["fc.bias", w]]));
      expect([...(await exe!.readParams()).get("fc.bias")!.data]).toEqual([1, 2, 3, 4, 5]);
      await expect(exe!.writeParams(new Map([["nope", w]]))).rejects.toThrow(/no such parameter/);
    });

    it("has a kernel for every op of core's catalogue", () => {
      expect(ALL_OPS.map((o) => o.name).filter((op) => !getKernel(op))).toEqual([]);
    });

    it("names the first op without a kernel, and runs graphs with updates (parameters updated on the device)", async () => {
      // an op only this test registers, so that no backend has a kernel for it
      if (!hasOp("test_only_identity")) {
        registerOp(defineOp({ name: "test_only_identity", summary: "test", inputs: [{ name: "x" }], attrs: {}, infer: (_ctx, [x]) => [x!] }) as never);
      }
      const b = new GraphBuilder("g");
      const x = b.input("x", { dtype: "float32", shape: [2, 3] });
      const [y] = b.add("test_only_identity", [x]);
      b.output("y", y);
      await expect(gpu.compile(b.build(), { params: new Map() })).rejects.toThrow(/no WGSL kernel for op "test_only_identity"/);
      const t = new GraphBuilder("t");
      const p = t.param("p", { dtype: "float32", shape: [2] }, { kind: "zeros" });
      const [q] = t.add("neg", [p]);
      t.update("p", q);
      t.output("q", q);
      const p0 = f32([2], 1);
      const exe = await gpu.compile(t.build(), { params: new Map([["p", p0]]) });
      expect(Array.from((await exe.run({})).q.data)).toEqual(Array.from(p0.data, (v) => -v));
      expect(Array.from((await exe.readParams()).get("p")!.data)).toEqual(Array.from(p0.data, (v) => -v));
      exe.dispose();
    });
  });
}
