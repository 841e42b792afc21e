// GFLOP/s of the GEMM on each kernel path, by hand (not a test: the house rule is no timed tests).
//
//   pnpm --filter @attn/backend-cpu build && node packages/backend-cpu/scripts/gemm-speed.mjs [--runs 7] [--sizes 256,512,1024] [--linear]
//     [--kernels js,wasm-simd,wasm-simd-threads] [--threads 2]
//
// --kernels: the paths to time (default js,wasm-simd); --threads: threads of wasm-simd-threads (default:
// the available parallelism, at most 8).
// Square C = A·B (matmul's layout; --linear: x·Wᵀ + b, linear's), median of --runs timed calls after one
// warm-up, each timed call including the copies in and out of wasm memory (what a kernel pays).
import { defaultThreads, jsGemm, ThreadedGemm, threadsSupported, WasmGemm, wasmSimdSupported } from "../dist/index.js";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const runs = Math.max(5, Number(arg("--runs", "7")));
const sizes = arg("--sizes", "256,512,1024").split(",").map(Number);
const linear = process.argv.includes("--linear");

function rand(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

const threads = Number(arg("--threads", String(defaultThreads())));
const paths = [];
for (const k of arg("--kernels", "js,wasm-simd").split(",").filter(Boolean)) {
  if (k === "js") paths.push(["js", jsGemm]);
  else if (k === "wasm-simd" && wasmSimdSupported()) paths.push(["wasm-simd", new WasmGemm()]);
  else if (k === "wasm-simd-threads" && threadsSupported()) paths.push([`threads ${threads}t`, new ThreadedGemm(threads)]);
  else console.log(`${k}: not supported by this runtime`);
}

console.log(`GEMM ${linear ? "x·Wᵀ + b" : "A·B"}, float32, median of ${runs} runs (Node ${process.versions.node})`);
for (const n of sizes) {
  const a = rand(n * n, 1);
  const b = rand(n * n, 2);
  const args = linear
    ? { M: n, N: n, K: n, a, rsa: n, csa: 1, b, rsb: 1, csb: n, bias: rand(n, 3) }
    : { M: n, N: n, K: n, a, rsa: n, csa: 1, b, rsb: n, csb: 1 };
  const cells = [];
  for (const [name, g] of paths) {
    g.gemm(args);
    const ts = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      g.gemm(args);
      ts.push(performance.now() - t0);
    }
    ts.sort((x, y) => x - y);
    const gf = (ms) => ((2 * n * n * n) / (ms * 1e6)).toFixed(1);
    cells.push(`${name} ${gf(ts[ts.length >> 1]).padStart(6)} GFLOP/s (best ${gf(ts[0])})`);
  }
  console.log(`${String(n).padStart(5)}³  ${cells.join("   ")}`);
}
for (const [, g] of paths) if (g.dispose) await g.dispose();
