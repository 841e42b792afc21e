import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { BackendError, Tensor, type Attrs } from "@attn/core";
import { createCpuBackend, ThreadPool, threadsUnavailable, WasmGemm, type CpuBackend, type GemmArgs } from "../src/index.js";
import { WasmFlash, type FlashProblem } from "../src/flash/wasm.js";
import { kernelPathAvailable, runOn } from "./helpers.js";
import { lcgFloats as rand } from "./op-graph.js";

// The "wasm-simd-threads" path splits the wasm GEMM and flash attention over worker threads; every chunk
// runs the same wasm code as "wasm-simd", so results must agree with it bit for bit. Small shapes are
// forced through the pool (`force` / threadMinFlops 0) so that chunk edges, more chunks than threads and
// a single thread are all exercised without big (slow) problems.

const single = new WasmGemm();
const flash = new WasmFlash();
const pools = [new ThreadPool(2), new ThreadPool(3), new ThreadPool(1)];
// Attention jobs over 1 byte of arena run one head group per batch (long sequences do, past 64 MiB).
const batching = new ThreadPool(2, 0, 1);
afterAll(async () => {
  for (const p of [...pools, batching]) await p.dispose();
});

const threadsRun = kernelPathAvailable("wasm-simd-threads", "threads tests");

describe.skipIf(!threadsRun)("wasm-simd-threads: the pool", () => {
  const gemmCases: [string, GemmArgs][] = (() => {
    const cases: [string, GemmArgs][] = [];
    const mk = (name: string, M: number, N: number, K: number, extra: Partial<GemmArgs> = {}) => {
      const count = extra.count ?? 1;
      cases.push([name, { M, N, K, a: rand(count * M * K + 7, M + 1), rsa: K, csa: 1, b: rand(count * K * N + 5, N + 2), rsb: N, csb: 1, ...extra }]);
    };
    mk("rows, off every block edge", 203, 77, 300);
    mk("columns (small M)", 5, 700, 129);
    mk("one row", 1, 300, 64);
    mk("K = 0 with bias", 37, 19, 0, { bias: rand(19, 9) });
    mk("K past one block", 70, 40, 600, { bias: rand(40, 3) });
    const M = 45, N = 33, K = 50;
    cases.push(["transposed A (linear's weight gradient)", { M, N, K, a: rand(K * M, 4), rsa: 1, csa: M, b: rand(K * N, 5), rsb: N, csb: 1 }]);
    cases.push(["linear's Wᵀ with bias", { M, N, K, a: rand(M * K, 6), rsa: K, csa: 1, b: rand(N * K, 7), rsb: 1, csb: K, bias: rand(N, 8) }]);
    cases.push(["batched with per-product offsets (broadcast B)", {
      M: 20, N: 24, K: 16, count: 5, a: rand(5 * 20 * 16, 10), rsa: 16, csa: 1, b: rand(16 * 24, 11), rsb: 24, csb: 1,
      aOff: [0, 320, 640, 960, 1280], bOff: [0, 0, 0, 0, 0],
    }]);
    // Row blocks of one product share a B that each thread packs once (assembly/gemm.ts: packB): wider
    // than one NC block and deeper than one KC block, and batched with a different B per product.
    mk("rows over B wider than one column block", 40, 1100, 300, { bias: rand(1100, 12) });
    cases.push(["batched, a different B per product", {
      M: 48, N: 24, K: 300, count: 3, a: rand(3 * 48 * 300, 13), rsa: 300, csa: 1, b: rand(3 * 300 * 24, 14), rsb: 24, csb: 1,
      aOff: [0, 48 * 300, 2 * 48 * 300], bOff: [2 * 300 * 24, 0, 300 * 24],
    }]);
    return cases;
  })();

  for (const [name, args] of gemmCases) {
    it(`GEMM ${name}: same bits as the single-threaded wasm GEMM on 1, 2 and 3 threads`, () => {
      const want = single.gemm(args);
      for (const pool of pools) {
        const got = pool.gemm(args, true);
        expect(got, `${pool.threads} threads`).not.toBeNull();
        expect(Array.from(got!)).toEqual(Array.from(want));
      }
    });
  }

  it("declines small problems unless forced", () => {
    const pool = pools[0];
    expect(pool.gemm({ M: 8, N: 8, K: 8, a: rand(64, 1), rsa: 8, csa: 1, b: rand(64, 2), rsb: 8, csb: 1 })).toBeNull();
  });

  const problem = (heads: number, Tq: number, Tk: number, D: number, Dv: number, extra: Partial<FlashProblem> = {}): FlashProblem => ({
    heads, Tq, Tk, D, Dv, scale: 1 / Math.sqrt(D), causal: false, window: null, maskBytes: 0, ...extra,
  });
  const padMask = (heads: number, Tk: number): Partial<FlashProblem> => ({
    maskBytes: Tk,
    fillMask: (h, dst) => {
      for (let j = 0; j < Tk; j++) dst[j] = j >= Tk - 1 - (h % 5) * 7 ? 1 : 0;
    },
  });
  const queryMask = (Tq: number, Tk: number): Partial<FlashProblem> => ({
    maskBytes: Tq * Tk,
    fillMask: (h, dst) => {
      for (let i = 0; i < Tq; i++) for (let j = 0; j < Tk; j++) dst[i * Tk + j] = (i * 7 + j * 3 + h) % 11 === 0 || i === 5 ? 1 : 0;
    },
  });
  const attCases: [string, FlashProblem][] = [
    ["one head split into query blocks", problem(1, 300, 260, 16, 16)],
    ["one head, causal", problem(1, 333, 333, 8, 12, { causal: true })],
    ["three heads, window, key padding", problem(3, 150, 170, 9, 7, { window: 20, ...padMask(3, 170) })],
    ["many heads (more chunks than threads), per-query mask", problem(7, 70, 65, 5, 8, queryMask(70, 65))],
    ["causal + window, Tq = 1", problem(4, 1, 40, 16, 16, { causal: true, window: 3 })],
    // heads ≥ 2 × threads: whole heads, then the last heads in query ranges cut by causal / window cost
    ["many heads, causal: the last heads in uneven query ranges", problem(5, 300, 300, 8, 8, { causal: true })],
    ["many heads, window 50: the last heads in query ranges", problem(6, 400, 390, 8, 4, { window: 50 })],
    [
      "interleaved heads in groups of 2, key padding",
      problem(6, 90, 75, 8, 8, { ...padMask(6, 75), layout: { perGroup: 2, interleaved: { q: true, v: true, out: true, dOut: true, dk: true } } }),
    ],
  ];
  for (const [name, p] of attCases) {
    it(`attention ${name}: same bits as the single-threaded kernel, forward (with weights and lse) and backward`, () => {
      const q = rand(p.heads * p.Tq * p.D, 1);
      const k = rand(p.heads * p.Tk * p.D, 2);
      const v = rand(p.heads * p.Tk * p.Dv, 3);
      const dO = rand(p.heads * p.Tq * p.Dv, 4);
      const lseWant = new Float32Array(p.heads * p.Tq);
      const want = flash.forward(p, q, k, v, true, lseWant)!;
      const gWant = flash.backward(p, q, k, v, dO)!;
      for (const pool of [...pools, batching]) {
        const lse = new Float32Array(p.heads * p.Tq);
        const got = pool.forward(p, q, k, v, true, lse, true)!;
        expect(got, `${pool.threads} threads`).toBeTruthy();
        expect(Array.from(got.out)).toEqual(Array.from(want.out));
        expect(Array.from(got.weights!)).toEqual(Array.from(want.weights!));
        expect(Array.from(lse)).toEqual(Array.from(lseWant));
        const plain = pool.forward(p, q, k, v, false, undefined, true)!;
        expect(plain.weights).toBeNull();
        expect(Array.from(plain.out)).toEqual(Array.from(want.out));
        const g = pool.backward(p, q, k, v, dO, true)!;
        expect(Array.from(g.dq)).toEqual(Array.from(gWant.dq));
        expect(Array.from(g.dk)).toEqual(Array.from(gWant.dk));
        expect(Array.from(g.dv)).toEqual(Array.from(gWant.dv));
      }
    });
  }

  it("runs attention over more arena than its batch budget in head batches: the arena holds a few heads, results unchanged", async () => {
    // Budget 2 MiB, or none (one batch), on the same problem: 8 heads × (q, k, v, out of 512 × 64 floats)
    // = 4 MiB of forward operands, 7 MiB for the backward's seven; each thread's scratch comes on top.
    const pool = new ThreadPool(2, 0, 2 ** 21);
    const whole = new ThreadPool(2, 0, 2 ** 40);
    try {
      const p = problem(8, 512, 512, 64, 64, { causal: true });
      const n = p.heads * p.Tq * p.D;
      const [q, k, v, dO] = [1, 2, 3, 4].map((seed) => rand(n, seed));
      const want = flash.forward(p, q, k, v, false)!;
      expect(Array.from(pool.forward(p, q, k, v, false)!.out)).toEqual(Array.from(want.out));
      expect(Array.from(whole.forward(p, q, k, v, false)!.out)).toEqual(Array.from(want.out));
      expect(pool.arenaBytes).toBeLessThanOrEqual(2 ** 21);
      expect(whole.arenaBytes).toBeGreaterThan(2 ** 22);
      const gWant = flash.backward(p, q, k, v, dO)!;
      for (const g of [pool.backward(p, q, k, v, dO)!, whole.backward(p, q, k, v, dO)!]) {
        expect(Array.from(g.dq)).toEqual(Array.from(gWant.dq));
        expect(Array.from(g.dk)).toEqual(Array.from(gWant.dk));
        expect(Array.from(g.dv)).toEqual(Array.from(gWant.dv));
      }
      // The backward's scratch alone passes the budget: one head per batch (here 4 MiB of arena against 10).
      expect(pool.arenaBytes).toBeLessThan(whole.arenaBytes / 2);
    } finally {
      await Promise.all([pool.dispose(), whole.dispose()]);
    }
  });

  it("grows the shared arena between calls (the workers get the new one)", () => {
    const pool = pools[0];
    const small = { M: 64, N: 64, K: 64, a: rand(4096, 1), rsa: 64, csa: 1, b: rand(4096, 2), rsb: 64, csb: 1 };
    expect(Array.from(pool.gemm(small, true)!)).toEqual(Array.from(single.gemm(small)));
    const n = 700;
    const big = { M: n, N: n, K: n, a: rand(n * n, 3), rsa: n, csa: 1, b: rand(n * n, 4), rsb: n, csb: 1 };
    expect(Array.from(pool.gemm(big)!)).toEqual(Array.from(single.gemm(big)));
    expect(Array.from(pool.gemm(small, true)!)).toEqual(Array.from(single.gemm(small)));
  });

  it("an error in a worker surfaces as a BackendError here, and the pool keeps working", () => {
    const pool = pools[1];
    pool.gemm({ M: 64, N: 8, K: 8, a: rand(512, 1), rsa: 8, csa: 1, b: rand(64, 2), rsb: 8, csb: 1 }, true); // workers up
    let err: unknown = null;
    try {
      pool.fault(64, 63, true); // the calling thread takes no chunk: chunk 63 fails on a worker
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BackendError);
    expect(String((err as Error).message)).toMatch(/a worker thread failed: injected fault in chunk 63/);
    // an error on the calling thread is rethrown as is
    expect(() => pool.fault(4, 0, false)).toThrow(/injected fault in chunk 0/);
    const args = { M: 30, N: 30, K: 30, a: rand(900, 5), rsa: 30, csa: 1, b: rand(900, 6), rsb: 30, csb: 1 };
    expect(Array.from(pool.gemm(args, true)!)).toEqual(Array.from(single.gemm(args)));
  });

  it("ready() starts the workers and resolves once they serve; the backend exposes its pool", async () => {
    const pool = new ThreadPool(3);
    await pool.ready();
    expect(pool.workers).toBe(2);
    expect(pool.readyWorkers).toBe(2);
    await pool.dispose();
    expect(pool.readyWorkers).toBe(0);
    const b = createCpuBackend({ kernels: "wasm-simd-threads", threads: 2 });
    expect(b.threadPool?.threads).toBe(2);
    expect(createCpuBackend({ kernels: "wasm-simd" }).threadPool).toBeNull();
    expect(threadsUnavailable()).toBeNull();
    await b.dispose();
  });

  it("dispose terminates the workers; the next call starts new ones", async () => {
    const pool = new ThreadPool(3);
    expect(pool.workers).toBe(0); // lazy
    const args = { M: 64, N: 64, K: 64, a: rand(4096, 1), rsa: 64, csa: 1, b: rand(4096, 2), rsb: 64, csb: 1 };
    pool.gemm(args, true);
    expect(pool.workers).toBe(2);
    // the workers do take chunks (on a busy machine the calling thread may run a whole job alone: retry)
    for (let i = 0; i < 1000 && pool.workerChunks === 0; i++) {
      pool.gemm(args, true);
      await new Promise((r) => setTimeout(r, 5)); // a worker still starting up gets its chance
    }
    expect(pool.workerChunks).toBeGreaterThan(0);
    const ids = pool.workerThreadIds;
    await pool.dispose();
    expect(pool.workers).toBe(0);
    expect(Array.from(pool.gemm(args, true)!)).toEqual(Array.from(single.gemm(args)));
    expect(pool.workerThreadIds.some((id) => ids.includes(id))).toBe(false);
    await pool.dispose();
  });
});

