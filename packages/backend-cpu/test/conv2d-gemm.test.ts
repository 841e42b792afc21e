import { afterAll, describe, expect, it } from "vitest";
import { ShapeEnv, type Attrs, type Tensor } from "@attn/core";
import { createCpuBackend } from "../src/index.js";
import { gemmFor, jsGemm, type Gemm } from "../src/gemm/index.js";
import { ThreadedGemm } from "../src/threads/index.js";
import type { Kernel, KernelContext } from "../src/kernel.js";
import { CONV_COL_BYTES, conv2dKernelFor, convGeometry, imagesPerChunk } from "../src/kernels/conv2d.js";
import { conv2dGradKernelFor, JS_DIRECT_GRAD_DENSITY } from "../src/kernels/grad/conv2d-grad.js";
import { kernelPathAvailable, rand, randTensor, runOn } from "./helpers.js";

/**
 * conv2d and conv2d_grad lowered to the GEMM (im2col, per-group products, col2im), against a direct
 * double-precision reference over a grid of shapes and attributes, on every kernel path, with the batch
 * cut into chunks of images (the column-buffer limit lowered) and whole.
 */

type Rng = ReturnType<typeof rand>;

interface Conv {
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly O: number;
  readonly KH: number;
  readonly KW: number;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
}

/** Values and, per element, Σ|terms| (the float32 rounding of a sum is bounded by a multiple of it). */
interface Ref {
  readonly v: Float64Array;
  readonly abs: Float64Array;
}

function outSize(c: Conv): [number, number] {
  const ho = Math.floor((c.H + 2 * c.padding[0] - c.dilation[0] * (c.KH - 1) - 1) / c.stride[0]) + 1;
  const wo = Math.floor((c.W + 2 * c.padding[1] - c.dilation[1] * (c.KW - 1) - 1) / c.stride[1]) + 1;
  return [ho, wo];
}

/**
 * Visits every tap of the convolution by its definition: y[n, o, oh, ow] += x[n, g·Cg + c, ih, iw]·w[o, c, ki, kj]
 * for ih = oh·sh − ph + ki·dh, iw = ow·sw − pw + kj·dw inside the image; `f` gets the flat indices of y, x, w.
 */
function forEachTap(c: Conv, f: (yi: number, xi: number, wi: number) => void): void {
  const [Ho, Wo] = outSize(c);
  const Cg = c.C / c.groups;
  const Og = c.O / c.groups;
  for (let n = 0; n < c.N; n++)
    for (let o = 0; o < c.O; o++) {
      const g = Math.floor(o / Og);
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++) {
          const yi = ((n * c.O + o) * Ho + oh) * Wo + ow;
          for (let ci = 0; ci < Cg; ci++)
            for (let ki = 0; ki < c.KH; ki++)
              for (let kj = 0; kj < c.KW; kj++) {
                const ih = oh * c.stride[0] - c.padding[0] + ki * c.dilation[0];
                const iw = ow * c.stride[1] - c.padding[1] + kj * c.dilation[1];
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                f(yi, ((n * c.C + g * Cg + ci) * c.H + ih) * c.W + iw, ((o * Cg + ci) * c.KH + ki) * c.KW + kj);
              }
        }
    }
}

function refForward(c: Conv, x: Tensor, w: Tensor, b: Tensor | null): Ref {
  const [Ho, Wo] = outSize(c);
  const v = new Float64Array(c.N * c.O * Ho * Wo);
  const abs = new Float64Array(v.length);
  if (b) {
    for (let i = 0; i < v.length; i++) {
      const o = Math.floor(i / (Ho * Wo)) % c.O;
      v[i] = b.data[o];
      abs[i] = Math.abs(b.data[o]);
    }
  }
  forEachTap(c, (yi, xi, wi) => {
    const t = x.data[xi] * w.data[wi];
    v[yi] += t;
    abs[yi] += Math.abs(t);
  });
  return { v, abs };
}

