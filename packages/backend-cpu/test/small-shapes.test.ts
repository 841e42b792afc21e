import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, type Attrs, type Graph, type ValueId } from "@attn/core";
import { CpuExecutable, createCpuBackend, jsGemm, type CpuBackend, type Gemm, type GemmArgs } from "../src/index.js";
import { WasmGruGates } from "../src/elementwise/gru-gates.js";
import { smallAttention } from "../src/kernels/flash.js";
import { gatesBackward, gatesForward, stepGates, stepGatesBackward } from "../src/kernels/gru-gemm.js";
import { expectClose, kernelPathAvailable, rand, randTensor, runOn } from "./helpers.js";

// The routes backend-cpu takes for small shapes (a decoder step: one query, batch-broadcast weights, a GRU
// over one step) against the general routes they replace, on every kernel path:
// - attention / attention_grad whose per-head problem is too small for the fused kernel's 64 × 64 tiles run
//   the portable kernel (`smallAttention`; `fuseSmallAttention: true` keeps them on the fused kernel);
// - matmul with a right operand shared by the batch runs as one GEMM over the batch's rows;
// - a matmul whose only reader sums it over the batch runs as one GEMM over the batch (plan/fold-batch-sums.ts);
// - the GRU gate loops run in WebAssembly on the wasm paths.

const wasmOk = kernelPathAvailable("wasm-simd", "small-shape routes");
const threadsOk = kernelPathAvailable("wasm-simd-threads", "small-shape routes on threads");
const js = createCpuBackend({ kernels: "js" });
const paths: { name: string; be: CpuBackend; fused: CpuBackend }[] = [
  { name: "js", be: js, fused: createCpuBackend({ kernels: "js", fuseSmallAttention: true }) },
  ...(wasmOk ? [{ name: "wasm-simd", be: createCpuBackend({ kernels: "wasm-simd" }), fused: createCpuBackend({ kernels: "wasm-simd", fuseSmallAttention: true }) }] : []),
  ...(threadsOk
    ? [
        {
          name: "wasm-simd-threads",
          // every call that stays on the fused kernel or the GEMM goes through the threads, however small
          be: createCpuBackend({ kernels: "wasm-simd-threads", threads: 2, threadMinFlops: 0 }),
          fused: createCpuBackend({ kernels: "wasm-simd-threads", threads: 2, threadMinFlops: 0, fuseSmallAttention: true }),
        },
      ]
    : []),
];
const TOL = { atol: 1e-5, rtol: 1e-4 };
const bits = (t: Tensor) => Array.from(t.data as Float32Array);

function boolTensor(shape: number[], f: (i: number) => boolean): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(Array.from({ length: n }, (_, i) => f(i)), { dtype: "bool", shape });
}

describe("smallAttention: which per-head problems leave the fused kernel", () => {
  it("one query always; a few queries over few keys; nothing that fills 1/32 of its tiles", () => {
    for (const Tk of [1, 10, 64, 65, 4096]) expect(smallAttention(1, Tk), `Tq 1, Tk ${Tk}`).toBe(true);
    expect(smallAttention(4, 8)).toBe(true);
    expect(smallAttention(2, 64)).toBe(true); // 128 of 4096 tile entries: exactly 1/32
    expect(smallAttention(3, 64)).toBe(false);
    expect(smallAttention(16, 8)).toBe(true);
    expect(smallAttention(17, 8)).toBe(false);
    expect(smallAttention(13, 150)).toBe(false);
    expect(smallAttention(64, 64)).toBe(false);
    expect(smallAttention(0, 5)).toBe(true);
  });
});

interface AttnCase {
  name: string;
  lead: number[];
  Tq: number;
  Tk: number;
  D: number;
  Dv?: number;
  causal?: boolean;
  window?: number | null;
  mask?: "pad" | "full";
}

