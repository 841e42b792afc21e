import { describe, expect, it } from "vitest";
import { GraphBuilder, Session, Tensor, optimize, type AttentionSelect } from "@attn/core";
import { backend, expectClose, rand, randTensor, run1, runOp, t } from "./helpers.js";

const NEG = -Infinity;

interface Opts {
  scale: number;
  causal?: boolean;
  window?: number | null;
  select?: AttentionSelect;
}

/** Is score (batch multi-index b, i, j) masked? Reference reading of docs/ir.md's mask rules. */
function masked(mask: Tensor | null, scoresShape: number[], b: number[], i: number, j: number, o: Opts): boolean {
  if (o.causal && j > i) return true;
  if (o.window != null) {
    if (o.causal ? i - j > o.window : Math.abs(i - j) > o.window) return true;
  }
  if (!mask) return false;
  const r = scoresShape.length;
  if (mask.rank === 2 && r > 2) return mask.data[b[0] * mask.shape[1] + j] !== 0;
  const full = [...b, i, j];
  let off = 0;
  for (let d = 0; d < r; d++) off = off * mask.shape[d] + (mask.shape[d] === 1 ? 0 : full[d]);
  return mask.data[off] !== 0;
}

function selectRow(row: number[], select: AttentionSelect): number[] {
  const finite = row.filter((v) => v !== NEG);
  if (finite.length === 0) return row.map(() => 0);
  if (select === "argmax") {
    const m = Math.max(...finite);
    const at = row.indexOf(m);
    return row.map((_, j) => (j === at ? 1 : 0));
  }
  let keep = row.map((v) => v !== NEG);
  if (typeof select === "object") {
    const order = row.map((v, j) => [v, j]).filter(([v]) => v !== NEG).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const kept = new Set(order.slice(0, select.topk).map((p) => p[1]));
    keep = row.map((_, j) => kept.has(j));
  }
  const m = Math.max(...row.filter((_, j) => keep[j]));
  const e = row.map((v, j) => (keep[j] ? Math.exp(v - m) : 0));
  const s = e.reduce((a, c) => a + c, 0);
  return e.map((v) => v / s);
}

/** Full-matrix reference: scores = scale·q·kᵀ, mask, select row by row, weights·v. */
function refAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, o: Opts): { out: number[]; weights: number[] } {
  const r = q.rank;
  const batch = q.shape.slice(0, r - 2);
  const [Tq, D] = q.shape.slice(r - 2);
  const Tk = k.shape[r - 2];
  const Dv = v.shape[r - 1];
  const nb = batch.reduce((a, c) => a * c, 1);
  const out: number[] = [];
  const weights: number[] = [];
  for (let f = 0; f < nb; f++) {
    const b: number[] = [];
    let rem = f;
    for (let d = batch.length - 1; d >= 0; d--) {
      b.unshift(rem % batch[d]);
      rem = Math.floor(rem / batch[d]);
    }
    for (let i = 0; i < Tq; i++) {
      const row: number[] = [];
      for (let j = 0; j < Tk; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q.data[(f * Tq + i) * D + d] * k.data[(f * Tk + j) * D + d];
        row.push(masked(mask, [...batch, Tq, Tk], b, i, j, o) ? NEG : s * o.scale);
      }
      const w = selectRow(row, o.select ?? "softmax");
      weights.push(...w);
      for (let d = 0; d < Dv; d++) out.push(w.reduce((a, wj, j) => a + wj * v.data[(f * Tk + j) * Dv + d], 0));
    }
  }
  return { out, weights };
}

const attrsOf = (o: Opts, weights = false) => ({ scale: o.scale, causal: o.causal ?? false, window: o.window ?? null, select: (o.select ?? "softmax") as never, weights });