function refGrad(c: Conv, x: Tensor, w: Tensor, dy: Tensor): [Ref, Ref, Ref] {
  const dx = { v: new Float64Array(x.size), abs: new Float64Array(x.size) };
  const dw = { v: new Float64Array(w.size), abs: new Float64Array(w.size) };
  const db = { v: new Float64Array(c.O), abs: new Float64Array(c.O) };
  forEachTap(c, (yi, xi, wi) => {
    const g = dy.data[yi];
    dx.v[xi] += w.data[wi] * g;
    dx.abs[xi] += Math.abs(w.data[wi] * g);
    dw.v[wi] += x.data[xi] * g;
    dw.abs[wi] += Math.abs(x.data[xi] * g);
  });
  const HoWo = dy.size / (c.N * c.O);
  for (let i = 0; i < dy.size; i++) {
    const o = Math.floor(i / HoWo) % c.O;
    db.v[o] += dy.data[i];
    db.abs[o] += Math.abs(dy.data[i]);
  }
  return [dx, dw, db];
}

/**
 * |got − want| ≤ 1e-6 + 1e-5·Σ|terms| per element: float32 accumulation (the WebAssembly GEMM) stays far
 * inside it, while a wrong, missing or extra tap moves an element by about one term, Σ|terms|/taps ≫ that.
 */
function expectMatches(got: Tensor, want: Ref, shape: readonly number[], what: string): void {
  expect([...got.shape], `${what}: shape`).toEqual([...shape]);
  expect(got.size, `${what}: size`).toBe(want.v.length);
  const bad: string[] = [];
  for (let i = 0; i < want.v.length && bad.length < 5; i++) {
    const tol = 1e-6 + 1e-5 * want.abs[i];
    if (!(Math.abs(got.data[i] - want.v[i]) <= tol)) bad.push(`[${i}] got ${got.data[i]}, want ${want.v[i]} (tolerance ${tol.toExponential(1)})`);
  }
  expect(bad, `${what}: ${bad.join("; ")}`).toEqual([]);
}

function attrsOf(c: Conv): Attrs {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
}

function describeConv(c: Conv): string {
  return `N ${c.N}, C ${c.C} → O ${c.O}, ${c.H}×${c.W}, kernel ${c.KH}×${c.KW}, stride ${c.stride}, padding ${c.padding}, dilation ${c.dilation}, groups ${c.groups}`;
}

/** Operands of a case: x, weight, bias, and a dy of the output's shape (sparse: most elements zero, as after a max-pool backward). */
function operands(c: Conv, r: Rng, sparse = false): { x: Tensor; w: Tensor; b: Tensor; dy: Tensor } {
  const [Ho, Wo] = outSize(c);
  const x = randTensor([c.N, c.C, c.H, c.W], r);
  const w = randTensor([c.O, c.C / c.groups, c.KH, c.KW], r);
  const b = randTensor([c.O], r);
  const dy = randTensor([c.N, c.O, Ho, Wo], r);
  if (sparse) for (let i = 0; i < dy.size; i++) if (r(0, 1) < 0.8) dy.data[i] = 0;
  return { x, w, b, dy };
}

// The grid: batch 1 and 3, groups 1 and 2, stride 1 and 2, padding 0, 1 and 2, dilation 1 and 2, kernels
// 1×1, 3×3 and 5×3, channel counts that are not multiples of 4, a non-square image.
const GRID: Conv[] = [];
for (const [KH, KW] of [[1, 1], [3, 3], [5, 3]] as const)
  for (const groups of [1, 2])
    for (const N of [1, 3])
      for (const s of [1, 2])
        for (const p of [0, 1, 2])
          for (const d of [1, 2]) {
            const c: Conv = { N, C: 3 * groups, H: 11, W: 9, O: 5 * groups, KH, KW, stride: [s, s], padding: [p, p], dilation: [d, d], groups };
            GRID.push(c);
          }
