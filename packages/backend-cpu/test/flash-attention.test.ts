import { describe, expect, it } from "vitest";
import { Tensor } from "@attn/core";
import { createCpuBackend } from "../src/index.js";
import { WasmFlash } from "../src/flash/wasm.js";
import { expectClose, kernelPathAvailable, rand, randTensor, runOn } from "./helpers.js";

// The fused WebAssembly attention (assembly/attention.ts, the "wasm-simd" path) against the portable
// JavaScript kernels (double accumulation, one score row at a time), forward and backward, on shapes that
// cross the kernel's 64-query blocks and 64-key tiles. Tolerance: the conformance suite's.

const js = createCpuBackend({ kernels: "js" });
// fuseSmallAttention: the small cases (one query, one key) on the fused kernel too, not routed to the portable one
const wasm = createCpuBackend({ kernels: "wasm-simd", fuseSmallAttention: true });
// every attention call through the worker threads (split into chunks however small): same bits as wasm
const threads = kernelPathAvailable("wasm-simd-threads", "flash attention on threads")
  ? createCpuBackend({ kernels: "wasm-simd-threads", threads: 2, threadMinFlops: 0, fuseSmallAttention: true })
  : null;
const sameBits = (got: Tensor[], want: Tensor[]) => {
  for (let i = 0; i < want.length; i++) expect(Array.from(got[i].data), `output ${i}`).toEqual(Array.from(want[i].data));
};
const TOL = { atol: 1e-5, rtol: 1e-4 };

function boolTensor(shape: number[], f: (i: number) => boolean): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(Array.from({ length: n }, (_, i) => f(i)), { dtype: "bool", shape });
}

interface Case {
  name: string;
  batch: number[];
  Tq: number;
  Tk: number;
  D: number;
  Dv?: number;
  causal?: boolean;
  window?: number | null;
  /** "pad": bool[B, Tk] key padding; "full": bool[B, 1, Tq, Tk] (per query); absent: none. */
  mask?: "pad" | "full";
  scale?: number;
  /** Spread of q and k (larger: peakier softmax). */
  spread?: number;
  /**
   * Gradient tolerance where the default is too tight for float32: with logits of magnitude ~100, scores
   * carry absolute errors ~1e-5 and dS = P ∘ (dP − Δ) cancels, so small gradients are off by ~1e-5.
   */
  gradTol?: { atol: number; rtol: number };
}

const cases: Case[] = [
  { name: "one head, N off the tile (70), d 64", batch: [1], Tq: 70, Tk: 70, D: 64 },
  { name: "rank 2, Tq ≠ Tk, d 5", batch: [], Tq: 13, Tk: 150, D: 5 },
  { name: "2×3 heads, d 32, causal", batch: [2, 3], Tq: 100, Tk: 100, D: 32, causal: true },
  { name: "d 80, Dv 24, window 17", batch: [2], Tq: 130, Tk: 129, D: 80, Dv: 24, window: 17 },
  { name: "causal + window + key padding together", batch: [2, 2], Tq: 140, Tk: 140, D: 16, causal: true, window: 40, mask: "pad" },
  { name: "per-query mask with fully masked rows", batch: [2, 1], Tq: 67, Tk: 75, D: 8, Dv: 3, mask: "full" },
  { name: "window 0 (the diagonal only), Tq > Tk", batch: [1], Tq: 90, Tk: 20, D: 12, window: 0 },
  { name: "causal, Tq < Tk", batch: [3], Tq: 20, Tk: 90, D: 9, causal: true },
  { name: "peaky scores (large logits)", batch: [2], Tq: 65, Tk: 200, D: 64, scale: 1, spread: 3, gradTol: { atol: 1e-4, rtol: 1e-4 } },
  { name: "single key and single query", batch: [2], Tq: 1, Tk: 1, D: 7 },
];

