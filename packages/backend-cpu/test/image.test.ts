import { describe, expect, it } from "vitest";
import { BackendError, Tensor } from "@attn/core";
import { expectClose, rand, randTensor, run1, t } from "./helpers.js";

/** Zero-pads x [N, C, H, W] explicitly (reference conv then needs no bounds checks). */
function pad(x: number[][][][], ph: number, pw: number, fill = 0): number[][][][] {
  return x.map((img) =>
    img.map((ch) => {
      const W = ch[0].length + 2 * pw;
      const row = () => new Array<number>(W).fill(fill);
      return [...Array.from({ length: ph }, row), ...ch.map((r) => [...new Array<number>(pw).fill(fill), ...r, ...new Array<number>(pw).fill(fill)]), ...Array.from({ length: ph }, row)];
    }),
  );
}

/** Conv2d by the definition: out[n,o,i,j] = b[o] + Σ_{c,ki,kj} xp[n, g·Cg + c, i·s + ki·d, j·s + kj·d]·w[o,c,ki,kj]. */
function refConv(x: Tensor, w: Tensor, b: Tensor | null, s: number[], p: number[], d: number[], groups: number): { data: number[]; shape: number[] } {
  const xp = pad(x.toNested() as number[][][][], p[0], p[1]);
  const ww = w.toNested() as number[][][][];
  const [N] = x.shape;
  const [O, Cg, KH, KW] = w.shape;
  const Hp = xp[0][0].length;
  const Wp = xp[0][0][0].length;
  const Ho = Math.floor((Hp - d[0] * (KH - 1) - 1) / s[0]) + 1;
  const Wo = Math.floor((Wp - d[1] * (KW - 1) - 1) / s[1]) + 1;
  const data: number[] = [];
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / (O / groups));
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let acc = b ? b.data[o] : 0;
          for (let c = 0; c < Cg; c++)
            for (let ki = 0; ki < KH; ki++)
              for (let kj = 0; kj < KW; kj++) acc += xp[n][g * Cg + c][i * s[0] + ki * d[0]][j * s[1] + kj * d[1]] * ww[o][c][ki][kj];
          data.push(acc);
        }
    }
  return { data, shape: [N, O, Ho, Wo] };
}

describe("conv2d", () => {
  const r = rand(31);
  const cases: { name: string; x: number[]; w: number[]; s: number[]; p: number[]; d: number[]; g: number; bias: boolean }[] = [
    { name: "3×3, no padding", x: [2, 3, 6, 5], w: [4, 3, 3, 3], s: [1, 1], p: [0, 0], d: [1, 1], g: 1, bias: true },
    { name: "stride 2, padding 1", x: [1, 2, 7, 6], w: [3, 2, 3, 3], s: [2, 2], p: [1, 1], d: [1, 1], g: 1, bias: true },
    { name: "dilation 2, asymmetric", x: [1, 2, 9, 8], w: [2, 2, 3, 2], s: [1, 2], p: [2, 1], d: [2, 3], g: 1, bias: false },
    { name: "groups 2", x: [2, 4, 5, 5], w: [6, 2, 3, 3], s: [1, 1], p: [1, 1], d: [1, 1], g: 2, bias: true },
    { name: "depthwise (groups = C), padding > kernel reach", x: [1, 3, 4, 4], w: [3, 1, 2, 2], s: [3, 3], p: [2, 2], d: [1, 1], g: 3, bias: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const x = randTensor(c.x, r);
      const w = randTensor(c.w, r);
      const b = c.bias ? randTensor([c.w[0]], r) : null;
      const want = refConv(x, w, b, c.s, c.p, c.d, c.g);
      const y = await run1("conv2d", [x, w, b], { stride: c.s, padding: c.p, dilation: c.d, groups: c.g });
      expectClose(y, want.data, { shape: want.shape });
    });
  }
  it("hand value: 2×2 box filter", async () => {
    const x = Tensor.from([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3] });
    const w = Tensor.from([1, 1, 1, 1], { shape: [1, 1, 2, 2] });
    expect(Array.from((await run1("conv2d", [x, w])).data)).toEqual([12, 16, 24, 28]);
  });
});

