import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, sizeOf } from "@attn/core";
import { backend, expectClose, rand, randTensor, run1, runGraph, runOp, t } from "./helpers.js";

/** Naive reference: element (multi-index) access. */
function at(x: Tensor, idx: number[]): number {
  let off = 0;
  for (let i = 0; i < idx.length; i++) off = off * x.shape[i] + idx[i];
  return x.data[off];
}

/** All multi-indices of a shape, row-major. */
function indices(shape: readonly number[]): number[][] {
  const out: number[][] = [[]];
  for (const d of shape) {
    const next: number[][] = [];
    for (const p of out) for (let i = 0; i < d; i++) next.push([...p, i]);
    out.splice(0, out.length, ...next);
  }
  return out;
}

/** Reference matmul of 2-D nested arrays. */
function mm(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

describe("matmul", () => {
  const r = rand(3);
  it("2-D against a naive product", async () => {
    const a = randTensor([3, 5], r);
    const b = randTensor([5, 4], r);
    const want = mm(a.toNested() as number[][], b.toNested() as number[][]).flat();
    expectClose(await run1("matmul", [a, b]), want, { shape: [3, 4] });
  });
  it("broadcasts batch dims: [2,1,3,4] @ [3,4,2] → [2,3,3,2]", async () => {
    const a = randTensor([2, 1, 3, 4], r);
    const b = randTensor([3, 4, 2], r);
    const y = await run1("matmul", [a, b]);
    expect([...y.shape]).toEqual([2, 3, 3, 2]);
    const want = indices([2, 3, 3, 2]).map(([i, j, m, n]) => {
      let s = 0;
      for (let k = 0; k < 4; k++) s += at(a, [i, 0, m, k]) * at(b, [j, k, n]);
      return s;
    });
    expectClose(y, want);
  });
  it("rank-1 operands follow NumPy", async () => {
    const v = t([1, 2, 3]);
    const m = Tensor.from([1, 0, 2, 1, 0, 1, 1, 1, 1, 0, 0, 2], { shape: [3, 4] });
    expectClose(await run1("matmul", [v, m]), [4, 2, 4, 9], { shape: [4] });
    const m2 = Tensor.from([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
    expectClose(await run1("matmul", [m2, v]), [14, 32], { shape: [2] });
    expectClose(await run1("matmul", [v, v]), [14], { shape: [] });
    const batch = Tensor.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], { shape: [2, 2, 3] });
    expectClose(await run1("matmul", [batch, v]), [14, 32, 50, 68], { shape: [2, 2] });
  });
  it("rejects mismatched inner dims with core's message", async () => {
    await expect(run1("matmul", [randTensor([2, 3], r), randTensor([4, 2], r)])).rejects.toThrow(/matmul: inner dimensions/);
  });
});

describe("linear", () => {
  const r = rand(4);
  it("y = x Wᵀ + b over leading dims", async () => {
    const x = randTensor([2, 3, 4], r);
    const w = randTensor([5, 4], r);
    const bias = randTensor([5], r);
    const want = indices([2, 3, 5]).map(([i, j, o]) => {
      let s = bias.data[o];
      for (let k = 0; k < 4; k++) s += at(x, [i, j, k]) * at(w, [o, k]);
      return s;
    });
    expectClose(await run1("linear", [x, w, bias]), want, { shape: [2, 3, 5] });
    const noBias = await run1("linear", [x, w, null]);
    expectClose(noBias, want.map((v, i) => v - bias.data[i % 5]), { atol: 1e-6 });
  });
});

describe("transpose, reshape, squeeze, unsqueeze", () => {
  const r = rand(5);
  it("transpose by any permutation", async () => {
    const x = randTensor([2, 3, 4, 5], r);
    for (const perm of [[0, 2, 1, 3], [3, 2, 1, 0], [1, 3, 0, 2], [0, 1, 3, 2]]) {
      const y = await run1("transpose", [x], { perm });
      const shape = perm.map((p) => x.shape[p]);
      const want = indices(shape).map((idx) => {
        const src = new Array<number>(4);
        perm.forEach((p, i) => (src[p] = idx[i]));
        return at(x, src);
      });
      expectClose(y, want, { shape, atol: 0, rtol: 0 });
    }
    const bools = await run1("transpose", [t([[true, false, false], [false, true, true]], "bool")], { perm: [1, 0] });
    expect(Array.from(bools.data)).toEqual([1, 0, 0, 1, 0, 1]);
  });
  it("reshape with -1 and a symbolic target bound by the feeds", async () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", { dtype: "float32", shape: ["B", "S", 8] });
    const y = b.add1("reshape", [x], { shape: ["B", "S", 2, 4] });
    const z = b.add1("reshape", [y], { shape: [-1, 4] });
    b.output("y", y);
    b.output("z", z);
    const xv = randTensor([3, 5, 8], r);
    const res = await runGraph(b.build(), { x: xv });
    expect([...res.y.shape]).toEqual([3, 5, 2, 4]);
    expect([...res.z.shape]).toEqual([30, 4]);
    expect(Array.from(res.z.data)).toEqual(Array.from(xv.data));
  });
  it("a reshape to a symbol no input binds is core's ShapeError with the node span", async () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", { dtype: "float32", shape: ["B", 4] });
    b.output("y", b.add1("reshape", [x], { shape: ["B", 4, 1] }, { span: { file: "m.attn", line: 2, column: 1, length: 3 } }));
    const g0 = b.build();
    const g = { ...g0, nodes: g0.nodes.map((n) => ({ ...n, attrs: { shape: ["B", "Q", 1] } })) };
    await expect(runGraph(g, { x: Tensor.zeros([2, 4]) })).rejects.toThrow(/^m\.attn:2:1: reshape: cannot reshape float32\[2, 4\] .* to \[2, Q, 1\]/);
  });
  it("squeeze and unsqueeze", async () => {
    const x = randTensor([1, 3, 1, 2], r);
    const s = await run1("squeeze", [x], { axes: [0, -2] });
    expect([...s.shape]).toEqual([3, 2]);
    expect(Array.from(s.data)).toEqual(Array.from(x.data));
    const u = await run1("unsqueeze", [s], { axes: [0, 3] });
    expect([...u.shape]).toEqual([1, 3, 2, 1]);
    await expect(run1("squeeze", [x], { axes: [1] })).rejects.toThrow(/squeeze/);
  });
});