describe.skipIf(!threadsRun)("wasm-simd-threads: the backend", () => {
  it("is what auto picks with more than one core; threads and description", async () => {
    const b = createCpuBackend({ kernels: "wasm-simd-threads", threads: 3 });
    expect(b.kernels).toBe("wasm-simd-threads");
    expect(b.threads).toBe(3);
    expect(b.description).toBe("cpu (wasm-simd-threads: WebAssembly SIMD128 GEMM and flash attention, 3 threads)");
    expect(createCpuBackend({ kernels: "wasm-simd" }).threads).toBe(1);
    expect(() => createCpuBackend({ kernels: "wasm-simd-threads", threads: 0 })).toThrow(BackendError);
    await b.dispose();
  });

  it("matmul, linear, attention and its gradient through a compiled graph equal the wasm-simd path", async () => {
    const threads = createCpuBackend({ kernels: "wasm-simd-threads", threads: 2, threadMinFlops: 0 });
    const simd = createCpuBackend({ kernels: "wasm-simd" });
    const run = async (be: CpuBackend, op: string, inputs: readonly (Tensor | null)[], attrs: Attrs) =>
      (await runOn(be, op, inputs, attrs)).map((x) => Array.from(x.data as Float32Array));
    const t = (shape: number[], seed: number) => new Tensor("float32", shape, rand(shape.reduce((a, b) => a * b, 1), seed));
    const x = t([2, 3, 70, 16], 1);
    const y = t([2, 3, 16, 33], 2);
    const w = t([24, 16], 3);
    const bias = t([24], 4);
    const d = t([2, 3, 70, 16], 5);
    const cases: [string, (Tensor | null)[], Attrs][] = [
      ["matmul", [x, y], {}],
      ["linear", [x, w, bias], {}],
      ["attention", [x, x, x], { causal: true, scale: 0.25, window: null }],
      ["attention_grad", [x, x, x, null, d, null], { causal: true, scale: 0.25, window: null }],
    ];
    for (const [op, ins, attrs] of cases) expect(await run(threads, op, ins, attrs), op).toEqual(await run(simd, op, ins, attrs));
    await threads.dispose();
  });

  it("a process that used the threads exits by itself (workers never keep it alive), from dist", () => {
    const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    expect(existsSync(dist), "build the package first (dist/index.js)").toBe(true);
    const src = `
      import { createCpuBackend, ThreadedGemm } from ${JSON.stringify(dist)};
      const b = createCpuBackend({ kernels: "wasm-simd-threads", threads: 2 });
      const n = 256, a = new Float32Array(n * n).fill(1);
      const g = new ThreadedGemm(2);
      const r = g.gemm({ M: n, N: n, K: n, a, rsa: n, csa: 1, b: a, rsb: n, csb: 1 });
      if (g.pool.workers !== 1 || r[0] !== n) { console.error("bad", g.pool.workers, r[0]); process.exit(3); }
      console.log("ok", b.kernels);`;
    const res = spawnSync(process.execPath, ["--input-type=module", "-e", src], { encoding: "utf8", timeout: 30_000 });
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(res.stdout.trim()).toBe("ok wasm-simd-threads");
  });
});