describe("pooling", () => {
  const r = rand(32);
  const x = randTensor([2, 3, 7, 6], r);
  function refPool(mode: "max" | "avg", k: number[], s: number[], p: number[]): { data: number[]; shape: number[] } {
    const xp = pad(x.toNested() as number[][][][], p[0], p[1], mode === "max" ? -Infinity : 0);
    const Ho = Math.floor((7 + 2 * p[0] - k[0]) / s[0]) + 1;
    const Wo = Math.floor((6 + 2 * p[1] - k[1]) / s[1]) + 1;
    const data: number[] = [];
    for (const img of xp)
      for (const ch of img)
        for (let i = 0; i < Ho; i++)
          for (let j = 0; j < Wo; j++) {
            const win: number[] = [];
            for (let a = 0; a < k[0]; a++) for (let b = 0; b < k[1]; b++) win.push(ch[i * s[0] + a][j * s[1] + b]);
            data.push(mode === "max" ? Math.max(...win) : win.reduce((u, v) => u + v, 0) / win.length);
          }
    return { data, shape: [2, 3, Ho, Wo] };
  }
  for (const [k, s, p] of [[[2, 2], [], [0, 0]], [[3, 3], [2, 2], [1, 1]], [[3, 2], [1, 2], [1, 0]], [[2, 3], [3, 1], [1, 1]]] as number[][][]) {
    for (const mode of ["max", "avg"] as const) {
      it(`${mode}_pool2d kernel ${k} stride ${s.length ? s : "(= kernel)"} padding ${p}`, async () => {
        const want = refPool(mode, k, s.length ? s : k, p);
        const y = await run1(`${mode}_pool2d`, [x], { kernel: k, stride: s, padding: p });
        expectClose(y, want.data, { shape: want.shape });
      });
    }
  }
  it("avg counts padding as zeros (count_include_pad)", async () => {
    const ones = new Tensor("float32", [1, 1, 2, 2], new Float32Array(4).fill(1));
    const y = await run1("avg_pool2d", [ones], { kernel: [2, 2], stride: [1, 1], padding: [1, 1] });
    expect(Array.from(y.data)).toEqual([0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25]);
    const m = await run1("max_pool2d", [new Tensor("float32", [1, 1, 2, 2], Float32Array.from([-5, -6, -7, -8]))], { kernel: [2, 2], stride: [1, 1], padding: [1, 1] });
    expect(Array.from(m.data)).toEqual([-5, -5, -6, -5, -5, -6, -7, -7, -8]);
  });
});

describe("patches", () => {
  it("row-major patch grid, each patch flattened channel-major (C, p, p)", async () => {
    // x[b, c, h, w] = 1000b + 100c + 10h + w
    const vals: number[] = [];
    for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) for (let h = 0; h < 4; h++) for (let w = 0; w < 6; w++) vals.push(1000 * b + 100 * c + 10 * h + w);
    const x = Tensor.from(vals, { shape: [2, 2, 4, 6] });
    const y = await run1("patches", [x], { size: 2 });
    expect([...y.shape]).toEqual([2, 6, 8]);
    // batch 0, patch 4 = grid row 1, column 1: h ∈ {2, 3}, w ∈ {2, 3}
    expect(Array.from(y.data.slice(4 * 8, 5 * 8))).toEqual([22, 23, 32, 33, 122, 123, 132, 133]);
    // batch 1, patch 2 = grid row 0, column 2
    expect(Array.from(y.data.slice((6 + 2) * 8, (6 + 3) * 8))).toEqual([1004, 1005, 1014, 1015, 1104, 1105, 1114, 1115]);
  });
  it("rejects sizes that do not divide the image", async () => {
    await expect(run1("patches", [Tensor.zeros([1, 1, 5, 4])], { size: 2 })).rejects.toThrow(/patches: height 5 and width 4 must be divisible/);
  });
});

describe("positional_encoding", () => {
  it("adds sin/cos at 10000^(-2i/D), even dims sin, odd dims cos", async () => {
    const [B, S, D] = [2, 5, 6];
    const x = randTensor([B, S, D], rand(33));
    const y = await run1("positional_encoding", [x]);
    const want: number[] = [];
    for (let b = 0; b < B; b++)
      for (let pos = 0; pos < S; pos++)
        for (let j = 0; j < D; j++) {
          const i = Math.floor(j / 2);
          const angle = pos / Math.pow(10000, (2 * i) / D);
          want.push(x.data[(b * S + pos) * D + j] + (j % 2 === 0 ? Math.sin(angle) : Math.cos(angle)));
        }
    expectClose(y, want, { atol: 1e-6 });
  });
  it("hand values on zeros; odd D works", async () => {
    const y = await run1("positional_encoding", [Tensor.zeros([1, 2, 3])]);
    // pos 0: [sin 0, cos 0, sin 0]; pos 1: [sin 1, cos 1, sin(1/10000^(2/3))]
    expectClose(y, [0, 1, 0, Math.sin(1), Math.cos(1), Math.sin(Math.pow(10000, -2 / 3))], { atol: 1e-7 });
  });
});

describe("embedding", () => {
  const w = Tensor.from([[0, 1], [10, 11], [20, 21]]);
  it("gathers rows for indices of any shape", async () => {
    const y = await run1("embedding", [w, Tensor.from([[2, 0], [1, 1]], { dtype: "int32" })]);
    expect([...y.shape]).toEqual([2, 2, 2]);
    expect(Array.from(y.data)).toEqual([20, 21, 0, 1, 10, 11, 10, 11]);
    const s = await run1("embedding", [w, Tensor.scalar(1, "int32")]);
    expect([...s.shape]).toEqual([2]);
  });
  it("an index out of range names the tensor, value, position and range", async () => {
    const err = await run1("embedding", [w, Tensor.from([[0, 1], [3, 0]], { dtype: "int32" })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toBe('model.attn:7:3: embedding: index 3 at position [1, 0] of "in1" is out of range [0, 3) for weight "in0" [3, 2]');
    await expect(run1("embedding", [w, t([-1], "int32")])).rejects.toThrow(/index -1 at position \[0\]/);
  });
  it("rejects float indices", async () => {
    await expect(run1("embedding", [w, t([0])])).rejects.toThrow(/embedding: input "indices" must be int32/);
  });
});
