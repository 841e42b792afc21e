import { describe, expect, it } from "vitest";
import { Tensor, type Attrs } from "@attn/core";
import { createCpuBackend, type CpuBackend } from "../src/index.js";
import { expectClose, kernelPathAvailable, rand, randTensor, runOn } from "./helpers.js";

// The bulk elementwise loops that run in WebAssembly on the wasm kernel paths (elementwise/wasm.ts,
// assembly/elementwise.ts: plain Adam, mse_loss and its gradient, sums over leading axes, same-shape add)
// against the portable JS kernels, bit for bit, on sizes past the wasm threshold (1024 elements) with odd
// tails; and against the formulas themselves.

const js = createCpuBackend({ kernels: "js" });
const wasmPaths: { name: string; be: CpuBackend }[] = [
  ...(kernelPathAvailable("wasm-simd", "wasm elementwise") ? [{ name: "wasm-simd", be: createCpuBackend({ kernels: "wasm-simd" }) }] : []),
  ...(kernelPathAvailable("wasm-simd-threads", "wasm elementwise on threads") ? [{ name: "wasm-simd-threads", be: createCpuBackend({ kernels: "wasm-simd-threads", threads: 2 }) }] : []),
];
const rng = rand(20261121);
const scalar = (v: number) => Tensor.from([v], { shape: [] });

const bits = (t: Tensor) => Array.from(t.data as Float32Array);

interface Case {
  name: string;
  op: string;
  inputs: (Tensor | null)[];
  attrs: Attrs;
}

const shape = [37, 61]; // 2257 elements: past the threshold, odd tails for the 2- and 4-wide loops
const [p, g, x, y] = [0, 1, 2, 3].map(() => randTensor(shape, rng));
const m = randTensor(shape, rng, -0.1, 0.1);
const v = randTensor(shape, rng, 0, 0.1);
const adamAttrs = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, decoupled: false, amsgrad: false, maximize: false };
const cases: Case[] = [
  { name: "adam_update", op: "adam_update", inputs: [p, g, m, v, scalar(4), scalar(0.01)], attrs: adamAttrs },
  { name: "adam_update (maximize)", op: "adam_update", inputs: [p, g, m, v, scalar(0), scalar(0.5)], attrs: { ...adamAttrs, maximize: true } },
  { name: "mse_loss mean", op: "mse_loss", inputs: [x, y], attrs: { reduction: "mean" } },
  { name: "mse_loss sum (1031 elements)", op: "mse_loss", inputs: [randTensor([1031], rng), randTensor([1031], rng)], attrs: { reduction: "sum" } },
  { name: "mse_loss_grad mean", op: "mse_loss_grad", inputs: [x, y, scalar(0.75)], attrs: { reduction: "mean" } },
  { name: "mse_loss_grad sum", op: "mse_loss_grad", inputs: [x, y, scalar(-3)], attrs: { reduction: "sum" } },
  { name: "reduce_sum over the leading axis (cols off the 8-wide blocks)", op: "reduce_sum", inputs: [x], attrs: { axes: [0] } },
  { name: "reduce_sum over two leading axes", op: "reduce_sum", inputs: [randTensor([3, 50, 24], rng)], attrs: { axes: [0, 1], keepdims: true } },
  { name: "reduce_mean over the leading axis", op: "reduce_mean", inputs: [randTensor([9, 1030], rng)], attrs: { axes: [-2] } },
  { name: "add of equal shapes", op: "add", inputs: [x, y], attrs: {} },
];

describe.each(wasmPaths)("wasm elementwise loops on $name", ({ be }) => {
  for (const c of cases) {
    it(`${c.name}: same bits as the JS kernel`, async () => {
      const want = await runOn(js, c.op, c.inputs, c.attrs);
      const got = await runOn(be, c.op, c.inputs, c.attrs);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        expect([...got[i].shape]).toEqual([...want[i].shape]);
        expect(bits(got[i]), `output ${i}`).toEqual(bits(want[i]));
      }
    });
  }
});

describe("the loops against their formulas", () => {
  const be = wasmPaths[0]?.be ?? js;

  it("plain Adam, element by element in double (PyTorch 1.13's single-tensor formula)", async () => {
    const [np, nm, nv] = await runOn(be, "adam_update", [p, g, m, v, scalar(4), scalar(0.01)], adamAttrs);
    const t = 5;
    const lr = Math.fround(0.01);
    for (let i = 0; i < p.size; i++) {
      const mi = 0.9 * m.data[i] + (1 - 0.9) * g.data[i];
      const vi = 0.999 * v.data[i] + (1 - 0.999) * g.data[i] * g.data[i];
      expect(nm.data[i]).toBe(Math.fround(mi));
      expect(nv.data[i]).toBe(Math.fround(vi));
      expect(np.data[i]).toBe(Math.fround(p.data[i] - ((lr / (1 - 0.9 ** t)) * mi) / (Math.sqrt(vi) / Math.sqrt(1 - 0.999 ** t) + 1e-8)));
    }
  });

  it("mse_loss and its gradient, and column sums, against plain double loops", async () => {
    let s = 0;
    for (let i = 0; i < x.size; i++) s += (x.data[i] - y.data[i]) ** 2;
    const [loss] = await runOn(be, "mse_loss", [x, y], { reduction: "mean" });
    expectClose(loss, [s / x.size], { atol: 0, rtol: 1e-7 });
    const [dx, dt] = await runOn(be, "mse_loss_grad", [x, y, scalar(1)], { reduction: "mean" });
    for (let i = 0; i < x.size; i++) {
      expect(dx.data[i]).toBe(Math.fround((1 / x.size) * (2 * (x.data[i] - y.data[i]))));
      expect(dt.data[i]).toBe(-dx.data[i]);
    }
    const [cols] = await runOn(be, "reduce_sum", [x], { axes: [0] });
    for (let j = 0; j < shape[1]; j++) {
      let c = 0;
      for (let r = 0; r < shape[0]; r++) c += x.data[r * shape[1] + j];
      expect(cols.data[j]).toBe(Math.fround(c));
    }
  });
});
