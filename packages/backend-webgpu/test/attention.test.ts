import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, type Attrs, type Graph } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { createWebGpuBackend } from "../src/index.js";
import { requireWebGpu, values } from "./helpers.js";

/**
 * The attention family against backend-cpu on what the fixtures leave out: sizes that are not multiples
 * of the 16-query / 16-key tiles, D over one staged chunk and Dv over one 64-column chunk, several heads,
 * causal + window + padding mask together with fully masked rows, the weights output on, off and unread
 * (no [Tq, Tk] buffer then), argmax / top-k, attention_grad with d_weights, and the selections along a
 * non-last axis.
 */


const f32 = (shape: number[], seed: number) => new Tensor("float32", shape, values(shape.reduce((p, d) => p * d, 1), seed, -2, 2));

/** A key-padding mask [B, Tk] hiding the keys listed per batch (true = masked out). */
function padding(B: number, Tk: number, hidden: number[][]): Tensor {
  const m = new Uint8Array(B * Tk);
  hidden.forEach((keys, b) => keys.forEach((j) => (m[b * Tk + j] = 1)));
  return new Tensor("bool", [B, Tk], m);
}

function opGraph(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs): Graph {
  const b = new GraphBuilder(op);
  const ids = inputs.map((t, i) => (t ? b.input(`in${i}`, { dtype: t.dtype, shape: [...t.shape] }) : null));
  b.add(op, ids, attrs).forEach((id, i) => b.output(`out${i}`, id));
  return b.build();
}

const cpu = createCpuBackend();
const gpu = createWebGpuBackend();

function close(got: Tensor, want: Tensor, label: string): void {
  expect(got.shape, label).toEqual(want.shape);
  for (let i = 0; i < want.size; i++) {
    const w = want.data[i];
    const v = got.data[i];
    if (!Number.isFinite(w)) expect(v, `${label}[${i}]`).toBe(w);
    else expect(Math.abs(v - w), `${label}[${i}]: got ${v}, want ${w}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(w));
  }
}

/**
 * Runs `op` on both backends, compares every output, and returns the sizes of the storage buffers the
 * WebGPU run created (read by wrapping the device's createBuffer for the run).
 */
async function agree(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs, outputs?: string[]): Promise<number[]> {
  const g = opGraph(op, inputs, attrs);
  const feeds = Object.fromEntries(inputs.flatMap((t, i) => (t ? [[`in${i}`, t]] : [])));
  const want = await (await cpu.compile(g, { params: new Map() })).run(feeds, { outputs });
  const { device } = await gpu.gpu();
  const exe = await gpu.compile(g, { params: new Map() });
  const sizes: number[] = [];
  const create = device.createBuffer.bind(device);
  device.createBuffer = (d: GPUBufferDescriptor) => {
    if (d.usage & 0x80) sizes.push(d.size);
    return create(d);
  };
  let got: Record<string, Tensor>;
  try {
    got = await exe.run(feeds, { outputs });
  } finally {
    device.createBuffer = create;
    exe.dispose();
  }
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const name of Object.keys(want)) close(got[name], want[name], `${op} ${name}`);
  return sizes;
}

const base = { scale: 0.4, causal: false, window: null, select: "softmax", weights: false };

if (await requireWebGpu("webgpu attention kernels")) {

  describe("attention (fused) matches the cpu backend", () => {
    // 2 batches × 3 heads, Tq = 21 and Tk = 19 (not multiples of 16), D = 20 (two 16-feature chunks),
    // Dv = 70 (two 64-column chunks)
    const q = f32([2, 3, 21, 20], 1);
    const k = f32([2, 3, 19, 20], 2);
    const v = f32([2, 3, 19, 70], 3);
    // batch 1 hides key 0, so with causal its query 0 sees nothing (a fully masked row)
    const mask = padding(2, 19, [[3, 17], [0, 5, 6]]);

    it("plain softmax over ragged tiles and several heads", () => agree("attention", [q, k, v, null], base));
    it("causal + window + padding mask, with a fully masked row, weights on", () =>
      agree("attention", [q, k, v, mask], { ...base, causal: true, window: 4, weights: true }));
    it("two-sided window + full-rank mask", async () => {
      const full = new Tensor("bool", [2, 1, 21, 19], Uint8Array.from(values(2 * 21 * 19, 9, 0, 1), (x) => (x > 0.7 ? 1 : 0)));
      await agree("attention", [q, k, v, full], { ...base, window: 3, weights: true });
    });
    it("argmax and top-k selections with a mask", async () => {
      await agree("attention", [q, k, v, mask], { ...base, causal: true, select: "argmax", weights: true });
      await agree("attention", [q, k, v, mask], { ...base, select: { topk: 3 }, window: 5, weights: true });
      await agree("attention", [q, k, v, mask], { ...base, select: { topk: 40 } });
    });

    // 2 × 2 × 40 × 40 weights are 25 600 bytes; nothing else in these runs comes close
    const wq = f32([2, 2, 40, 8], 4);
    const wk = f32([2, 2, 40, 8], 5);
    const wv = f32([2, 2, 40, 8], 6);
    const nn = 2 * 2 * 40 * 40 * 4;
    it("without the weights output no [Tq, Tk] buffer is allocated", async () => {
      const sizes = await agree("attention", [wq, wk, wv, null], { ...base, causal: true });
      expect(Math.max(...sizes)).toBeLessThan(nn);
    });
    it("with the weights output requested, they are written", async () => {
      const sizes = await agree("attention", [wq, wk, wv, null], { ...base, causal: true, weights: true });
      expect(Math.max(...sizes)).toBeGreaterThanOrEqual(nn);
    });
    it("with the weights output present but unread, no [Tq, Tk] buffer is allocated", async () => {
      const sizes = await agree("attention", [wq, wk, wv, null], { ...base, causal: true, weights: true }, ["out0"]);
      expect(Math.max(...sizes)).toBeLessThan(nn);
    });
  });

  describe("attention_grad matches the cpu backend", () => {
    const q = f32([2, 2, 7, 5], 11);
    const k = f32([2, 2, 9, 5], 12);
    const v = f32([2, 2, 9, 6], 13);
    const mask = padding(2, 9, [[8], [0, 1]]);
    const dOut = f32([2, 2, 7, 6], 14);
    const dW = f32([2, 2, 7, 9], 15);
    for (const select of ["softmax", "argmax", { topk: 2 }] as const) {
      it(`${JSON.stringify(select)}: causal + window + padding mask, d_weights`, () =>
        agree("attention_grad", [q, k, v, mask, dOut, dW], { scale: 0.6, causal: true, window: 3, select }));
      it(`${JSON.stringify(select)}: no mask, no d_weights`, () =>
        agree("attention_grad", [q, k, v, null, dOut, null], { scale: 0.6, causal: false, window: null, select }));
    }
  });

  describe("attention_mask, hardmax and topk_softmax edges", () => {
    it("attention_mask: window + causal + padding over several heads", () =>
      agree("attention_mask", [f32([2, 3, 6, 7], 21), padding(2, 7, [[1], [0, 6]])], { causal: true, window: 2 }));
    it("hardmax and topk_softmax along a middle axis, with -inf entries and k above the finite count", async () => {
      const x = f32([3, 5, 4], 22);
      for (let i = 0; i < x.size; i += 3) x.data[i] = -Infinity;
      await agree("hardmax", [x], { axis: 1 });
      await agree("topk_softmax", [x], { axis: 1, k: 4 });
      await agree("topk_softmax", [x], { axis: -1, k: 2 });
    });
  });
}
