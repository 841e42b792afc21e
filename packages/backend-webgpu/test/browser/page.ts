/**
 * The page the Chromium test loads (bundled by esbuild in `browser.test.ts`): it runs shared
 * conformance cases on backend-webgpu through `navigator.gpu`, with the same harness as Node
 * (`runCase`). The fixture JSON and weights come from the test's local server, so the page needs no
 * file system; `@attn/conformance/browser` is the harness without its `node:fs` loaders.
 */
import { parseCases, runCase, type ConformanceCase } from "@attn/conformance/browser";
import { createWebGpuBackend } from "../../src/index.js";

/** What the test asks the page to run: fixture files (relative to the fixtures folder) and cases by name. */
export interface BrowserPlan {
  readonly files: readonly string[];
  readonly cases: readonly { readonly name: string; readonly gradients: boolean }[];
}

/** One case's outcome as the page reports it back. */
export interface BrowserCaseResult {
  readonly name: string;
  readonly failures: readonly string[];
  readonly gradientsChecked: number;
  readonly ms: number;
}

/** The page's report: the adapter it ran on, then one result per planned case, in plan order. */
export interface BrowserReport {
  readonly adapter: string;
  readonly features: readonly string[];
  readonly results: readonly BrowserCaseResult[];
}

async function fetchOk(path: string): Promise<Response> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${r.statusText}`);
  return r;
}

async function runPlan(plan: BrowserPlan): Promise<BrowserReport> {
  const byName = new Map<string, ConformanceCase>();
  for (const f of plan.files) for (const c of parseCases(await (await fetchOk(`/fixtures/${f}`)).json(), f)) byName.set(c.name, c);
  const backend = createWebGpuBackend();
  const gpu = await backend.gpu();
  const readFile = async (name: string) => new Uint8Array(await (await fetchOk(`/fixtures/models/${name}`)).arrayBuffer());
  const results: BrowserCaseResult[] = [];
  for (const { name, gradients } of plan.cases) {
    const c = byName.get(name);
    const t0 = performance.now();
    if (!c) {
      results.push({ name, failures: [`no case named ${name} in ${plan.files.join(", ")}`], gradientsChecked: 0, ms: 0 });
      continue;
    }
    try {
      const r = await runCase(backend, c, readFile, { gradients });
      results.push({ name, failures: r.failures, gradientsChecked: r.gradientsChecked, ms: performance.now() - t0 });
    } catch (e) {
      results.push({ name, failures: [`threw: ${e instanceof Error ? e.message : String(e)}`], gradientsChecked: 0, ms: performance.now() - t0 });
    }
  }
  return { adapter: gpu.adapterInfo, features: [...gpu.features], results };
}

// the test calls this through page.evaluate once the bundle has loaded
Object.assign(globalThis, { attnRunConformance: runPlan, attnReady: true });