describe("concat, split, slice, select", () => {
  const r = rand(6);
  it("concat along a middle axis, mixed sizes", async () => {
    const a = randTensor([2, 1, 3], r);
    const b = randTensor([2, 2, 3], r);
    const y = await run1("concat", [a, b], { axis: 1 });
    const want = indices([2, 3, 3]).map(([i, j, k]) => (j < 1 ? at(a, [i, j, k]) : at(b, [i, j - 1, k])));
    expectClose(y, want, { shape: [2, 3, 3], atol: 0, rtol: 0 });
    const ints = await run1("concat", [t([[1], [2]], "int32"), t([[3, 4], [5, 6]], "int32")], { axis: -1 });
    expect(Array.from(ints.data)).toEqual([1, 3, 4, 2, 5, 6]);
  });
  it("split into pieces, inverse of concat", async () => {
    const x = randTensor([2, 6, 2], r);
    const parts = await runOp("split", [x], { axis: 1, sizes: [1, 3, 2] });
    expect(parts.map((p) => [...p.shape])).toEqual([[2, 1, 2], [2, 3, 2], [2, 2, 2]]);
    const back = await run1("concat", parts, { axis: 1 });
    expect(Array.from(back.data)).toEqual(Array.from(x.data));
    expect(Array.from(parts[1].data)).toEqual(indices([2, 3, 2]).map(([i, j, k]) => at(x, [i, j + 1, k])));
  });
  it("slice with negative bounds, steps and a negative step (Python semantics)", async () => {
    const x = t([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const py = (start: number, end: number | null, step: number) => {
      // Python's slice.indices(10) by hand for these cases
      const n = 10;
      const norm = (i: number, lo: number, hi: number) => (i < 0 ? Math.max(i + n, lo) : Math.min(i, hi));
      const s = step > 0 ? norm(start, 0, n) : norm(start, -1, n - 1);
      const e = end === null ? (step > 0 ? n : -1) : step > 0 ? norm(end, 0, n) : norm(end, -1, n - 1);
      const out: number[] = [];
      for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
      return out;
    };
    const cases: [number, number | null, number][] = [
      [2, 7, 1], [-3, null, 1], [1, -1, 2], [0, null, 3], [9, null, -1], [-1, 2, -2], [8, -20, -3], [5, 5, 1], [20, null, 1], [-20, 3, 1],
    ];
    for (const [start, end, step] of cases) {
      const y = await run1("slice", [x], { axis: 0, start, end, step });
      expect(Array.from(y.data), `${start}:${end}:${step}`).toEqual(py(start, end, step));
    }
    const m = Tensor.from(Array.from({ length: 12 }, (_, i) => i), { shape: [3, 4] });
    const cols = await run1("slice", [m], { axis: 1, start: -1, end: null, step: -2 });
    expect([...cols.shape]).toEqual([3, 2]);
    expect(Array.from(cols.data)).toEqual([3, 1, 7, 5, 11, 9]);
  });
  it("select removes the axis; negative index counts from the end", async () => {
    const x = randTensor([2, 3, 4], r);
    const y = await run1("select", [x], { axis: 1, index: -1 });
    expect(Array.from(y.data)).toEqual(indices([2, 4]).map(([i, k]) => at(x, [i, 2, k])));
    const z = await run1("select", [x], { axis: 0, index: 1 });
    expect(Array.from(z.data)).toEqual(Array.from(x.data.slice(12)));
    await expect(run1("select", [x], { axis: 1, index: 3 })).rejects.toThrow(/select: index 3 is out of range for axis 1 of size 3/);
  });
  it("zero-size tensors flow through layout ops", async () => {
    const x = Tensor.zeros([2, 0, 3]);
    expect([...(await run1("transpose", [x], { perm: [2, 1, 0] })).shape]).toEqual([3, 0, 2]);
    expect([...(await run1("concat", [x, randTensor([2, 1, 3], r)], { axis: 1 })).shape]).toEqual([2, 1, 3]);
    expect(sizeOf((await run1("add", [x, Tensor.scalar(1)])).shape)).toBe(0);
  });
});

describe("backend object", () => {
  it("is named cpu", () => {
    expect(backend.name).toBe("cpu");
  });
});