const small: AttnCase[] = [
  // a decoder step as the Luong step model runs it: [B, 1, D] against [B, S, D], key padding, batch 1 fully masked
  { name: "decoder step, key padding, a fully masked row", lead: [5], Tq: 1, Tk: 10, D: 24, mask: "pad" },
  { name: "many heads, 2 queries, per-query mask with fully masked rows", lead: [3, 4], Tq: 2, Tk: 9, D: 8, Dv: 5, mask: "full" },
  { name: "causal + window, Tq 4 over Tk 8", lead: [2, 3], Tq: 4, Tk: 8, D: 16, causal: true, window: 2 },
  { name: "2 queries over 64 keys (the threshold itself)", lead: [3], Tq: 2, Tk: 64, D: 7, mask: "pad" },
];
/** Just above the threshold: stays on the fused kernel. */
const fusedCase: AttnCase = { name: "3 queries over 64 keys", lead: [3], Tq: 3, Tk: 64, D: 7, mask: "pad" };

function attnInputs(c: AttnCase, seed: number): { ins: (Tensor | null)[]; dOut: Tensor; attrs: Attrs } {
  const r = rand(seed);
  const Dv = c.Dv ?? c.D;
  const q = randTensor([...c.lead, c.Tq, c.D], r);
  const k = randTensor([...c.lead, c.Tk, c.D], r);
  const v = randTensor([...c.lead, c.Tk, Dv], r);
  const B = c.lead[0];
  let mask: Tensor | null = null;
  if (c.mask === "pad") mask = boolTensor([B, c.Tk], (i) => Math.floor(i / c.Tk) === 1 || i % c.Tk >= c.Tk - 3);
  if (c.mask === "full") {
    const inner = c.lead.slice(1).reduce((a, b) => a * b, 1);
    // query row 1 of the first head fully masked; random holes elsewhere
    mask = boolTensor([...c.lead, c.Tq, c.Tk], (i) => Math.floor(i / c.Tk) === 1 || r() > 0.6);
    expect(inner).toBeGreaterThan(0);
  }
  const dOut = randTensor([...c.lead, c.Tq, Dv], r);
  return { ins: [q, k, v, mask], dOut, attrs: { scale: 0.3, causal: c.causal ?? false, window: c.window ?? null } };
}

/** Rows (of Tq·Dv outputs) whose every key is masked must be exact zeros. */
function expectZeroRows(out: Tensor, rows: number[], width: number): void {
  for (const row of rows) expect(bits(out).slice(row * width, (row + 1) * width).every((x) => x === 0), `row ${row}`).toBe(true);
}

