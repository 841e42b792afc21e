import { describeConformance } from "@attn/conformance/vitest";
import { createCpuBackend } from "../src/index.js";

// backend-cpu runs every case, outputs and gradients, on each kernel path: no skip lists.
await describeConformance("cpu (js)", () => createCpuBackend({ kernels: "js" }));
await describeConformance("cpu (wasm-simd)", () => createCpuBackend({ kernels: "wasm-simd" }));
