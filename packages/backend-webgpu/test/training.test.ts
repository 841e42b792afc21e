import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, Trainer, type Attrs, type Backend, type Graph, type Initializer } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { createWebGpuBackend } from "../src/index.js";
import { requireWebGpu, values } from "./helpers.js";

/**
 * The training family beyond the fixtures: dropout masks bit-identical to the CPU's (also past 65535
 * workgroups), loss reductions over long vectors and many rows, edge rows (all ignored, out-of-range
 * targets), and graphs with `updates` (resident parameters and optimizer state across steps, aliasing
 * updates), each compared with backend-cpu.
 */


const f32 = (shape: number[], seed: number, lo?: number, hi?: number) => new Tensor("float32", shape, values(shape.reduce((p, d) => p * d, 1), seed, lo, hi));
const i32 = (shape: number[], data: number[]) => new Tensor("int32", shape, Int32Array.from(data));
const ZEROS = { kind: "zeros" } as Initializer;

function opGraph(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Graph {
  const b = new GraphBuilder(op);
  const ids = inputs.map((t, i) => b.input(`in${i}`, { dtype: t.dtype, shape: [...t.shape] }));
  b.add(op, ids, attrs).forEach((id, i) => b.output(`out${i}`, id));
  return b.build();
}

const cpu = createCpuBackend();
const gpu = createWebGpuBackend();

async function runOn(backend: Backend, g: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const exe = await backend.compile(g, { params: new Map() });
  try {
    return await exe.run(feeds);
  } finally {
    exe.dispose();
  }
}

/** Elementwise comparison within atol = rtol = tol (exact when `tol` is 0; NaN must match NaN); reports the first mismatch. */
function expectClose(got: Tensor, want: Tensor, tol: number, what: string): void {
  expect(got.shape, what).toEqual(want.shape);
  for (let i = 0; i < want.size; i++) {
    const w = want.data[i];
    const v = got.data[i];
    const ok = tol === 0 || !Number.isFinite(w) ? Object.is(v, w) || (v === w) : Math.abs(v - w) <= tol + tol * Math.abs(w);
    if (!ok) expect.fail(`${what} element ${i}: got ${v}, want ${w}`);
  }
}

/** Runs one op on both backends and compares every output. */
async function agree(op: string, inputs: readonly Tensor[], attrs: Attrs = {}, tol = 1e-5): Promise<Record<string, Tensor>> {
  const g = opGraph(op, inputs, attrs);
  const feeds = Object.fromEntries(inputs.map((t, i) => [`in${i}`, t]));
  const want = await runOn(cpu, g, feeds);
  const got = await runOn(gpu, g, feeds);
  for (const k of Object.keys(want)) expectClose(got[k], want[k], tol, `${op} ${k}`);
  return got;
}

if (await requireWebGpu("webgpu training kernels")) {
  describe("dropout_mask is bit-identical to the cpu backend", () => {
    for (const [p, salt, step] of [[0.1, 0, 0], [0.5, 7, 3], [0.25, -3, 123456], [0, 1, 1], [0.999999, 2, 9]] as const) {
      it(`p ${p}, salt ${salt}, step ${step}`, () => agree("dropout_mask", [f32([3, 41], 1), i32([], [step])], { p, salt }, 0));
    }
    it("past 65535 workgroups (2-D dispatch)", { timeout: 30_000 }, () => agree("dropout_mask", [new Tensor("float32", [65535 * 64 + 37]), i32([], [11])], { p: 0.3, salt: 5 }, 0));
  });

  describe("losses reduce long vectors and many rows accurately", () => {
    it("mse_loss / bce_with_logits mean and sum over 100000 elements", async () => {
      const x = f32([100000], 2);
      const t = f32([100000], 3, 0, 1);
      for (const reduction of ["mean", "sum"]) {
        await agree("mse_loss", [x, t], { reduction });
        await agree("binary_cross_entropy_with_logits", [x, t], { reduction });
      }
      await agree("binary_cross_entropy", [f32([100000], 4, 0.001, 0.999), t], { reduction: "mean" });
    });
    it("loss gradients with a scalar and a per-element dy", async () => {
      const x = f32([7, 9], 6, 0.01, 0.99);
      const t = f32([7, 9], 7, 0, 1);
      for (const op of ["mse_loss_grad", "binary_cross_entropy_grad", "binary_cross_entropy_with_logits_grad"]) {
        await agree(op, [x, t, f32([], 8)], { reduction: "mean" });
        await agree(op, [x, t, f32([], 9)], { reduction: "sum" });
        await agree(op, [x, t, f32([7, 9], 10)], { reduction: "none" });
      }
    });
    it("cross_entropy over 700 rows of 13 classes, with ignored rows and label smoothing, and its gradient", async () => {
      const logits = f32([700, 13], 11, -8, 8);
      const target = i32([700], Array.from({ length: 700 }, (_, r) => (r % 9 === 0 ? -100 : (r * 7) % 13)));
      for (const reduction of ["mean", "sum", "none"]) {
        for (const label_smoothing of [0, 0.2]) {
          await agree("cross_entropy", [logits, target], { reduction, label_smoothing });
          const dy = reduction === "none" ? f32([700], 12) : f32([], 13);
          await agree("cross_entropy_grad", [logits, target, dy], { reduction, label_smoothing });
        }
      }
    });
    it("cross_entropy mean with every target ignored is NaN and its gradient zero (as PyTorch)", async () => {
      const logits = f32([3, 4], 14);
      const target = i32([3], [-100, -100, -100]);
      await agree("cross_entropy", [logits, target]);
      await agree("cross_entropy_grad", [logits, target, f32([], 15)]);
    });
    it("an out-of-range target fails the run as on the cpu backend (more in validation.test.ts)", async () => {
      const run = runOn(gpu, opGraph("cross_entropy", [f32([2, 3], 16), i32([2], [1, 3])], { reduction: "none" }), { in0: f32([2, 3], 16), in1: i32([2], [1, 3]) });
      await expect(run).rejects.toThrow("cross_entropy: target 3 at position [1] of \"in1\" is out of range [0, 3)");
    });
  });

  describe("graphs with updates keep parameters and optimizer state on the device", () => {
    /**
     * A hand-built training step (no Trainer, so it needs only kernels every branch has): y = x·Wᵀ,
     * loss = mse(y, target), dW = dyᵀ·x, one Adam update of W and its moments, and the step counter.
     */
    function adamStep(): Graph {
      const b = new GraphBuilder("adam_step");
      const x = b.input("x", { dtype: "float32", shape: [8, 5] });
      const target = b.input("target", { dtype: "float32", shape: [8, 3] });
      const lr = b.input("lr", { dtype: "float32", shape: [] });
      const w = b.param("w", { dtype: "float32", shape: [3, 5] }, ZEROS);
      const m = b.param("m", { dtype: "float32", shape: [3, 5] }, ZEROS, undefined, "state");
      const v = b.param("v", { dtype: "float32", shape: [3, 5] }, ZEROS, undefined, "state");
      const step = b.param("step", { dtype: "float32", shape: [] }, ZEROS, undefined, "state");
      const one = b.add1("constant", [], { value: { dtype: "float32", shape: [], data: [1] } } as never);
      const y = b.add1("linear", [x, w], {});
      const loss = b.add1("mse_loss", [y, target], { reduction: "mean" } as never);
      const [dy] = b.add("mse_loss_grad", [y, target, one], { reduction: "mean" } as never);
      const dw = b.add1("matmul", [b.add1("transpose", [dy], { perm: [1, 0] } as never), x], {});
      const [w2, m2, v2] = b.add("adam_update", [w, dw, m, v, step, lr], { weight_decay: 0.01, decoupled: true } as never);
      b.output("loss", loss);
      b.update("w", w2);
      b.update("m", m2);
      b.update("v", v2);
      b.update("step", b.add1("add", [step, one], {}));
      return b.build();
    }

    it("10 Adam steps on WebGPU follow the cpu backend (losses, weights, moments, step)", async () => {
      const g = adamStep();
      const params = new Map([["w", f32([3, 5], 20, -0.5, 0.5)], ["m", new Tensor("float32", [3, 5])], ["v", new Tensor("float32", [3, 5])], ["step", new Tensor("float32", [])]]);
      const feeds = { x: f32([8, 5], 21), target: f32([8, 3], 22), lr: Tensor.scalar(0.05) };
      const exes = await Promise.all([cpu.compile(g, { params }), gpu.compile(g, { params })]);
      try {
        for (let k = 0; k < 10; k++) {
          const [want, got] = await Promise.all(exes.map((e) => e.run(feeds)));
          expect(Math.abs(got.loss.data[0] - want.loss.data[0]), `loss of step ${k + 1}`).toBeLessThanOrEqual(1e-4);
        }
        const [want, got] = await Promise.all(exes.map((e) => e.readParams()));
        for (const [name, t] of want) expectClose(got.get(name)!, t, 1e-4, name);
        expect(got.get("step")!.data[0]).toBe(10);
        expect(got.get("w")!.data[0]).not.toBe(params.get("w")!.data[0]);
      } finally {
        exes.forEach((e) => e.dispose());
      }
    });

    it("a swap, a pass-through and an output reading an updated parameter see the values from before the run", async () => {
      const b = new GraphBuilder("aliasing");
      const lr = b.input("lr", { dtype: "float32", shape: [] });
      const step = b.input("step", { dtype: "float32", shape: [] });
      const a = b.param("a", { dtype: "float32", shape: [2, 3] }, ZEROS);
      const c = b.param("c", { dtype: "float32", shape: [2, 3] }, ZEROS);
      const p = b.param("p", { dtype: "float32", shape: [2, 3] }, ZEROS);
      const buf = b.param("buf", { dtype: "float32", shape: [2, 3] }, ZEROS, undefined, "state");
      // plain SGD passes its momentum buffer through: the update value is the parameter's own buffer
      const [p2, buf2] = b.add("sgd_update", [p, a, buf, step, lr], {});
      b.output("a_before", a);
      b.output("a_view", b.add1("reshape", [a], { shape: [3, 2] } as never));
      b.update("a", c);
      b.update("c", a);
      b.update("p", p2);
      b.update("buf", buf2);
      const g = b.build();
      const params = new Map([["a", f32([2, 3], 30)], ["c", f32([2, 3], 31)], ["p", f32([2, 3], 32)], ["buf", f32([2, 3], 33)]]);
      const exes = await Promise.all([cpu.compile(g, { params }), gpu.compile(g, { params })]);
      try {
        for (let k = 0; k < 3; k++) {
          const feeds = { lr: Tensor.scalar(0.1), step: Tensor.scalar(k) };
          const [want, got] = await Promise.all(exes.map((e) => e.run(feeds)));
          for (const name of ["a_before", "a_view"]) expectClose(got[name], want[name], 0, `${name}, run ${k + 1}`);
          const [wp, gp] = await Promise.all(exes.map((e) => e.readParams()));
          for (const [name, t] of wp) expectClose(gp.get(name)!, t, 1e-6, `${name} after run ${k + 1}`);
        }
      } finally {
        exes.forEach((e) => e.dispose());
      }
    });

    it("the Trainer: linear + mse + Adam, 10 steps, as on the cpu backend", async () => {
      const b = new GraphBuilder("linear_model");
      const x = b.input("x", { dtype: "float32", shape: [16, 6] });
      const w = b.param("w", { dtype: "float32", shape: [4, 6] }, ZEROS);
      const bias = b.param("b", { dtype: "float32", shape: [4] }, ZEROS);
      b.output("y", b.add1("linear", [x, w, bias], {}));
      const model = b.build();
      const opts = { loss: { kind: "mse" as const, output: "y" }, optimizer: { kind: "adam" as const, lr: 0.05 }, weights: new Map([["w", f32([4, 6], 40, -0.4, 0.4)], ["b", f32([4], 41, -0.1, 0.1)]]) };
      const trainers = await Promise.all([Trainer.create(model, cpu, opts), Trainer.create(model, gpu, opts)]);
      try {
        const batch = { x: f32([16, 6], 42), target: f32([16, 4], 43) };
        for (let k = 0; k < 10; k++) {
          const [want, got] = await Promise.all(trainers.map((t) => t.step(batch)));
          expect(Math.abs(got.loss - want.loss), `loss of step ${k + 1}`).toBeLessThanOrEqual(1e-4);
        }
        const [want, got] = await Promise.all(trainers.map((t) => t.weights()));
        for (const [name, t] of want) expectClose(got.get(name)!, t, 1e-4, name);
      } finally {
        trainers.forEach((t) => t.dispose());
      }
    });
  });
}
