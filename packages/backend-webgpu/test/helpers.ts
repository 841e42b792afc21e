import { describeMissingRuntime } from "@attn/conformance/vitest";
import { NO_ADAPTER_MESSAGE, webgpuAvailable } from "../src/index.js";

/**
 * Whether a WebGPU adapter exists here. Without one the calling test file fails in CI (the install
 * script provides SwiftShader there) and skips with a printed message elsewhere.
 */
export async function requireWebGpu(label: string): Promise<boolean> {
  if (await webgpuAvailable()) return true;
  describeMissingRuntime(label, NO_ADAPTER_MESSAGE, "has a WebGPU adapter (CI installs chromium and libvulkan1)");
  return false;
}

/** Deterministic values in [lo, hi) from a small LCG, so a failing test reproduces. */
export function values(n: number, seed: number, lo = -3, hi = 3): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}
