import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, stridesOf } from "@attn/core";
import { backend, rand, randTensor, run1, runOp } from "./helpers.js";

// The layout, broadcasting, reduction and optimizer kernels have fast paths (tiled transposes, op-specific
// loops over coalesced rows, no per-element index math). These tests hold them to naive references that
// compute every element from its multi-index, on awkward shapes (sizes 1, odd, off the 32-wide tiles).

const rng = rand(20261106);

/** The multi-index of flat position `i` of `shape`. */
function unflat(i: number, shape: readonly number[]): number[] {
  const st = stridesOf(shape);
  return shape.map((d, k) => Math.floor(i / st[k]) % d);
}

function bits(t: Tensor): number[] {
  return Array.from(t.data as Float32Array);
}

describe("transpose (tiled and row-copy paths)", () => {
  const cases: [number[], number[]][] = [
    [[37, 45], [1, 0]],
    [[1, 33], [1, 0]],
    [[64, 3], [1, 0]],
    [[3, 70, 5, 33], [0, 2, 1, 3]],
    [[2, 40, 3, 36], [0, 3, 2, 1]],
    [[5, 4, 3, 2, 6], [4, 2, 0, 3, 1]],
    [[2, 33, 1, 35], [3, 2, 0, 1]],
    [[7], [0]],
    [[0, 5], [1, 0]],
  ];
  for (const [shape, perm] of cases) {
    it(`[${shape}] by [${perm}] equals the element-by-element definition`, async () => {
      const x = randTensor(shape, rng);
      const y = await run1("transpose", [x], { perm });
      const outShape = perm.map((p) => shape[p]);
      expect([...y.shape]).toEqual(outShape);
      const st = stridesOf(shape);
      const want = Array.from({ length: x.size }, (_, i) => {
        const idx = unflat(i, outShape);
        return x.data[idx.reduce((s, v, k) => s + v * st[perm[k]], 0)];
      });
      expect(bits(y)).toEqual(want);
    });
  }

  it("slice with steps (strided rows) and select still gather the right elements", async () => {
    const x = randTensor([6, 37, 40], rng);
    const y = await run1("slice", [x], { axis: 2, start: 1, end: 39, step: 3 });
    const want: number[] = [];
    for (let a = 0; a < 6; a++) for (let b = 0; b < 37; b++) for (let c = 1; c < 39; c += 3) want.push(x.data[(a * 37 + b) * 40 + c]);
    expect(bits(y)).toEqual(want);
    const s = await run1("select", [x], { axis: 1, index: -2 });
    const ws: number[] = [];
    for (let a = 0; a < 6; a++) for (let c = 0; c < 40; c++) ws.push(x.data[(a * 37 + 35) * 40 + c]);
    expect(bits(s)).toEqual(ws);
  });
});

describe("float binary ops (op-specific loops) against the definition", () => {
  const ops: Record<string, (a: number, b: number) => number> = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    maximum: Math.max,
    minimum: Math.min,
  };
  const pairs: [number[], number[]][] = [
    [[5, 7, 33], [5, 7, 33]],
    [[5, 7, 33], []],
    [[], [4, 9]],
    [[5, 7, 33], [33]],
    [[5, 7, 33], [7, 1]],
    [[5, 1, 33], [1, 7, 1]],
    [[1, 33], [6, 1]],
    [[3, 1, 4, 1], [2, 1, 5]],
    [[2, 3], [1]],
  ];
  for (const [sa, sb] of pairs) {
    it(`[${sa}] ∘ [${sb}]`, async () => {
      const a = randTensor(sa, rng);
      const b = randTensor(sb, rng, 0.5, 2);
      const rank = Math.max(sa.length, sb.length);
      const pa = [...Array(rank - sa.length).fill(1), ...sa];
      const pb = [...Array(rank - sb.length).fill(1), ...sb];
      const shape = pa.map((d, i) => Math.max(d, pb[i]));
      const n = shape.reduce((p, d) => p * d, 1);
      const sta = stridesOf(pa);
      const stb = stridesOf(pb);
      for (const [op, f] of Object.entries(ops)) {
        const y = await run1(op, [a, b]);
        expect([...y.shape]).toEqual(shape);
        const want = Array.from({ length: n }, (_, i) => {
          const idx = unflat(i, shape);
          const ia = idx.reduce((s, v, k) => s + (pa[k] === 1 ? 0 : v) * sta[k], 0);
          const ib = idx.reduce((s, v, k) => s + (pb[k] === 1 ? 0 : v) * stb[k], 0);
          return Math.fround(f(a.data[ia], b.data[ib]));
        });
        expect(bits(y), op).toEqual(want);
      }
    });
  }

  it("NaN propagates through maximum/minimum on the broadcast path; int32 keeps its own rules", async () => {
    const a = Tensor.from([NaN, 1, 2, 3, -1, 5], { shape: [2, 3] });
    const b = Tensor.from([0, NaN, 4], { shape: [3] });
    expect(bits(await run1("maximum", [a, b]))).toEqual([NaN, NaN, 4, 3, NaN, 5]);
    expect(bits(await run1("minimum", [a, b]))).toEqual([NaN, NaN, 2, 0, NaN, 4]);
    const i = Tensor.from([2147483647, 7], { dtype: "int32" });
    expect(Array.from((await run1("add", [i, Tensor.from([1], { dtype: "int32" })])).data)).toEqual([-2147483648, 8]);
  });
});

