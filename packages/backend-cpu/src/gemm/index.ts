import { jsGemm } from "./js.js";
import { WasmGemm, wasmSimdSupported } from "./wasm.js";
import type { Gemm, KernelPath } from "./types.js";

export type { Gemm, GemmArgs, KernelPath } from "./types.js";
export { jsGemm } from "./js.js";
export { WasmGemm, wasmSimdSupported } from "./wasm.js";

let wasm: WasmGemm | null = null;

/** The GEMM of a kernel path (the wasm instance is created on first use and shared). */
export function gemmFor(path: Exclude<KernelPath, "wasm-simd-threads">): Gemm {
  if (path === "js") return jsGemm;
  if (!wasmSimdSupported()) throw new Error("this runtime cannot run WebAssembly SIMD (WebAssembly.validate rejects the module)");
  return (wasm ??= new WasmGemm());
}