describe.each(paths)("small attention routes to the portable kernel on $name", ({ name, be, fused }) => {
  for (const c of small) {
    it(`${c.name}: forward (weights off and on) and backward equal the js kernels bit for bit, and the fused kernel within tolerance`, async () => {
      expect(smallAttention(c.Tq, c.Tk)).toBe(true);
      const { ins, dOut, attrs } = attnInputs(c, 11);
      for (const weights of [false, true]) {
        const got = await runOn(be, "attention", ins, { ...attrs, weights });
        const want = await runOn(js, "attention", ins, { ...attrs, weights });
        const viaFused = await runOn(fused, "attention", ins, { ...attrs, weights });
        got.forEach((g, i) => {
          expect(bits(g), `${name} output ${i}`).toEqual(bits(want[i]));
          expectClose(viaFused[i], want[i], TOL);
        });
        if (c.mask === "pad") {
          // batch 1 sees no key: zero output (and zero weights) on both kernels
          const per = c.lead.slice(1).reduce((a, b) => a * b, 1) * c.Tq;
          const rows = Array.from({ length: per }, (_, i) => per + i);
          expectZeroRows(got[0], rows, c.Dv ?? c.D);
          expectZeroRows(viaFused[0], rows, c.Dv ?? c.D);
        }
        if (c.mask === "full") {
          expectZeroRows(got[0], [1], c.Dv ?? c.D);
          expectZeroRows(viaFused[0], [1], c.Dv ?? c.D);
        }
      }
      const g = await runOn(be, "attention_grad", [...ins, dOut, null], attrs);
      const gw = await runOn(js, "attention_grad", [...ins, dOut, null], attrs);
      const gf = await runOn(fused, "attention_grad", [...ins, dOut, null], attrs);
      g.forEach((t, i) => {
        expect(bits(t), `${name} gradient ${i}`).toEqual(bits(gw[i]));
        expectClose(gf[i], gw[i], TOL);
      });
    });
  }

  it(`${fusedCase.name}: above the threshold, the fused kernel runs (same bits with or without fuseSmallAttention)`, async () => {
    expect(smallAttention(fusedCase.Tq, fusedCase.Tk)).toBe(false);
    const { ins, dOut, attrs } = attnInputs(fusedCase, 12);
    const a = await runOn(be, "attention", ins, attrs);
    const b = await runOn(fused, "attention", ins, attrs);
    expect(bits(a[0])).toEqual(bits(b[0]));
    expectClose(a[0], (await runOn(js, "attention", ins, attrs))[0], TOL);
    const ga = await runOn(be, "attention_grad", [...ins, dOut, null], attrs);
    const gb = await runOn(fused, "attention_grad", [...ins, dOut, null], attrs);
    ga.forEach((t, i) => expect(bits(t)).toEqual(bits(gb[i])));
  });

  it("fuseSmallAttention really keeps small problems on the fused kernel (float32: not the js bits)", async () => {
    if (name === "js") return;
    const { ins, attrs } = attnInputs({ name: "", lead: [4], Tq: 1, Tk: 30, D: 64 }, 13);
    const a = await runOn(fused, "attention", ins, attrs);
    const b = await runOn(js, "attention", ins, attrs);
    expect(bits(a[0])).not.toEqual(bits(b[0]));
    expectClose(a[0], b[0], TOL);
  });

  it("multi-head one-query attention with its head transposes folded: the portable kernel on the materialised heads", async () => {
    const [B, H, D, S] = [3, 4, 8, 6];
    const g = new GraphBuilder("mh-step");
    const x = g.input("x", { dtype: "float32", shape: [B, 1, H, D] });
    const m = g.input("m", { dtype: "float32", shape: [B, S, H, D] });
    const pad = g.input("pad", { dtype: "bool", shape: [B, S] });
    const dy = g.input("dy", { dtype: "float32", shape: [B, 1, H, D] });
    const heads = (v: ValueId) => g.add1("transpose", [v], { perm: [0, 2, 1, 3] });
    const attrs = { scale: 0.25 };
    const out = g.add1("attention", [heads(x), heads(m), heads(m), pad], attrs);
    g.output("y", heads(out));
    const grads = g.add("attention_grad", [heads(x), heads(m), heads(m), pad, heads(dy), null], attrs);
    grads.forEach((d, i) => g.output(`d${i}`, heads(d)));
    const r = rand(14);
    const feeds = {
      x: randTensor([B, 1, H, D], r),
      m: randTensor([B, S, H, D], r),
      pad: boolTensor([B, S], (i) => i % S >= S - 2 || Math.floor(i / S) === 2),
      dy: randTensor([B, 1, H, D], r),
    };
    const graph = g.build();
    const got = await (await be.compile(graph, { params: new Map() })).run(feeds);
    const want = await (await js.compile(graph, { params: new Map() })).run(feeds);
    const viaFused = await (await fused.compile(graph, { params: new Map() })).run(feeds);
    for (const k of Object.keys(want)) {
      expect(bits(got[k]), k).toEqual(bits(want[k]));
      expectClose(viaFused[k], want[k], TOL);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// matmul

/** `b` [..., K, N] repeated over `batch` (a materialised copy: the general batched route). */
function tile(b: Tensor, batch: number[]): Tensor {
  const n = batch.reduce((x, y) => x * y, 1);
  const mat = b.shape.slice(-2);
  const size = mat[0] * mat[1];
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) out.set((b.data as Float32Array).subarray(0, size), i * size);
  return new Tensor("float32", [...batch, ...mat], out);
}

/** Runs `matmul(maybeT(a), maybeT(b))` through a graph, a transpose of the last two axes where asked (folded by the plan). */
async function matmulGraph(be: CpuBackend, a: Tensor, b: Tensor, ta: boolean, tb: boolean): Promise<Tensor> {
  const g = new GraphBuilder("mm");
  const swap = (v: ValueId, r: number) => g.add1("transpose", [v], { perm: [...Array(r - 2).keys(), r - 1, r - 2] });
  const ia = g.input("a", { dtype: "float32", shape: a.shape });
  const ib = g.input("b", { dtype: "float32", shape: b.shape });
  g.output("y", g.add1("matmul", [ta ? swap(ia, a.rank) : ia, tb ? swap(ib, b.rank) : ib]));
  return (await (await be.compile(g.build(), { params: new Map() })).run({ a, b })).y;
}

describe.each(paths)("matmul with a batch-shared right operand on $name: one GEMM over the batch's rows", ({ be }) => {
  const r = rand(21);
  const cases: { name: string; a: number[]; b: number[]; batch: number[]; ta?: boolean; tb?: boolean }[] = [
    { name: "decoder step [B, 1, K] · [K, N]", a: [7, 1, 33], b: [33, 20], batch: [7] },
    { name: "rank 4 · rank 2", a: [3, 4, 5, 6], b: [6, 7], batch: [3, 4] },
    { name: "b with unit batch dims [1, 1, K, N]", a: [2, 3, 4, 9], b: [1, 1, 9, 5], batch: [2, 3] },
    { name: "b transposed (a folded transpose)", a: [4, 3, 10], b: [6, 10], batch: [4], tb: true },
    { name: "a transposed with M = 1", a: [5, 12, 1], b: [12, 8], batch: [5], ta: true },
    { name: "a transposed with M > 1 (not flattened)", a: [3, 6, 4], b: [6, 5], batch: [3], ta: true },
  ];
  for (const c of cases) {
    it(`${c.name}: same bits as the batched products on a tiled b`, async () => {
      const a = randTensor(c.a, r);
      const b = randTensor(c.b, r);
      const got = await matmulGraph(be, a, b, c.ta ?? false, c.tb ?? false);
      const want = await matmulGraph(be, a, tile(b, c.batch), c.ta ?? false, c.tb ?? false);
      expect([...got.shape]).toEqual([...want.shape]);
      expect(bits(got)).toEqual(bits(want));
      expectClose(got, await matmulGraph(js, a, b, c.ta ?? false, c.tb ?? false), TOL);
    });
  }

  it("a broadcast left operand (a [1, M, K] · b [B, K, N]) keeps the batched route", async () => {
    const a = randTensor([1, 3, 5], r);
    const b = randTensor([4, 5, 6], r);
    const [got] = await runOn(be, "matmul", [a, b]);
    const ad = a.data as Float32Array;
    const tiled = new Tensor("float32", [4, 3, 5], Float32Array.from({ length: 60 }, (_, i) => ad[i % 15]));
    expect(bits(got)).toEqual(bits((await runOn(be, "matmul", [tiled, b]))[0]));
  });
});

/** reduce_sum(matmul(maybeT(a), maybeT(b)), axes) through a graph; `alsoProduct` also requests the product. */
function batchSumGraph(aShape: number[], bShape: number[], ta: boolean, tb: boolean, axes: number[], keepdims: boolean, alsoProduct = false): Graph {
  const g = new GraphBuilder("mm-sum");
  const swap = (v: ValueId, r: number) => g.add1("transpose", [v], { perm: [...Array(r - 2).keys(), r - 1, r - 2] });
  const ia = g.input("a", { dtype: "float32", shape: aShape });
  const ib = g.input("b", { dtype: "float32", shape: bShape });
  const p = g.add1("matmul", [ta ? swap(ia, aShape.length) : ia, tb ? swap(ib, bShape.length) : ib]);
  g.output("s", g.add1("reduce_sum", [p], { axes, keepdims }));
  if (alsoProduct) g.output("p", p);
  return g.build();
}

/** `g` node by node through evaluateNode: the kernels as registered, no plan (no fusion, no folding). */
function unfused(be: CpuBackend, g: Graph, feeds: Record<string, Tensor>): Record<string, Tensor> {
  const vals = new Map<ValueId, Tensor>();
  g.inputs.forEach((id) => vals.set(id, feeds[g.values[id].name]));
  for (const n of g.nodes) {
    const outs = be.evaluateNode(n, n.inputs.filter((i): i is ValueId => i !== null).map((i) => vals.get(i)!));
    n.outputs.forEach((o, i) => vals.set(o, outs[i]));
  }
  return Object.fromEntries(g.outputs.map((o) => [o.name, vals.get(o.value)!]));
}

describe.each(paths.map((p) => ({ ...p, be: createCpuBackend({ kernels: p.be.kernels, threads: 2, threadMinFlops: 0, profile: true }) })))(
  "a matmul summed over its batch (a weight gradient) on $name: one GEMM",
  ({ name, be }) => {
    const r = rand(31);
    async function check(g: Graph, feeds: Record<string, Tensor>, expectFused: boolean, exact: boolean): Promise<void> {
      const exe = await be.compile(g, { params: new Map() });
      const got = await exe.run(feeds);
      const want = unfused(be, g, feeds);
      for (const k of Object.keys(want)) {
        expect([...got[k].shape], k).toEqual([...want[k].shape]);
        if (exact) expect(bits(got[k]), k).toEqual(bits(want[k]));
        else expectClose(got[k], want[k], name === "js" ? { atol: 1e-6, rtol: 1e-6 } : TOL);
      }
      const ops = exe.profile().ops;
      expect(ops.find((o) => o.op === "reduce_sum")?.calls ?? 0, "reduce_sum calls").toBe(expectFused ? 0 : 1);
      expect(ops.find((o) => o.op === "matmul")?.calls).toBe(1);
    }

    it("xᵀ · dy over [B, T] (what autodiff emits for x [B, T, K] · W [K, N]), keepdims and not", async () => {
      const feeds = { a: randTensor([6, 5, 7], r), b: randTensor([6, 5, 9], r) };
      await check(batchSumGraph([6, 5, 7], [6, 5, 9], true, false, [0], true), feeds, true, false);
      await check(batchSumGraph([6, 5, 7], [6, 5, 9], true, false, [-3], false), feeds, true, false);
    });

    it("two batch axes; a long summed index (K = 4·3·40)", async () => {
      const feeds = { a: randTensor([4, 3, 40, 11], r), b: randTensor([4, 3, 40, 13], r) };
      await check(batchSumGraph([4, 3, 40, 11], [4, 3, 40, 13], true, false, [1, 0], true), feeds, true, false);
    });

    it("M = 1 without a transpose, N = 1 with one", async () => {
      const feeds = { a: randTensor([5, 1, 8], r), b: randTensor([5, 1, 8], r) };
      await check(batchSumGraph([5, 1, 8], [5, 1, 8], false, true, [0], false), feeds, true, false);
    });

    it("layouts one GEMM cannot cover (a as stored with M > 1, a broadcast operand) fuse but compute the product and the sum: same bits", async () => {
      await check(batchSumGraph([3, 4, 5], [3, 5, 6], false, false, [0], true), { a: randTensor([3, 4, 5], r), b: randTensor([3, 5, 6], r) }, true, true);
      await check(batchSumGraph([1, 5, 4], [3, 5, 6], true, false, [0], true), { a: randTensor([1, 5, 4], r), b: randTensor([3, 5, 6], r) }, true, true);
    });

    it("does not fuse a sum over other axes, or a product that is also requested", async () => {
      const feeds = { a: randTensor([3, 4, 5], r), b: randTensor([3, 4, 6], r) };
      await check(batchSumGraph([3, 4, 5], [3, 4, 6], true, false, [0, 1], true), feeds, false, true);
      await check(batchSumGraph([3, 4, 5], [3, 4, 6], true, false, [0], true, true), feeds, false, true);
    });
  },
);

describe("the GEMM calls the routes make (a recording GEMM on the portable path)", () => {
  /** Runs `graph` on a GEMM that records each call's M, N, K and product count. */
  async function calls(graph: Graph, feeds: Record<string, Tensor>): Promise<[number, number, number, number][]> {
    const seen: [number, number, number, number][] = [];
    const gemm: Gemm = { path: "js", gemm: (p: GemmArgs) => (seen.push([p.M, p.N, p.K, p.count ?? 1]), jsGemm.gemm(p)) };
    await new CpuExecutable(graph, new Map(), gemm).run(feeds);
    return seen;
  }
  const r = rand(51);

  it("a decoder step's [B, 1, K] · [K, N]: one product of B rows", async () => {
    const g = new GraphBuilder("step");
    const x = g.input("x", { dtype: "float32", shape: [9, 1, 6] });
    const w = g.input("w", { dtype: "float32", shape: [6, 4] });
    g.output("y", g.add1("matmul", [x, w]));
    expect(await calls(g.build(), { x: randTensor([9, 1, 6], r), w: randTensor([6, 4], r) })).toEqual([[9, 4, 6, 1]]);
  });

  it("Σ_b x_bᵀ · dy_b over x [B, T, K], dy [B, T, N]: one product with K = B·T", async () => {
    const feeds = { a: randTensor([6, 5, 7], r), b: randTensor([6, 5, 9], r) };
    expect(await calls(batchSumGraph([6, 5, 7], [6, 5, 9], true, false, [0], true), feeds)).toEqual([[7, 9, 30, 1]]);
  });
});

// ---------------------------------------------------------------------------------------------------
// GRU gate loops

describe.skipIf(!wasmOk)("GRU gate loops in WebAssembly (f64x2) against the JS loops", () => {
  const ew = new WasmGruGates();
  const B = 5;
  const H = 7; // odd: the last element of each row runs the one-lane tail
  const H3 = 3 * H;
  const r = rand(41);
  const gi = Float32Array.from({ length: B * H3 }, () => r(-6, 6));
  const gh = Float32Array.from({ length: B * H3 }, () => r(-6, 6));
  const h = Float32Array.from({ length: B * H }, () => r(-1, 1));
  // saturated gates, exact zeros, tiny pre-activations, infinities and a NaN
  Object.assign(gi, { 0: 800, 1: -800, 2: 0, [H]: 1e-12, [H + 1]: -40, [2 * H]: 1e-9, [2 * H + 1]: -50, [2 * H + 2]: Infinity, [H3 + 3]: NaN });
  gh.fill(0, 0, 3);
  gh[H] = 0;
  gh[2 * H] = 0;

  it("forward: h' equal to the JS loop (within one float32 ulp; NaN where it is NaN)", () => {
    const want = new Float32Array(B * H);
    const got = new Float32Array(B * H);
    gatesForward(B, H, gi, (b) => b, gh, h, 0, want, 0);
    stepGates(ew, B, H, gi, 0, 1, gh, h, got);
    for (let i = 0; i < want.length; i++) {
      if (Number.isNaN(want[i])) expect(got[i], `[${i}]`).toBeNaN();
      else expect(Math.abs(got[i] - want[i]), `[${i}] ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(2 ** -23 * Math.abs(want[i]));
    }
    expect(Number.isNaN(want[B * H - 1]) || want.some((x) => Number.isNaN(x))).toBe(true);
  });

  it("backward: dgi, dgh and dh equal to the JS loop within double rounding", () => {
    const dh0 = Float64Array.from({ length: B * H }, () => r(-1, 1));
    const want = { dh: Float64Array.from(dh0), dgi: new Float32Array(B * H3), dgh: new Float32Array(B * H3) };
    const got = { dh: Float64Array.from(dh0), dgi: new Float32Array(B * H3), dgh: new Float32Array(B * H3) };
    const row = (b: number) => b;
    gatesBackward(B, H, gi, row, gh, row, h, row, want.dh, want.dgi, row, want.dgh, row);
    stepGatesBackward(ew, B, H, gi, gh, h, got.dh, got.dgi, got.dgh);
    const close = (a: number, w: number, rel: number, abs: number, what: string) => {
      if (Number.isNaN(w)) expect(a, what).toBeNaN();
      else expect(Math.abs(a - w), `${what}: ${a} vs ${w}`).toBeLessThanOrEqual(rel * Math.abs(w) + abs);
    };
    want.dh.forEach((w, i) => close(got.dh[i], w, 1e-14, 0, `dh[${i}]`));
    // 1 − n² and h − n cancel where a gate saturates: there the float32 results may differ in the last bits
    want.dgi.forEach((w, i) => close(got.dgi[i], w, 2 ** -22, 1e-12, `dgi[${i}]`));
    want.dgh.forEach((w, i) => close(got.dgh[i], w, 2 ** -22, 1e-12, `dgh[${i}]`));
  });
});