// Per-axis attributes that differ between height and width, and 3 groups.
const MIXED: Conv[] = [
  { N: 3, C: 6, H: 10, W: 7, O: 6, KH: 5, KW: 3, stride: [2, 1], padding: [2, 0], dilation: [1, 2], groups: 3 },
  { N: 2, C: 5, H: 9, W: 13, O: 7, KH: 3, KW: 5, stride: [1, 3], padding: [0, 2], dilation: [2, 1], groups: 1 },
];

const threaded = kernelPathAvailable("wasm-simd-threads", "conv2d-gemm") ? new ThreadedGemm(2, 0) : null;
afterAll(async () => {
  await threaded?.dispose();
});

/** The GEMM of each kernel path; the portable one twice, its gradient on the GEMM lowering and on the direct loops. */
const PATHS: { name: string; gemm: Gemm; jsDirectDensity?: number }[] = [
  { name: "js, GEMM lowering", gemm: jsGemm, jsDirectDensity: 0 },
  { name: "js, direct gradient loops", gemm: jsGemm, jsDirectDensity: Infinity },
  ...(kernelPathAvailable("wasm-simd", "conv2d-gemm") ? [{ name: "wasm-simd", gemm: gemmFor("wasm-simd") }] : []),
  ...(threaded ? [{ name: "wasm-simd-threads (2 threads, every call split)", gemm: threaded }] : []),
];

function ctxFor(gemm: Gemm, op: string): KernelContext {
  return { op, env: new ShapeEnv(), inputNames: [], gemm, runGraph: () => [] };
}

/** Column-buffer limits that cut a batch of `c` into chunks of one image and of two (3 images: 2 + 1), and the default. */
function limits(c: Conv): { name: string; bytes: number; perChunk: number }[] {
  const [Ho, Wo] = outSize(c);
  const perImage = 4 * c.C * c.KH * c.KW * Ho * Wo;
  const all = [{ name: "whole batch", bytes: CONV_COL_BYTES, perChunk: c.N }];
  if (c.N > 1) all.push({ name: "1 image per chunk", bytes: perImage, perChunk: 1 }, { name: "2 images per chunk", bytes: 2 * perImage + 3, perChunk: 2 });
  return all;
}

describe("conv2d on the GEMM: forward and gradients against a double-precision reference", () => {
  for (const path of PATHS) {
    for (const [KH, KW] of [[1, 1], [3, 3], [5, 3]])
      for (const groups of [1, 2]) {
        it(`${path.name}: kernel ${KH}×${KW}, groups ${groups}`, () => {
          const cases = GRID.filter((c) => c.KH === KH && c.KW === KW && c.groups === groups);
          expect(cases.length).toBeGreaterThanOrEqual(24);
          runCases(path, cases, 1000 * KH + 10 * KW + groups);
        });
      }
    it(`${path.name}: mixed per-axis stride, padding, dilation; groups 3`, () => {
      runCases(path, MIXED, 7);
    });
  }
});