describe("reductions (no-closure odometer) against the definition", () => {
  const shape = [3, 5, 33, 2];
  const subsets = [[0], [1], [2], [3], [0, 1], [0, 2], [1, 3], [0, 1, 2], [0, 1, 2, 3], [-1]];
  const x = randTensor(shape, rng);
  for (const axes of subsets) {
    it(`reduce_sum / mean / max over [${axes}]`, async () => {
      const red = new Set(axes.map((a) => (a < 0 ? a + shape.length : a)));
      const kept = shape.map((d, i) => (red.has(i) ? 1 : d));
      const m = kept.reduce((p, d) => p * d, 1);
      const sum = new Float64Array(m);
      const max = new Float64Array(m).fill(-Infinity);
      const kst = stridesOf(kept);
      for (let i = 0; i < x.size; i++) {
        const o = unflat(i, shape).reduce((s, v, k) => s + (red.has(k) ? 0 : v * kst[k]), 0);
        sum[o] += x.data[i];
        max[o] = Math.max(max[o], x.data[i]);
      }
      const count = x.size / m;
      const s = await run1("reduce_sum", [x], { axes, keepdims: true });
      const mean = await run1("reduce_mean", [x], { axes, keepdims: true });
      const mx = await run1("reduce_max", [x], { axes, keepdims: true });
      expect([...s.shape]).toEqual(kept);
      for (let i = 0; i < m; i++) {
        expect(Math.abs(s.data[i] - sum[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(sum[i])));
        expect(Math.abs(mean.data[i] - sum[i] / count)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(sum[i] / count)));
      }
      expect(bits(mx)).toEqual(Array.from(Float32Array.from(max)));
    });
  }
});

