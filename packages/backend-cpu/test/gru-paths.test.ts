import { describe, expect, it } from "vitest";
import type { Attrs, Tensor } from "@attn/core";
import { createCpuBackend } from "../src/index.js";
import { kernelPathAvailable, rand, randTensor, runOn } from "./helpers.js";

// The GRU kernels on "wasm-simd" run their projections as GEMM calls (all steps' input projections in
// one call, the weight gradients as three calls over all steps); "js" keeps per-row double dot products.
// The two must agree within float32 accumulation error on awkward shapes and every optional input.

const js = createCpuBackend({ kernels: "js" });
const wasm = kernelPathAvailable("wasm-simd", "gru kernels") ? createCpuBackend({ kernels: "wasm-simd" }) : null;
const rng = rand(61);

async function agree(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}): Promise<void> {
  const want = await runOn(js, op, inputs, attrs);
  const got = await runOn(wasm!, op, inputs, attrs);
  expect(got.length).toBe(want.length);
  got.forEach((g, k) => {
    expect([...g.shape], `output ${k}`).toEqual([...want[k].shape]);
    const scale = Math.max(1, ...Array.from(want[k].data as Float32Array, Math.abs));
    for (let i = 0; i < g.size; i++) {
      const w = want[k].data[i];
      expect(Math.abs(g.data[i] - w), `output ${k} [${i}]`).toBeLessThanOrEqual(2e-5 * scale + 1e-4 * Math.abs(w));
    }
  });
}

function weights(H: number, I: number, bias: boolean): (Tensor | null)[] {
  return [randTensor([3 * H, I], rng, -0.4, 0.4), randTensor([3 * H, H], rng, -0.4, 0.4), bias ? randTensor([3 * H], rng) : null, bias ? randTensor([3 * H], rng) : null];
}

describe.skipIf(!wasm)("gru kernels: wasm-simd (GEMM + fused gates) agrees with js", () => {
  for (const [B, S, I, H, bidirectional, withH0, bias] of [
    [3, 7, 5, 9, false, false, true],
    [1, 1, 1, 1, true, true, true],
    [4, 11, 13, 17, true, true, false],
    [2, 5, 33, 8, false, true, true],
  ] as const) {
    it(`gru and gru_grad B${B} S${S} I${I} H${H}${bidirectional ? " bidirectional" : ""}${withH0 ? " h0" : ""}${bias ? "" : " no bias"}`, async () => {
      const dirs = bidirectional ? 2 : 1;
      const x = randTensor([B, S, I], rng);
      const ws = [...weights(H, I, bias), ...(bidirectional ? weights(H, I, bias) : [null, null, null, null])];
      const h0 = withH0 ? randTensor([dirs, B, H], rng) : null;
      const attrs = { hidden: H, bidirectional };
      const fwd = [x, ...ws, h0];
      await agree("gru", fwd, attrs);
      const [y] = await runOn(js, "gru", fwd, attrs);
      const dy = randTensor([B, S, dirs * H], rng);
      const dhn = randTensor([dirs, B, H], rng);
      await agree("gru_grad", [...fwd, y, dy, dhn], attrs);
      await agree("gru_grad", [...fwd, y, null, dhn], attrs);
      await agree("gru_grad", [...fwd, y, dy, null], attrs);
    });
  }

  it("really takes a different (GEMM) route: results are not bit-identical to js", async () => {
    const ins = [randTensor([6, 30], rng), randTensor([6, 20], rng), ...weights(20, 30, true)];
    const [a] = await runOn(js, "gru_cell", ins, {});
    const [b] = await runOn(wasm!, "gru_cell", ins, {});
    expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
  });

  for (const [B, I, H, bias] of [
    [5, 7, 3, true],
    [1, 1, 1, false],
    [9, 20, 33, true],
  ] as const) {
    it(`gru_cell and gru_cell_grad B${B} I${I} H${H}${bias ? "" : " no bias"}`, async () => {
      const x = randTensor([B, I], rng);
      const h = randTensor([B, H], rng);
      const ins = [x, h, ...weights(H, I, bias)];
      await agree("gru_cell", ins);
      await agree("gru_cell_grad", [...ins, randTensor([B, H], rng)]);
    });
  }
});
