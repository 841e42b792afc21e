import { describe, expect, it } from "vitest";
import { Tensor } from "@attn/core";
import { expectClose, rand, randTensor, run1, t } from "./helpers.js";

const NEG = -Infinity;

/** Naive reduction by enumerating every input index (reference written independently of the kernel). */
function naiveReduce(x: Tensor, axes: number[], mode: "sum" | "mean" | "max", keepdims: boolean): { shape: number[]; data: number[] } {
  const r = x.rank;
  const red = new Set(axes.map((a) => (a < 0 ? a + r : a)));
  const outShape = x.shape.map((d, i) => (red.has(i) ? 1 : d));
  const n = outShape.reduce((a, b) => a * b, 1);
  const acc = new Array<number>(n).fill(mode === "max" ? -Infinity : 0);
  const cnt = new Array<number>(n).fill(0);
  const idx = new Array<number>(r).fill(0);
  for (let f = 0; f < x.size; f++) {
    let rem = f;
    for (let i = r - 1; i >= 0; i--) {
      idx[i] = rem % x.shape[i];
      rem = Math.floor(rem / x.shape[i]);
    }
    let o = 0;
    for (let i = 0; i < r; i++) o = o * outShape[i] + (red.has(i) ? 0 : idx[i]);
    acc[o] = mode === "max" ? Math.max(acc[o], x.data[f]) : acc[o] + x.data[f];
    cnt[o]++;
  }
  const data = mode === "mean" ? acc.map((v, i) => v / cnt[i]) : acc;
  return { shape: keepdims ? outShape : x.shape.filter((_, i) => !red.has(i)), data };
}

describe("reductions", () => {
  const r = rand(7);
  const x = randTensor([2, 3, 4, 5], r);
  const axesCases = [[0], [-1], [1, 2], [0, 3], [0, 1, 2, 3], [2], [1, -1]];
  for (const mode of ["sum", "mean", "max"] as const) {
    for (const axes of axesCases) {
      for (const keepdims of [false, true]) {
        it(`reduce_${mode} axes ${JSON.stringify(axes)} keepdims ${keepdims}`, async () => {
          const want = naiveReduce(x, axes, mode, keepdims);
          expectClose(await run1(`reduce_${mode}`, [x], { axes, keepdims }), want.data, { shape: want.shape, atol: 1e-6 });
        });
      }
    }
  }
  it("rejects empty axes (PyTorch would reduce everything; the IR asks for explicit axes)", async () => {
    await expect(run1("reduce_sum", [x], { axes: [] })).rejects.toThrow(/axes must name at least one axis/);
  });
  it("reduce_max propagates NaN; sums accumulate in double", async () => {
    expectClose(await run1("reduce_max", [t([[1, NaN, 3], [4, 5, 6]])], { axes: [1] }), [NaN, 6]);
    expectClose(await run1("reduce_max", [t([[1, NaN, 3], [4, 5, 6]])], { axes: [0] }), [4, NaN, 6]);
    // 1 + 1e-8·10⁴ would stay 1 in float32 accumulation
    const v = Tensor.from([1, ...new Array<number>(10000).fill(1e-8)]);
    expectClose(await run1("reduce_sum", [v], { axes: [0] }), [1.0001], { atol: 0, rtol: 1e-7 });
  });
});

describe("argmax", () => {
  it("first index on ties, any axis, keepdims", async () => {
    const x = t([[1, 3, 3], [7, 2, 7], [0, 0, 0]]);
    const y = await run1("argmax", [x], { axis: -1 });
    expect(y.dtype).toBe("int32");
    expect(Array.from(y.data)).toEqual([1, 0, 0]);
    const y0 = await run1("argmax", [x], { axis: 0, keepdims: true });
    expect([...y0.shape]).toEqual([1, 3]);
    expect(Array.from(y0.data)).toEqual([1, 0, 1]);
  });
  it("NaN counts as the maximum; all -inf picks index 0", async () => {
    expect(Array.from((await run1("argmax", [t([[1, NaN, 5], [NEG, NEG, NEG]])], { axis: 1 })).data)).toEqual([1, 0]);
  });
});

/** Reference softmax: exp(x)/Σexp(x) with -inf → 0; fine for the small test values (no max shift). */
function refSoftmax(row: number[]): number[] {
  const e = row.map((v) => (v === NEG ? 0 : Math.exp(v)));
  const s = e.reduce((a, b) => a + b, 0);
  return s === 0 ? row.map(() => 0) : e.map((v) => v / s);
}

