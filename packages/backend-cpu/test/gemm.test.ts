import { afterEach, describe, expect, it } from "vitest";
import { BackendError, GraphBuilder, type Attrs, type Tensor } from "@attn/core";
import { createCpuBackend, defaultThreads, jsGemm, resolveKernels, resolveThreads, threadsSupported, WasmGemm, wasmSimdSupported, type CpuBackend, type GemmArgs } from "../src/index.js";
import { rand, randTensor } from "./helpers.js";

/** The GEMM of the kernel paths against a double-precision reference written out here (no blocking, no packing). */

function randArray(n: number, seed: number): Float32Array {
  const r = rand(seed);
  return Float32Array.from({ length: n }, () => r());
}

/** Reference C for every product of `p`, in double, plus Σ|a·b| per element (for a float32 error bound). */
function reference(p: GemmArgs): { c: Float64Array; abs: Float64Array } {
  const count = p.count ?? 1;
  const c = new Float64Array(count * p.M * p.N);
  const abs = new Float64Array(c.length);
  for (let t = 0; t < count; t++) {
    const ao = p.aOff?.[t] ?? 0;
    const bo = p.bOff?.[t] ?? 0;
    for (let i = 0; i < p.M; i++) {
      for (let j = 0; j < p.N; j++) {
        let s = p.bias ? p.bias[j] : 0;
        let m = p.bias ? Math.abs(p.bias[j]) : 0;
        for (let k = 0; k < p.K; k++) {
          const v = p.a[ao + i * p.rsa + k * p.csa] * p.b[bo + k * p.rsb + j * p.csb];
          s += v;
          m += Math.abs(v);
        }
        c[(t * p.M + i) * p.N + j] = s;
        abs[(t * p.M + i) * p.N + j] = m;
      }
    }
  }
  return { c, abs };
}

/** Failures of `got` against the reference: the conformance tolerance, and float32 summation error ≤ 4u·Σ|a·b|. */
function check(got: Float32Array, p: GemmArgs): string[] {
  const { c, abs } = reference(p);
  const bad: string[] = [];
  if (got.length !== c.length) return [`length ${got.length}, want ${c.length}`];
  for (let i = 0; i < c.length && bad.length < 5; i++) {
    const err = Math.abs(got[i] - c[i]);
    if (!(err <= 1e-5 + 1e-4 * Math.abs(c[i])) || !(err <= 4 * 2 ** -24 * abs[i] + 1e-30)) bad.push(`[${i}] got ${got[i]}, want ${c[i]}`);
  }
  return bad;
}

/** A row-major A·B problem (matmul's layout). */
function mm(M: number, N: number, K: number, seed = 1): GemmArgs {
  return { M, N, K, a: randArray(M * K, seed), rsa: K, csa: 1, b: randArray(K * N, seed + 1), rsb: N, csb: 1 };
}

/** x·Wᵀ + b with W [N, K] row-major (linear's layout: B is read transposed). */
function lin(M: number, N: number, K: number, bias: boolean, seed = 3): GemmArgs {
  return {
    M, N, K, a: randArray(M * K, seed), rsa: K, csa: 1, b: randArray(N * K, seed + 1), rsb: 1, csb: K,
    bias: bias ? randArray(N, seed + 2) : null,
  };
}

// Shapes around the blocking of assembly/gemm.ts: tile 4×8, MC 72, KC 256, NC 1024.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 1, 7], [3, 5, 1], [1, 9, 4], [9, 1, 4], [6, 8, 16], [7, 9, 5], [12, 16, 33], [13, 17, 257],
  [73, 23, 40], [80, 70, 300], [5, 1030, 3], [2, 2051, 9], [145, 9, 520],
];

