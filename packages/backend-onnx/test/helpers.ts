import { loadOrt, type OnnxRuntimeKind } from "../src/index.js";

/**
 * Whether an ONNX Runtime build loads here. In CI (`process.env.CI`) a missing runtime is an error (the
 * tests must run there); elsewhere the tests that need it skip with a printed message.
 */
export async function runtimeAvailable(kind: OnnxRuntimeKind): Promise<boolean> {
  try {
    await loadOrt(kind);
    return true;
  } catch (e) {
    const msg = `onnxruntime-${kind} cannot be loaded: ${e instanceof Error ? e.message : String(e)}`;
    if (process.env.CI) throw new Error(`${msg} (required in CI)`);
    console.log(`[backend-onnx] skipping onnxruntime-${kind} tests: ${msg}`);
    return false;
  }
}
