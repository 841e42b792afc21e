import { describe, it } from "vitest";
import { NO_ADAPTER_MESSAGE, webgpuAvailable } from "../src/index.js";

/**
 * Whether a WebGPU adapter exists here. Without one the calling test file fails in CI (the install
 * script provides SwiftShader there) and skips with a printed message elsewhere.
 */
export async function requireWebGpu(label: string): Promise<boolean> {
  if (await webgpuAvailable()) return true;
  if (process.env.CI) {
    describe(label, () => it("has a WebGPU adapter (CI installs chromium and libvulkan1)", () => {
      throw new Error(NO_ADAPTER_MESSAGE);
    }));
  } else {
    console.log(`[${label}] skipped: ${NO_ADAPTER_MESSAGE}`);
    describe(label, () => it.skip(NO_ADAPTER_MESSAGE, () => {}));
  }
  return false;
}
