/**
 * The page of the Chromium test (bundled by esbuild in `browser.test.ts`). On the page's main thread,
 * which may not block in `Atomics.wait`, it checks that `"auto"` resolves to `"wasm-simd"` and that an
 * explicit `"wasm-simd-threads"` request fails and says why; then it starts the dedicated worker
 * (worker.ts), where the threaded path runs, and hands its report back.
 */
import { createCpuBackend, resolveKernels } from "../../src/index.js";
import type { WorkerPlan, WorkerReport } from "./worker.js";

/** What the main thread saw. */
export interface MainReport {
  readonly crossOriginIsolated: boolean;
  readonly auto: string;
  /** The error of an explicit `"wasm-simd-threads"` request (`name: message`), or null if it did not throw. */
  readonly explicitError: string | null;
}

/** The page's report: the main thread's, then the worker's. */
export interface PageReport {
  readonly main: MainReport;
  readonly worker: WorkerReport;
}

function mainThread(): MainReport {
  let explicitError: string | null = null;
  try {
    createCpuBackend({ kernels: "wasm-simd-threads", threads: 2 });
  } catch (e) {
    explicitError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  return { crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true, auto: resolveKernels("auto"), explicitError };
}

/** The Web Worker API as far as this page uses it (the tests compile without the DOM library). */
interface PageWorker {
  onmessage: ((e: { data: { report?: WorkerReport; error?: string } }) => void) | null;
  onerror: ((e: { message: string }) => void) | null;
  postMessage(m: unknown): void;
  terminate(): void;
}
const WebWorker = (globalThis as unknown as { Worker: new (url: string, opts: object) => PageWorker }).Worker;

function inWorker(plan: WorkerPlan): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const worker = new WebWorker("/worker.js", { type: "module", name: "attn-test-model" });
    worker.onmessage = (e) => {
      worker.terminate();
      if (e.data.report) resolve(e.data.report);
      else reject(new Error(`the worker failed: ${e.data.error ?? "no report"}`));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(`the worker failed to run: ${e.message}`));
    };
    worker.postMessage(plan);
  });
}

async function runPage(plan: WorkerPlan): Promise<PageReport> {
  return { main: mainThread(), worker: await inWorker(plan) };
}

// the test calls this through page.evaluate once the bundle has loaded
Object.assign(globalThis, { attnRunPage: runPage, attnReady: true });