function build(c: Case, seed: number) {
  const r = rand(seed);
  const lead = c.batch.length ? c.batch : [];
  const Dv = c.Dv ?? c.D;
  const s = c.spread ?? 1;
  const q = randTensor([...lead, c.Tq, c.D], r, -s, s);
  const k = randTensor([...lead, c.Tk, c.D], r, -s, s);
  const v = randTensor([...lead, c.Tk, Dv], r);
  const B = c.batch[0] ?? 1;
  let mask: Tensor | null = null;
  if (c.mask === "pad") {
    // batch 0: the last 30 keys padded; batch 1: every key padded (fully masked rows).
    mask = boolTensor([B, c.Tk], (i) => (Math.floor(i / c.Tk) === 1 ? true : i % c.Tk >= c.Tk - 30));
  } else if (c.mask === "full") {
    // random holes, and query rows 3 and 64 of batch 0 fully masked
    const rr = rand(seed + 7);
    mask = boolTensor([B, 1, c.Tq, c.Tk], (i) => {
      const b = Math.floor(i / (c.Tq * c.Tk));
      const row = Math.floor(i / c.Tk) % c.Tq;
      return (b === 0 && (row === 3 || row === 64)) || rr() > 0.6;
    });
  }
  const attrs = { scale: c.scale ?? 1 / Math.sqrt(c.D), causal: c.causal ?? false, window: c.window ?? null };
  const dOut = randTensor([...lead, c.Tq, Dv], r);
  return { q, k, v, mask, attrs, dOut };
}

