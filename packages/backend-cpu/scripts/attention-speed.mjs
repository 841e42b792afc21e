// Speed and memory of the fused attention kernel, by hand (not a test: the house rule is no timed tests).
//
//   pnpm --filter @attn/backend-cpu build && node packages/backend-cpu/scripts/attention-speed.mjs
//     [--runs 5] [--sizes 256,512,1024,2048] [--rss 4096,8192,16384] [--heads 8] [--d 64] [--backward] [--js]
//     [--kernels wasm-simd,wasm-simd-threads] [--threads 2]
//
// --kernels: the kernel paths to time, in turn (default wasm-simd; --js adds js); --threads: threads of
// the wasm-simd-threads path (default: the available parallelism, at most 8).
// q, k, v [1, heads, N, d] float32 through the backend's `attention` node (graph compiled once, each timed
// call a full `run`: feeds in, kernel, output out). GFLOP/s counts 4·heads·N²·d for the forward (QKᵀ and
// PV, causal or not, as the bench does) and 10·heads·N²·d for the backward (`--backward`: the
// attention_grad node, which recomputes the forward). Median (and best) of --runs timed calls after one
// warm-up; full and causal calls alternate, so both see the same machine load.
// Peak RSS: each --rss size runs one forward call in a child process, which prints
// process.resourceUsage().maxRSS.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GraphBuilder, Tensor } from "@attn/core";
import { createCpuBackend } from "../dist/index.js";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const runs = Math.max(5, Number(arg("--runs", "5")));
const heads = Number(arg("--heads", "8"));
const d = Number(arg("--d", "64"));
const sizes = arg("--sizes", "256,512,1024,2048").split(",").filter(Boolean).map(Number);
const rssSizes = arg("--rss", "4096,8192,16384").split(",").filter(Boolean).map(Number);
const threads = arg("--threads", undefined) === undefined ? undefined : Number(arg("--threads", "2"));
const kernelList = arg("--kernels", "wasm-simd").split(",").filter(Boolean);
const backendFor = (kernels) => createCpuBackend({ kernels, threads: kernels === "wasm-simd-threads" ? threads : undefined });

function rand(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

/** A compiled one-node graph over q, k, v (and d_out for the backward) of [1, heads, N, d]. */
async function compiled(backend, N, causal, backward) {
  const shape = [1, heads, N, d];
  const b = new GraphBuilder(backward ? "attention_grad" : "attention");
  const ins = ["q", "k", "v"].map((n) => b.input(n, { dtype: "float32", shape }));
  const attrs = { scale: 1 / Math.sqrt(d), causal, window: null };
  if (backward) {
    const g = b.input("g", { dtype: "float32", shape });
    b.add("attention_grad", [...ins, null, g, null], { ...attrs, select: "softmax" }).forEach((o, i) => b.output(`o${i}`, o));
  } else {
    b.output("o", b.add1("attention", [...ins, null], attrs));
  }
  const exe = await backend.compile(b.build(), { params: new Map() });
  const n = heads * N * d;
  const feeds = { q: new Tensor("float32", shape, rand(n, 1)), k: new Tensor("float32", shape, rand(n, 2)), v: new Tensor("float32", shape, rand(n, 3)) };
  if (backward) feeds.g = new Tensor("float32", shape, rand(n, 4));
  return () => exe.run(feeds);
}

if (process.argv.includes("--child")) {
  const N = Number(arg("--child", "4096"));
  const run = await compiled(backendFor(kernelList[0]), N, process.argv.includes("--causal"), false);
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ N, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const paths = process.argv.includes("--js") ? [...kernelList, "js"] : kernelList;
const backward = process.argv.includes("--backward");
console.log(
  `${backward ? "attention_grad" : "attention"} q/k/v [1, ${heads}, N, ${d}] float32, median of ${runs} runs ` +
    `(Node ${process.versions.node}); GFLOP/s counts ${backward ? 10 : 4}·heads·N²·d`,
);
for (const kernels of paths) {
  const backend = backendFor(kernels);
  const label = kernels === "wasm-simd-threads" ? `threads ${backend.threads}t` : kernels;
  for (const N of sizes) {
    // full and causal calls alternate, so both see the same machine load (the ratio is the fair figure)
    const runFull = await compiled(backend, N, false, backward);
    const runCausal = await compiled(backend, N, true, backward);
    await runFull();
    await runCausal();
    const ts = [[], []];
    for (let r = 0; r < runs; r++) {
      for (const [c, run] of [runFull, runCausal].entries()) {
        const t0 = performance.now();
        await run();
        ts[c].push(performance.now() - t0);
      }
    }
    const cells = [];
    const cps = [];
    for (const c of [0, 1]) {
      const sorted = ts[c].sort((x, y) => x - y);
      const ms = sorted[sorted.length >> 1];
      const gf = ((backward ? 10 : 4) * heads * N * N * d) / (ms * 1e6);
      cps.push(1000 / ms);
      cells.push(`${c ? "causal" : "full  "} ${gf.toFixed(1).padStart(5)} GFLOP/s ${cps[c].toFixed(2).padStart(7)} calls/s (best ${(((backward ? 10 : 4) * heads * N * N * d) / (sorted[0] * 1e6)).toFixed(1)})`);
    }
    cells.push(`causal/full ${(cps[1] / cps[0]).toFixed(2)}×`);
    console.log(`${label.padEnd(10)} N=${String(N).padEnd(5)} ${cells.join("   ")}`);
  }
  await backend.dispose();
}

if (!backward) {
  const self = fileURLToPath(import.meta.url);
  for (const N of rssSizes) {
    const extra = threads === undefined ? [] : ["--threads", String(threads)];
    const r = spawnSync(process.execPath, [self, "--child", String(N), "--heads", String(heads), "--d", String(d), "--kernels", kernelList[0], ...extra], { encoding: "utf8" });
    if (r.status !== 0) {
      console.log(`N=${N}: child failed: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
      continue;
    }
    const { ms, maxRssMiB } = JSON.parse(r.stdout.trim().split("\n").pop());
    const gf = (4 * heads * N * N * d) / (ms * 1e6);
    console.log(`${kernelList[0]} N=${String(N).padEnd(5)} one call ${(ms / 1000).toFixed(2)} s (${gf.toFixed(1)} GFLOP/s), peak RSS ${maxRssMiB.toFixed(0)} MiB`);
  }
}