describe("fused optimizer loops against the PyTorch formulas", () => {
  const adamAttrs = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, decoupled: false, amsgrad: false, maximize: false };
  const p = randTensor([7, 37], rng);
  const g = randTensor([7, 37], rng);
  const m = randTensor([7, 37], rng, -0.1, 0.1);
  const v = randTensor([7, 37], rng, 0, 0.1);
  const step = Tensor.from([4], { shape: [] });
  const lr = Tensor.from([0.01], { shape: [] });

  function adamRef(o: { wd: number; decoupled: boolean; maximize: boolean }): number[][] {
    const t = 5;
    const [b1, b2, eps, l] = [0.9, 0.999, 1e-8, Math.fround(0.01)];
    const outP: number[] = [];
    const outM: number[] = [];
    const outV: number[] = [];
    for (let i = 0; i < p.size; i++) {
      let gi = o.maximize ? -g.data[i] : g.data[i];
      let pi = p.data[i];
      if (o.decoupled) pi *= 1 - l * o.wd;
      else gi += o.wd * pi;
      const mi = b1 * m.data[i] + (1 - b1) * gi;
      const vi = b2 * v.data[i] + (1 - b2) * gi * gi;
      outP.push(Math.fround(pi - ((l / (1 - b1 ** t)) * mi) / (Math.sqrt(vi) / Math.sqrt(1 - b2 ** t) + eps)));
      outM.push(Math.fround(mi));
      outV.push(Math.fround(vi));
    }
    return [outP, outM, outV];
  }

  for (const o of [
    { wd: 0, decoupled: false, maximize: false },
    { wd: 0, decoupled: false, maximize: true },
    { wd: 0.1, decoupled: false, maximize: false },
    { wd: 0.1, decoupled: true, maximize: true },
  ]) {
    it(`adam_update ${JSON.stringify(o)}`, async () => {
      const outs = await runOp("adam_update", [p, g, m, v, step, lr], { ...adamAttrs, weight_decay: o.wd, decoupled: o.decoupled, maximize: o.maximize });
      expect(outs.slice(0, 3).map(bits)).toEqual(adamRef(o));
    });
  }

  for (const nesterov of [false, true]) {
    it(`sgd_update with momentum, weight decay, maximize${nesterov ? ", nesterov" : ", dampening"}`, async () => {
      const l = Math.fround(0.01);
      const damp = nesterov ? 0 : 0.1;
      const attrs = { momentum: 0.9, dampening: damp, nesterov, weight_decay: 0.01, maximize: true };
      const [np, nb] = await runOp("sgd_update", [p, g, m, step, lr], attrs);
      for (let i = 0; i < p.size; i++) {
        const d = -g.data[i] + 0.01 * p.data[i];
        const buf = 0.9 * m.data[i] + (1 - damp) * d;
        expect(nb.data[i]).toBe(Math.fround(buf));
        expect(np.data[i]).toBe(Math.fround(p.data[i] - l * (nesterov ? d + 0.9 * buf : buf)));
      }
    });
  }
});

describe("slice of a contiguous range (a view of its input)", () => {
  it("gives the rows, and every returned tensor owns exactly its data (slices of params, feeds, intermediates)", async () => {
    const b = new GraphBuilder("slices");
    const x = b.input("x", { dtype: "float32", shape: [6, 5] });
    const w = b.param("w", { dtype: "float32", shape: [6, 5] }, { kind: "zeros" });
    const h = b.add1("relu", [x]);
    b.output("of_feed", b.add1("slice", [x], { axis: 0, start: 1, end: 3, step: 1 }));
    b.output("of_param", b.add1("slice", [w], { axis: -2, start: -2, end: null, step: 1 }));
    b.output("of_inter", b.add1("slice", [h], { axis: 0, start: 2, end: 5, step: 1 }));
    b.output("used", b.add1("neg", [b.add1("slice", [h], { axis: 0, start: 4, end: 6, step: 1 })]));
    b.output("strided", b.add1("slice", [x], { axis: 1, start: 1, end: 4, step: 1 }));
    const xs = randTensor([6, 5], rng);
    const ws = randTensor([6, 5], rng);
    const exe = await backend.compile(b.build(), { params: new Map([["w", ws]]) });
    const res = await exe.run({ x: xs });
    const rows = (t: Tensor, r0: number, r1: number) => Array.from(t.data).slice(r0 * 5, r1 * 5);
    expect(bits(res.of_feed)).toEqual(rows(xs, 1, 3));
    expect(bits(res.of_param)).toEqual(rows(ws, 4, 6));
    expect(bits(res.of_inter)).toEqual(rows(xs, 2, 5).map((v) => Math.max(v, 0)));
    expect(bits(res.used)).toEqual(rows(xs, 4, 6).map((v) => -Math.max(v, 0)));
    expect(bits(res.strided)).toEqual(Array.from({ length: 18 }, (_, i) => xs.data[Math.floor(i / 3) * 5 + 1 + (i % 3)]));
    for (const [name, t] of Object.entries(res)) {
      expect(t.data.byteOffset, name).toBe(0);
      expect(t.data.byteLength, name).toBe(t.data.buffer.byteLength);
      expect(t.data.buffer === xs.data.buffer || t.data.buffer === ws.data.buffer, name).toBe(false);
    }
  });
});