describe("attention_mask", () => {
  const r = rand(11);
  const scores = randTensor([2, 2, 3, 4], r);
  const pad = t([[false, false, true, false], [true, false, false, true]], "bool");
  const check = async (mask: Tensor | null, o: Opts) => {
    const y = await run1("attention_mask", mask ? [scores, mask] : [scores], { causal: o.causal ?? false, window: o.window ?? null });
    const want: number[] = [];
    for (let b0 = 0; b0 < 2; b0++)
      for (let h = 0; h < 2; h++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 4; j++) want.push(masked(mask, [2, 2, 3, 4], [b0, h], i, j, o) ? NEG : scores.data[((b0 * 2 + h) * 3 + i) * 4 + j]);
    expectClose(y, want, { atol: 0, rtol: 0, shape: [2, 2, 3, 4] });
  };
  it("key padding [B, Tk] broadcasts over heads and queries", () => check(pad, { scale: 1 }));
  it("causal hides j > i (top-left aligned)", () => check(null, { scale: 1, causal: true }));
  it("window hides |i − j| > w", () => check(null, { scale: 1, window: 1 }));
  it("causal + window keeps i − w ≤ j ≤ i, combined with padding", () => check(pad, { scale: 1, causal: true, window: 1 }));
  it("a full-rank mask broadcasts to the scores", () => check(t([[[[true, false, false, false]], [[false, false, false, true]]], [[[false, true, false, false]], [[false, false, false, false]]]], "bool"), { scale: 1 }));
  it("hand example: causal on 3×3", async () => {
    const y = await run1("attention_mask", [t([[1, 2, 3], [4, 5, 6], [7, 8, 9]])], { causal: true });
    expect(Array.from(y.data)).toEqual([1, NEG, NEG, 4, 5, NEG, 7, 8, 9]);
  });
  it("rejects a mask of another rank", async () => {
    await expect(run1("attention_mask", [scores, t([true, false, true, false], "bool")])).rejects.toThrow(/attention_mask: mask bool\[4\] must be a key-padding mask/);
  });
});

describe("attention (fused)", () => {
  const r = rand(12);
  const B = 2;
  const H = 3;
  const Tq = 5;
  const Tk = 6;
  const D = 4;
  const Dv = 3;
  const q = randTensor([B, H, Tq, D], r, -2, 2);
  const k = randTensor([B, H, Tk, D], r, -2, 2);
  const v = randTensor([B, H, Tk, Dv], r, -2, 2);
  const pad = t([[false, false, false, false, true, true], [false, true, false, false, false, false]], "bool");
  const configs: [string, Tensor | null, Opts][] = [
    ["plain", null, { scale: 0.5 }],
    ["key padding", pad, { scale: 1 / Math.sqrt(D) }],
    ["causal", null, { scale: 0.5, causal: true }],
    ["window 1", null, { scale: 0.5, window: 1 }],
    ["causal + window 2 + padding", pad, { scale: 0.7, causal: true, window: 2 }],
    ["full-rank mask [B,1,Tq,Tk]", randMask([B, 1, Tq, Tk], 13), { scale: 0.5 }],
    ["argmax", pad, { scale: 1, select: "argmax" }],
    ["topk 2", pad, { scale: 1, select: { topk: 2 } }],
    ["topk 3 causal", null, { scale: 1, causal: true, select: { topk: 3 } }],
  ];
  for (const [name, mask, o] of configs) {
    it(`${name}: output and weights match the full-matrix reference`, async () => {
      const want = refAttention(q, k, v, mask, o);
      const inputs = mask ? [q, k, v, mask] : [q, k, v];
      const [out] = await runOp("attention", inputs, attrsOf(o));
      expectClose(out, want.out, { shape: [B, H, Tq, Dv] });
      const [out2, w] = await runOp("attention", inputs, attrsOf(o, true));
      expectClose(out2, want.out);
      expectClose(w, want.weights, { shape: [B, H, Tq, Tk] });
    });
  }
  it("weight rows sum to 1 (softmax) and the online path equals the weights path", async () => {
    const [a] = await runOp("attention", [q, k, v, pad], attrsOf({ scale: 0.5 }));
    const [b, w] = await runOp("attention", [q, k, v, pad], attrsOf({ scale: 0.5 }, true));
    expectClose(a, b, { atol: 1e-7, rtol: 1e-6 });
    for (let row = 0; row < B * H * Tq; row++) {
      const s = Array.from(w.data.slice(row * Tk, (row + 1) * Tk)).reduce((x, y) => x + y, 0);
      expect(Math.abs(s - 1)).toBeLessThan(1e-6);
    }
  });
  it("a fully masked query row gives zero output and zero weights, never NaN", async () => {
    const allPad = t([[true, true, true, true, true, true], [false, true, true, true, true, true]], "bool");
    for (const select of ["softmax", "argmax", { topk: 2 }] as AttentionSelect[]) {
      const [out] = await runOp("attention", [q, k, v, allPad], attrsOf({ scale: 1, select }));
      const [out2, w] = await runOp("attention", [q, k, v, allPad], attrsOf({ scale: 1, select }, true));
      for (const x of [out, out2, w]) expect(Array.from(x.data).every((e) => Number.isFinite(e))).toBe(true);
      expect(Array.from(out.data.slice(0, H * Tq * Dv)).every((e) => e === 0)).toBe(true);
      expect(Array.from(w.data.slice(0, H * Tq * Tk)).every((e) => e === 0)).toBe(true);
      // batch 1 sees only key 0: its output is v[1, h, 0]
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < Tq; i++) {
          const o = Array.from(out.data.slice(((H + h) * Tq + i) * Dv, ((H + h) * Tq + i + 1) * Dv));
          expectClose(Tensor.from(o), Array.from(v.data.slice((H + h) * Tk * Dv, ((H + h) * Tk) * Dv + Dv)));
        }
      }
    }
    // a window of 0 with causal masks nothing else; a causal query 0 with key 0 padded is fully masked
    const [o0] = await runOp("attention", [q, k, v, t([[true, false, false, false, false, false], [true, false, false, false, false, false]], "bool")], attrsOf({ scale: 1, causal: true }));
    expect(Array.from(o0.data.slice(0, Dv))).toEqual([0, 0, 0]);
  });
  it("is stable for large scores (online rescaling)", async () => {
    const big = new Tensor("float32", q.shape, q.data.map((x) => x * 300));
    const want = refAttention(big, k, v, null, { scale: 1 });
    expectClose((await runOp("attention", [big, k, v], attrsOf({ scale: 1 })))[0], want.out, { atol: 1e-5, rtol: 1e-4 });
  });
  it("argmax ties go to the first key", async () => {
    const kk = Tensor.from([1, 0, 1, 0, 0, 1], { shape: [1, 3, 2] }); // keys 0 and 1 equal
    const vv = Tensor.from([10, 20, 30], { shape: [1, 3, 1] });
    const qq = Tensor.from([1, 0], { shape: [1, 1, 2] });
    const [o, w] = await runOp("attention", [qq, kk, vv], attrsOf({ scale: 1, select: "argmax" }, true));
    expect(Array.from(w.data)).toEqual([1, 0, 0]);
    expect(Array.from(o.data)).toEqual([10]);
  });
  it("rank-3 q/k/v without heads and Tq ≠ Tk", async () => {
    const q3 = randTensor([2, 3, 4], r);
    const k3 = randTensor([2, 7, 4], r);
    const v3 = randTensor([2, 7, 5], r);
    const m3 = randMask([2, 7], 14);
    const want = refAttention(q3, k3, v3, m3, { scale: 0.3, window: 2 });
    expectClose((await runOp("attention", [q3, k3, v3, m3], attrsOf({ scale: 0.3, window: 2 })))[0], want.out, { shape: [2, 3, 5] });
  });
});