describe("flash attention (wasm-simd) against the js kernels", () => {
  it("both paths are what the backends say", () => {
    expect(wasm.kernels).toBe("wasm-simd");
    expect(js.kernels).toBe("js");
  });

  for (const [n, c] of cases.entries()) {
    it(`forward, weights off and on: ${c.name}`, async () => {
      const { q, k, v, mask, attrs } = build(c, 100 + n);
      const [want] = await runOn(js, "attention", [q, k, v, mask], attrs);
      const [got] = await runOn(wasm, "attention", [q, k, v, mask], attrs);
      expectClose(got, want, TOL);
      const [wantO, wantW] = await runOn(js, "attention", [q, k, v, mask], { ...attrs, weights: true });
      const [gotO, gotW] = await runOn(wasm, "attention", [q, k, v, mask], { ...attrs, weights: true });
      expectClose(gotO, wantO, TOL);
      expectClose(gotW, wantW, TOL);
      // masked weights are exactly zero
      for (let i = 0; i < wantW.data.length; i++) if (wantW.data[i] === 0) expect(gotW.data[i]).toBe(0);
      if (threads) sameBits(await runOn(threads, "attention", [q, k, v, mask], { ...attrs, weights: true }), [gotO, gotW]);
    });

    it(`backward: ${c.name}`, async () => {
      const { q, k, v, mask, attrs, dOut } = build(c, 200 + n);
      const want = await runOn(js, "attention_grad", [q, k, v, mask, dOut, null], attrs);
      const got = await runOn(wasm, "attention_grad", [q, k, v, mask, dOut, null], attrs);
      for (let i = 0; i < 3; i++) expectClose(got[i], want[i], c.gradTol ?? TOL);
      if (threads) sameBits(await runOn(threads, "attention_grad", [q, k, v, mask, dOut, null], attrs), got);
    });
  }

  it("fully masked rows give a zero output, zero weights and zero gradients", async () => {
    const c: Case = { name: "", batch: [2], Tq: 70, Tk: 70, D: 8, causal: true, mask: "pad" };
    const { q, k, v, attrs, dOut } = build(c, 5);
    // batch 0: keys 0..9 padded, so with causal queries 0..9 see nothing; batch 1: every key padded.
    const mask = boolTensor([2, 70], (i) => i >= 70 || i < 10);
    const [o, w] = await runOn(wasm, "attention", [q, k, v, mask], { ...attrs, weights: true });
    const [dq, dk, dv] = await runOn(wasm, "attention_grad", [q, k, v, mask, dOut, null], attrs);
    const rows = (t: Tensor, b: number, from: number, to: number, width: number) =>
      Array.from(t.data.subarray((b * 70 + from) * width, (b * 70 + to) * width));
    const zeros = (n: number) => new Array<number>(n).fill(0);
    expect(rows(o, 0, 0, 10, 8)).toEqual(zeros(80));
    expect(rows(o, 1, 0, 70, 8)).toEqual(zeros(560));
    expect(rows(w, 1, 0, 70, 70)).toEqual(zeros(70 * 70));
    expect(rows(dq, 0, 0, 10, 8)).toEqual(zeros(80));
    expect(rows(dq, 1, 0, 70, 8)).toEqual(zeros(560));
    expect(rows(dk, 1, 0, 70, 8)).toEqual(zeros(560));
    expect(rows(dv, 1, 0, 70, 8)).toEqual(zeros(560));
    // padded keys of batch 0 get no gradient
    expect(rows(dk, 0, 0, 10, 8)).toEqual(zeros(80));
    expect(rows(dv, 0, 0, 10, 8)).toEqual(zeros(80));
    expect(o.data.every(Number.isFinite) && dq.data.every(Number.isFinite)).toBe(true);
  });

  it("a NaN in one key reaches exactly the outputs of the queries that see it, as on the js kernels", async () => {
    const c: Case = { name: "", batch: [1], Tq: 130, Tk: 130, D: 16, causal: true };
    const { q, k, v, attrs } = build(c, 21);
    k.data[70 * 16 + 3] = NaN; // key 70: causal queries 70… see it (the max and exp2 must not drop it)
    const [want] = await runOn(js, "attention", [q, k, v, null], attrs);
    const [got] = await runOn(wasm, "attention", [q, k, v, null], attrs);
    const nanRows = (t: Tensor) => Array.from({ length: 130 }, (_, i) => (Number.isNaN(t.data[i * 16]) ? "1" : "0")).join("");
    expect(nanRows(want)).toBe("0".repeat(70) + "1".repeat(60));
    expect(nanRows(got)).toBe(nanRows(want));
    const finite = (t: Tensor) => Array.from(t.data.subarray(0, 70 * 16));
    expectClose(Tensor.from(finite(got), { shape: [70, 16] }), Tensor.from(finite(want), { shape: [70, 16] }), TOL);
  });

  it("a long sequence (N 1024, 2 heads, d 64) stays within tolerance, causal and not", async () => {
    for (const causal of [false, true]) {
      const c: Case = { name: "", batch: [1, 2], Tq: 1024, Tk: 1024, D: 64, causal };
      const { q, k, v, attrs, dOut } = build(c, causal ? 11 : 12);
      const [want] = await runOn(js, "attention", [q, k, v, null], attrs);
      const [got] = await runOn(wasm, "attention", [q, k, v, null], attrs);
      expectClose(got, want, TOL);
      const wantG = await runOn(js, "attention_grad", [q, k, v, null, dOut, null], attrs);
      const gotG = await runOn(wasm, "attention_grad", [q, k, v, null, dOut, null], attrs);
      for (let i = 0; i < 3; i++) expectClose(gotG[i], wantG[i], TOL);
    }
  }, 60_000);

  it("argmax, top-k and d_weights stay on the js kernels (same results on both paths)", async () => {
    const c: Case = { name: "", batch: [2], Tq: 30, Tk: 70, D: 8 };
    const { q, k, v, attrs, dOut } = build(c, 9);
    for (const select of ["argmax", { topk: 3 }] as const) {
      const a = await runOn(js, "attention", [q, k, v, null], { ...attrs, select, weights: true });
      const b = await runOn(wasm, "attention", [q, k, v, null], { ...attrs, select, weights: true });
      expect(Array.from(b[0].data)).toEqual(Array.from(a[0].data));
      expect(Array.from(b[1].data)).toEqual(Array.from(a[1].data));
    }
    const dW = randTensor([2, 30, 70], rand(3));
    const a = await runOn(js, "attention_grad", [q, k, v, null, dOut, dW], attrs);
    const b = await runOn(wasm, "attention_grad", [q, k, v, null, dOut, dW], attrs);
    for (let i = 0; i < 3; i++) expect(Array.from(b[i].data)).toEqual(Array.from(a[i].data));
  });

  it("wasm memory stays O(N·d) without weights (N 4096, one head: no N×N buffer)", () => {
    const f = new WasmFlash();
    const N = 4096;
    const D = 64;
    const r = rand(1);
    const q = Float32Array.from({ length: N * D }, () => r());
    const p = { heads: 1, Tq: N, Tk: N, D, Dv: D, scale: 0.125, causal: true, window: null, maskBytes: 0 };
    const res = f.forward(p, q, q, q, false);
    expect(res!.out.length).toBe(N * D);
    // N×N float32 would be 64 MiB; operands, packed copies and scratch are a few MiB
    expect(f.memoryBytes).toBeLessThan(16 * 2 ** 20);
    const lse = new Float32Array(N);
    f.forward({ ...p, Tq: 3, Tk: 3 }, q, q, q, false, lse);
    expect(Number.isFinite(lse[0]) && lse[0] > 0).toBe(true);
  });
});
