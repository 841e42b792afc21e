import { describeConformance } from "@attn/conformance/vitest";
import { createCpuBackend } from "../src/index.js";
import { kernelPathAvailable } from "./helpers.js";

// backend-cpu runs every case, outputs and gradients, on each kernel path: no skip lists.
await describeConformance("cpu (js)", () => createCpuBackend({ kernels: "js" }));
await describeConformance("cpu (wasm-simd)", () => createCpuBackend({ kernels: "wasm-simd" }));
// threadMinFlops 0: every GEMM and attention call goes through the worker threads, split however small;
// fuseSmallAttention: small attention problems too (the wasm-simd run routes them to the portable kernel).
if (kernelPathAvailable("wasm-simd-threads", "conformance")) {
  await describeConformance("cpu (wasm-simd-threads)", () => createCpuBackend({ kernels: "wasm-simd-threads", threads: 2, threadMinFlops: 0, fuseSmallAttention: true }));
}