describe("fusion: the unfused chain and the fused attention node agree", () => {
  function chain(select: "softmax" | "hardmax" | "topk_softmax") {
    const b = new GraphBuilder("attn");
    const q = b.input("q", { dtype: "float32", shape: ["B", "T", 4] });
    const k = b.input("k", { dtype: "float32", shape: ["B", "S", 4] });
    const v = b.input("v", { dtype: "float32", shape: ["B", "S", 3] });
    const m = b.input("pad", { dtype: "bool", shape: ["B", "S"] });
    const kt = b.add1("transpose", [k], { perm: [0, 2, 1] });
    const s = b.add1("matmul", [q, kt]);
    const c = b.add1("constant", [], { value: { dtype: "float32", shape: [], data: [0.5] } });
    const s2 = b.add1("mul", [s, c]);
    const s3 = b.add1("attention_mask", [s2, m], { causal: true });
    const w = b.add1(select, [s3], select === "topk_softmax" ? { axis: -1, k: 2 } : { axis: -1 });
    b.output("out", b.add1("matmul", [w, v]));
    return b.build();
  }
  for (const sel of ["softmax", "hardmax", "topk_softmax"] as const) {
    it(sel, async () => {
      const g = chain(sel);
      expect(optimize(g).nodes.map((n) => n.op)).toEqual(["attention"]);
      const r = rand(15);
      const feeds = {
        q: randTensor([2, 5, 4], r),
        k: randTensor([2, 6, 4], r),
        v: randTensor([2, 6, 3], r),
        pad: t([[false, false, true, false, false, false], [true, false, false, false, false, true]], "bool"),
      };
      const fused = await Session.create(g, backend);
      const plain = await Session.create(g, backend, { optimize: false });
      const a = (await fused.run(feeds)).out;
      const b = (await plain.run(feeds)).out;
      expectClose(a, b, { atol: 1e-6, rtol: 1e-5 });
      // the first query of batch 1 only sees padded keys: zeros
      expect(Array.from(a.data.slice(15, 18))).toEqual([0, 0, 0]);
    });
  }
});

function randMask(shape: number[], seed: number): Tensor {
  const r = rand(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(Array.from({ length: n }, () => r(0, 1) < 0.3), { shape, dtype: "bool" });
}