describe("wasm gemm", () => {
  it("is available in this runtime (Node 20 validates the SIMD module)", () => {
    expect(wasmSimdSupported()).toBe(true);
  });

  const wasm = new WasmGemm();
  for (const [M, N, K] of SHAPES) {
    it(`A·B ${M}×${K}·${K}×${N}, x·Wᵀ with and without bias: both paths match the reference`, () => {
      for (const p of [mm(M, N, K), lin(M, N, K, true), lin(M, N, K, false)]) {
        expect(check(wasm.gemm(p), p)).toEqual([]);
        expect(check(jsGemm.gemm(p), p)).toEqual([]);
      }
    });
  }

  it("reads a transposed A (column-major) and any strides", () => {
    const M = 11, N = 13, K = 29;
    const a = randArray(M * K, 7); // A[i, k] = a[k·M + i]
    const p: GemmArgs = { M, N, K, a, rsa: 1, csa: M, b: randArray(K * N * 2, 8), rsb: 2 * N, csb: 2 };
    expect(check(wasm.gemm(p), p)).toEqual([]);
    expect(check(jsGemm.gemm(p), p)).toEqual([]);
  });

  it("K = 0 gives the bias (or zeros) and M or N = 0 gives an empty result", () => {
    const bias = Float32Array.from([1, -2, 3]);
    const p: GemmArgs = { M: 2, N: 3, K: 0, a: new Float32Array(0), rsa: 0, csa: 1, b: new Float32Array(0), rsb: 1, csb: 0, bias };
    expect([...wasm.gemm(p)]).toEqual([1, -2, 3, 1, -2, 3]);
    expect([...wasm.gemm({ ...p, bias: null })]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(wasm.gemm({ ...mm(0, 4, 3) }).length).toBe(0);
    expect(wasm.gemm({ ...mm(4, 0, 3) }).length).toBe(0);
  });

  it("runs a batch with per-product offsets (a broadcast B is read in place)", () => {
    const M = 7, N = 10, K = 12;
    const a = randArray(3 * M * K, 11);
    const b = randArray(K * N, 12);
    const p: GemmArgs = { M, N, K, a, rsa: K, csa: 1, b, rsb: N, csb: 1, count: 3, aOff: [0, M * K, 2 * M * K], bOff: [0, 0, 0] };
    expect(check(wasm.gemm(p), p)).toEqual([]);
  });

  it("stays within the conformance tolerance at K = 4096 (float32 accumulation in K blocks)", () => {
    const p = mm(8, 24, 4096, 21);
    expect(check(wasm.gemm(p), p)).toEqual([]);
    const q = lin(9, 17, 4096, true, 23);
    expect(check(wasm.gemm(q), q)).toEqual([]);
  });

  it("gives the same answers after its memory grew for a large call", () => {
    const small = lin(5, 7, 9, true, 31);
    const before = wasm.gemm(small);
    const big = mm(300, 300, 300, 33);
    expect(check(wasm.gemm(big), big)).toEqual([]);
    expect([...wasm.gemm(small)]).toEqual([...before]);
  });

  it("gives the same results for every cache blocking (edges of every block exercised)", () => {
    const g = new WasmGemm();
    const ps = [mm(37, 45, 70, 41), lin(37, 45, 70, true, 43)];
    for (const [mc, kc, nc] of [[6, 16, 8], [12, 1, 16], [7, 33, 9]]) {
      g.setBlocking(mc, kc, nc);
      for (const p of ps) expect(check(g.gemm(p), p)).toEqual([]);
    }
  });
});

/** Runs one node on `backend` and returns its first output. */
async function run(backend: CpuBackend, op: string, inputs: Tensor[], attrs: Attrs = {}): Promise<Tensor> {
  const g = new GraphBuilder(op);
  const feeds: Record<string, Tensor> = {};
  const ids = inputs.map((x, i) => {
    feeds[`in${i}`] = x;
    return g.input(`in${i}`, { dtype: x.dtype, shape: x.shape });
  });
  g.output("out", g.add1(op, ids, attrs));
  return (await (await backend.compile(g.build(), { params: new Map() })).run(feeds)).out;
}

describe("matmul and linear on each kernel path", () => {
  const js = createCpuBackend({ kernels: "js" });
  const simd = createCpuBackend({ kernels: "wasm-simd" });
  const close = (got: Tensor, want: Tensor) => {
    expect([...got.shape]).toEqual([...want.shape]);
    const bad = [...got.data].map((v, i) => [v, want.data[i]] as const).filter(([g, w]) => !(Math.abs(g - w) <= 1e-5 + 1e-4 * Math.abs(w)));
    expect(bad.slice(0, 5)).toEqual([]);
  };
  const cases: [string, number[], number[]][] = [
    ["batch broadcast", [2, 1, 5, 7], [3, 7, 4]],
    ["vector · matrix", [7], [7, 9]],
    ["matrix · vector", [4, 6, 7], [7]],
    ["vector · vector", [13], [13]],
    ["1×1", [1, 1], [1, 1]],
    ["K = 1", [5, 1], [1, 11]],
    ["odd sizes, batched both sides", [3, 19, 33], [3, 33, 17]],
  ];
  for (const [name, as, bs] of cases) {
    it(`matmul ${name}: ${JSON.stringify(as)} @ ${JSON.stringify(bs)}`, async () => {
      const r = rand(as.length * 31 + bs.length);
      const a = randTensor(as, r);
      const b = randTensor(bs, r);
      close(await run(simd, "matmul", [a, b]), await run(js, "matmul", [a, b]));
    });
  }
  it("linear over [2, 3, 20] with and without bias", async () => {
    const r = rand(5);
    const x = randTensor([2, 3, 20], r);
    const w = randTensor([9, 20], r);
    const b = randTensor([9], r);
    close(await run(simd, "linear", [x, w, b]), await run(js, "linear", [x, w, b]));
    close(await run(simd, "linear", [x, w]), await run(js, "linear", [x, w]));
  });
});

describe("gru and gru_cell on the GEMM (wasm-simd) against the js path", () => {
  const H = 5, I = 7, B = 3, S = 4;
  const r = rand(77);
  const w = () => [randTensor([3 * H, I], r), randTensor([3 * H, H], r), randTensor([3 * H], r), randTensor([3 * H], r)];
  const runGru = async (kernels: "js" | "wasm-simd", inputs: Tensor[], h0: Tensor): Promise<Tensor[]> => {
    const g = new GraphBuilder("gru");
    const feeds: Record<string, Tensor> = {};
    const ids = [...inputs, h0].map((x, i) => {
      feeds[`in${i}`] = x;
      return g.input(`in${i}`, { dtype: x.dtype, shape: x.shape });
    });
    const [y, hn] = g.add("gru", ids, { hidden: H, bidirectional: true });
    g.output("y", y);
    g.output("hn", hn);
    const res = await (await createCpuBackend({ kernels }).compile(g.build(), { params: new Map() })).run(feeds);
    return [res.y, res.hn];
  };
  it("bidirectional gru with h0", async () => {
    const inputs = [randTensor([B, S, I], r), ...w(), ...w()];
    const h0 = randTensor([2, B, H], r);
    const [y1, h1] = await runGru("wasm-simd", inputs, h0);
    const [y2, h2] = await runGru("js", inputs, h0);
    for (const [a, b] of [[y1, y2], [h1, h2]]) {
      expect([...a.shape]).toEqual([...b.shape]);
      expect([...a.data].every((v, i) => Math.abs(v - b.data[i]) <= 1e-5 + 1e-4 * Math.abs(b.data[i]))).toBe(true);
    }
  });
  it("gru_cell", async () => {
    const x = randTensor([B, I], r);
    const h = randTensor([B, H], r);
    const ws = w();
    const a = await run(createCpuBackend({ kernels: "wasm-simd" }), "gru_cell", [x, h, ...ws]);
    const b = await run(createCpuBackend({ kernels: "js" }), "gru_cell", [x, h, ...ws]);
    expect([...a.data].every((v, i) => Math.abs(v - b.data[i]) <= 1e-5 + 1e-4 * Math.abs(b.data[i]))).toBe(true);
  });
});

describe("kernel path selection", () => {
  const saved = process.env.ATTN_CPU_KERNELS;
  afterEach(() => {
    if (saved === undefined) delete process.env.ATTN_CPU_KERNELS;
    else process.env.ATTN_CPU_KERNELS = saved;
  });

  it("reports the path in use; auto picks wasm-simd-threads with several cores, else wasm-simd where WebAssembly SIMD validates", () => {
    delete process.env.ATTN_CPU_KERNELS;
    const js = createCpuBackend({ kernels: "js" });
    expect(js.name).toBe("cpu");
    expect(js.kernels).toBe("js");
    expect(js.description).toMatch(/^cpu \(js/);
    expect(createCpuBackend({ kernels: "wasm-simd" }).description).toMatch(/^cpu \(wasm-simd/);
    const auto = threadsSupported() && defaultThreads() > 1 ? "wasm-simd-threads" : "wasm-simd";
    expect(createCpuBackend().kernels).toBe(auto);
    expect(createCpuBackend({ kernels: "auto" }).kernels).toBe(auto);
    if (threadsSupported()) expect(createCpuBackend({ kernels: "wasm-simd-threads" }).threads).toBe(defaultThreads());
  });

  it("takes ATTN_CPU_THREADS when no threads option is given", () => {
    const was = process.env.ATTN_CPU_THREADS;
    try {
      process.env.ATTN_CPU_THREADS = "3";
      expect(resolveThreads()).toBe(3);
      expect(resolveThreads(2)).toBe(2);
      process.env.ATTN_CPU_THREADS = "x";
      expect(() => resolveThreads()).toThrow(/ATTN_CPU_THREADS is "x"/);
    } finally {
      if (was === undefined) delete process.env.ATTN_CPU_THREADS;
      else process.env.ATTN_CPU_THREADS = was;
    }
  });

  it("takes ATTN_CPU_KERNELS when no option is given; an explicit option wins", () => {
    process.env.ATTN_CPU_KERNELS = "js";
    expect(createCpuBackend().kernels).toBe("js");
    expect(createCpuBackend({ kernels: "wasm-simd" }).kernels).toBe("wasm-simd");
    process.env.ATTN_CPU_KERNELS = "wasm-simd";
    expect(resolveKernels()).toBe("wasm-simd");
  });

  it("rejects an unknown path, from the option or the variable, naming the choices", () => {
    process.env.ATTN_CPU_KERNELS = "gpu";
    expect(() => createCpuBackend()).toThrow(BackendError);
    expect(() => createCpuBackend()).toThrow(/ATTN_CPU_KERNELS is "gpu"; expected one of "auto", "js", "wasm-simd", "wasm-simd-threads"/);
    delete process.env.ATTN_CPU_KERNELS;
    expect(() => createCpuBackend({ kernels: "fast" as never })).toThrow(/kernels is "fast"/);
  });
});