describe("softmax family", () => {
  const r = rand(8);
  it("softmax rows sum to 1 and match exp/Σexp, on the last and a middle axis", async () => {
    const x = randTensor([2, 3, 4], r, -3, 3);
    const y = await run1("softmax", [x], { axis: -1 });
    const rows = x.toNested() as number[][][];
    expectClose(y, rows.flat().flatMap(refSoftmax));
    for (let i = 0; i < 6; i++) expect(Math.abs(Array.from(y.data.slice(i * 4, i * 4 + 4)).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
    const ym = await run1("softmax", [x], { axis: 1 });
    const want = new Array<number>(24);
    for (let a = 0; a < 2; a++) {
      for (let c = 0; c < 4; c++) {
        const col = [0, 1, 2].map((b) => rows[a][b][c]);
        refSoftmax(col).forEach((v, b) => (want[a * 12 + b * 4 + c] = v));
      }
    }
    expectClose(ym, want);
  });
  it("softmax is stable for large scores and gives zeros on an all -inf row", async () => {
    const y = await run1("softmax", [t([[1000, 1001, NEG], [NEG, NEG, NEG], [-1e30, 0, NEG]])]);
    const e = Math.exp(-1);
    expectClose(y, [e / (1 + e), 1 / (1 + e), 0, 0, 0, 0, 0, 1, 0]);
  });
  it("log_softmax = log(softmax); an all -inf row stays -inf", async () => {
    const x = randTensor([3, 5], r, -4, 4);
    const y = await run1("log_softmax", [x]);
    expectClose(y, (x.toNested() as number[][]).flatMap((row) => refSoftmax(row).map(Math.log)), { atol: 1e-6 });
    expectClose(await run1("log_softmax", [t([[NEG, NEG], [0, NEG]])]), [NEG, NEG, 0, NEG]);
  });
  it("hardmax: one-hot at the first maximum; all -inf → zeros", async () => {
    const y = await run1("hardmax", [t([[1, 3, 3], [NEG, NEG, NEG], [NEG, -5, NEG]])]);
    expect(Array.from(y.data)).toEqual([0, 1, 0, 0, 0, 0, 0, 1, 0]);
    const y0 = await run1("hardmax", [t([[1, 3], [2, 3]])], { axis: 0 });
    expect(Array.from(y0.data)).toEqual([0, 1, 1, 0]);
  });
  it("topk_softmax: k largest, ties to the lower index, -inf never kept", async () => {
    const y = await run1("topk_softmax", [t([[1, 5, 3, 5, 0], [2, 2, 2, 2, 2], [NEG, 1, NEG, NEG, NEG], [NEG, NEG, NEG, NEG, NEG]])], { k: 2 });
    const h = 0.5;
    expectClose(y, [0, h, 0, h, 0, h, h, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const y3 = await run1("topk_softmax", [t([[4, 1, 3, 2]])], { k: 3 });
    expectClose(y3, [...refSoftmax([4, NEG, 3, 2])]);
    const yAx = await run1("topk_softmax", [t([[4, 1], [3, 2], [5, 0]])], { k: 1, axis: 0 });
    expect(Array.from(yAx.data)).toEqual([0, 0, 0, 1, 1, 0]);
  });
  it("topk_softmax: the large-k (sort) path agrees with a naive selection", async () => {
    const r2 = rand(81);
    // values on a coarse grid so ties are frequent
    const x = Tensor.from(Array.from({ length: 4 * 60 }, () => Math.round(r2(-3, 3) * 2) / 2), { shape: [4, 60] });
    for (const k of [1, 5, 16, 17, 40, 60]) {
      const y = await run1("topk_softmax", [x], { k });
      const want = (x.toNested() as number[][]).flatMap((row) => {
        const order = row.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        const keep = new Set(order.slice(0, k).map((p) => p[1]));
        return refSoftmax(row.map((v, i) => (keep.has(i) ? v : NEG)));
      });
      expectClose(y, want);
    }
  });
  it("k larger than the axis is core's error", async () => {
    await expect(run1("topk_softmax", [t([[1, 2]])], { k: 3 })).rejects.toThrow(/topk_softmax: k = 3 is larger than the axis \(2\)/);
  });
});

describe("layer_norm", () => {
  it("normalises the last dim with biased variance, then weight and bias", async () => {
    const x = t([[1, 2, 3, 4], [2, 2, 2, 2]]);
    const w = t([1, 2, 0.5, -1]);
    const b = t([0, 1, 0, 0.5]);
    // mean 2.5
    const v = (1.5 ** 2 + 0.5 ** 2 + 0.5 ** 2 + 1.5 ** 2) / 4; // 1.25
    const s = Math.sqrt(v + 1e-5);
    const xhat = [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s];
    expectClose(await run1("layer_norm", [x, w, b]), [xhat[0], xhat[1] * 2 + 1, xhat[2] * 0.5, -xhat[3] + 0.5, 0, 1, 0, 0.5]);
    expectClose(await run1("layer_norm", [x, null, null], { eps: 0.1 }), [...[-1.5, -0.5, 0.5, 1.5].map((d) => d / Math.sqrt(v + 0.1)), 0, 0, 0, 0]);
    // bias without weight
    expectClose(await run1("layer_norm", [t([[3, 5]]), null, t([1, -1])]), [-1 / Math.sqrt(1 + 1e-5) + 1, 1 / Math.sqrt(1 + 1e-5) - 1]);
  });
  it("gives zero mean and unit variance on random rows", async () => {
    const x = randTensor([5, 64], rand(9), -10, 10);
    const y = await run1("layer_norm", [x]);
    for (let i = 0; i < 5; i++) {
      const row = Array.from(y.data.slice(i * 64, (i + 1) * 64));
      const m = row.reduce((a, c) => a + c, 0) / 64;
      const v = row.reduce((a, c) => a + (c - m) ** 2, 0) / 64;
      expect(Math.abs(m)).toBeLessThan(1e-6);
      expect(Math.abs(v - 1)).toBeLessThan(1e-4);
    }
  });
});