function runCases(path: (typeof PATHS)[number], cases: Conv[], seed: number): void {
  const r = rand(seed);
  cases.forEach((c, k) => {
    const { x, w, b, dy } = operands(c, r);
    const bias = k % 2 === 0 ? b : null;
    const fwd = refForward(c, x, w, bias);
    const [dx, dw, db] = refGrad(c, x, w, dy);
    const [Ho, Wo] = outSize(c);
    for (const lim of limits(c)) {
      const what = `${path.name}, ${describeConv(c)}, ${bias ? "bias" : "no bias"}, ${lim.name}`;
      const g = convGeometry(x, w, dy, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
      expect(imagesPerChunk(g, lim.bytes), `${what}: images per chunk`).toBe(lim.perChunk);
      const fk: Kernel = conv2dKernelFor(lim.bytes);
      const [y] = fk([x, w, bias], attrsOf(c), ctxFor(path.gemm, "conv2d"));
      expectMatches(y, fwd, [c.N, c.O, Ho, Wo], `${what}: y`);
      const gk = conv2dGradKernelFor(lim.bytes, path.jsDirectDensity);
      const [gx, gw, gb] = gk([x, w, dy], attrsOf(c), ctxFor(path.gemm, "conv2d_grad"));
      expectMatches(gx, dx, x.shape, `${what}: dx`);
      expectMatches(gw, dw, w.shape, `${what}: dweight`);
      expectMatches(gb, db, [c.O], `${what}: dbias`);
    }
  });
}

describe("conv2d and conv2d_grad as registered, through the backend on each kernel path", () => {
  const backends = [
    { name: "js", make: () => createCpuBackend({ kernels: "js" }) },
    ...(kernelPathAvailable("wasm-simd", "conv2d-gemm") ? [{ name: "wasm-simd", make: () => createCpuBackend({ kernels: "wasm-simd" }) }] : []),
    ...(threaded ? [{ name: "wasm-simd-threads", make: () => createCpuBackend({ kernels: "wasm-simd-threads", threads: 2, threadMinFlops: 0 }) }] : []),
  ];
  const cases: Conv[] = [
    { N: 3, C: 3, H: 12, W: 10, O: 5, KH: 3, KW: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
    { N: 2, C: 6, H: 11, W: 9, O: 10, KH: 5, KW: 3, stride: [2, 1], padding: [2, 1], dilation: [1, 2], groups: 2 },
  ];
  for (const be of backends) {
    it(`${be.name}: forward, and gradients of a dense and of a mostly-zero dy`, async () => {
      const backend = be.make();
      const r = rand(41);
      for (const c of cases) {
        for (const sparse of [false, true]) {
          const { x, w, b, dy } = operands(c, r, sparse);
          const what = `${be.name}, ${describeConv(c)}, ${sparse ? "sparse" : "dense"} dy`;
          if (be.name === "js") {
            // The portable path runs the direct loops below the density threshold, the GEMM above it.
            const nonzero = dy.data.filter((v) => v !== 0).length / dy.size;
            expect(nonzero < JS_DIRECT_GRAD_DENSITY, `${what}: density ${nonzero}`).toBe(sparse);
          }
          const [Ho, Wo] = outSize(c);
          const [y] = await runOn(backend, "conv2d", [x, w, b], attrsOf(c));
          expectMatches(y, refForward(c, x, w, b), [c.N, c.O, Ho, Wo], `${what}: y`);
          const [gx, gw, gb] = await runOn(backend, "conv2d_grad", [x, w, dy], attrsOf(c));
          const [dx, dw, db] = refGrad(c, x, w, dy);
          expectMatches(gx, dx, x.shape, `${what}: dx`);
          expectMatches(gw, dw, w.shape, `${what}: dweight`);
          expectMatches(gb, db, [c.O], `${what}: dbias`);
        }
      }
    });
  }
  it("a batch whose columns exceed CONV_COL_BYTES runs in chunks (wasm-simd when available, else js)", async () => {
    // Columns of 8 images of 16 channels, 3×3 on 64×64: 8 · 4·144·4096 B = 18 MiB, so chunks of 7 and 1.
    const c: Conv = { N: 8, C: 16, H: 64, W: 64, O: 4, KH: 3, KW: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 };
    const [Ho, Wo] = outSize(c);
    const r = rand(43);
    const { x, w, b, dy } = operands(c, r);
    const g = convGeometry(x, w, dy, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
    expect(imagesPerChunk(g, CONV_COL_BYTES)).toBe(7);
    const backend = createCpuBackend({ kernels: kernelPathAvailable("wasm-simd", "conv2d-gemm") ? "wasm-simd" : "js" });
    const [y] = await runOn(backend, "conv2d", [x, w, b], attrsOf(c));
    expectMatches(y, refForward(c, x, w, b), [c.N, c.O, Ho, Wo], "chunked batch: y");
    const [gx, gw, gb] = await runOn(backend, "conv2d_grad", [x, w, dy], attrsOf(c));
    const [dx, dw, db] = refGrad(c, x, w, dy);
    expectMatches(gx, dx, x.shape, "chunked batch: dx");
    expectMatches(gw, dw, w.shape, "chunked batch: dweight");
    expectMatches(gb, db, [c.O], "chunked batch: dbias");
  });
});
