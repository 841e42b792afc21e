import { createCpuBackend } from "@attn/backend-cpu";
import { attentionGraph } from "../dist/graphs.js";
import { attentionInputs } from "../dist/impls/inputs.js";
const n = Number(process.argv[2] ?? 256), causal = process.argv[3] === "causal", kern = process.argv[4] ?? "wasm-simd";
const b = createCpuBackend({ kernels: kern, ...(kern === "wasm-simd-threads" ? { threads: 2 } : {}) });
const exe = await b.compile(attentionGraph(n, causal), { params: new Map() });
const feeds = attentionInputs(n);
for (let i = 0; i < 20; i++) await exe.run(feeds, { outputs: ["out"] });
const ts = [];
for (let i = 0; i < 200; i++) { const t = performance.now(); await exe.run(feeds, { outputs: ["out"] }); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b);
console.log(kern, n, causal ? "causal" : "full", "median", ts[100].toFixed(3), "p10", ts[20].toFixed(3), "p90", ts[180].toFixed(3));
await b.dispose?.();
