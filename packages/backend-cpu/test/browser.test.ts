import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM, chromiumPresent, fixtureFiles, matchesCase, serveBrowserTest, type Served } from "@attn/conformance/browser-host";
import type { PageReport } from "./browser/page.js";
import type { WorkerPlan } from "./browser/worker.js";

// The "wasm-simd-threads" path in a real browser (headless Chromium): Web Workers from a Blob URL over a
// shared WebAssembly.Memory, run from a dedicated worker of a cross-origin-isolated page (the only place a
// browser lets the calling thread block in Atomics.wait). The page's main thread must fall back to
// "wasm-simd" on "auto" and refuse an explicit "wasm-simd-threads" with the reason; so must a worker of a
// page that is not cross-origin isolated.

/** Conformance cases the worker runs on the threads (outputs and gradients); an entry ending in `/` is a name prefix. */
const CASES: readonly string[] = ["attention/", "matmul/", "linear/", "model/multihead_self_causal", "model/transformer_encoder_layer"];

const LABEL = "backend-cpu wasm-simd-threads in Chromium";
/** What makes a page cross-origin isolated (SharedArrayBuffer, shared WebAssembly.Memory). */
const ISOLATION = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };

/** The fixture files holding the planned cases, and the cases' names in file order. */
async function makePlan(): Promise<WorkerPlan> {
  const files: string[] = [];
  const cases: string[] = [];
  for (const [rel, all] of await fixtureFiles()) {
    const names = all.filter((n) => CASES.some((e) => matchesCase(e, n)));
    if (names.length > 0) files.push(rel);
    cases.push(...names);
  }
  return { files, cases };
}

/** Bundles a browser entry (page or worker); workspace packages resolve to their TypeScript sources. */
async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["source"],
    // reached only in Node (the dsl's file reader): never loaded in the browser
    external: ["node:*"],
    logLevel: "silent",
  });
  return out.outputFiles[0].text;
}

/** The page, under `/` with the cross-origin isolation headers and under `/plain/` without them. */
const page = (mount: string): string =>
  `<!doctype html><meta charset="utf-8"><title>attn cpu threads</title><script type="module" src="${mount}page.js"></script>`;

if (chromiumPresent(LABEL)) {
  const plan = await makePlan();

  describe(LABEL, () => {
    let browser: Browser | undefined;
    let server: Server | undefined;
    let isolated: PageReport | undefined;
    let plain: PageReport | undefined;
    const pageLog: string[] = [];

    beforeAll(async () => {
      const [pageJs, workerJs] = [await bundle("./browser/page.ts"), await bundle("./browser/worker.ts")];
      const files: Record<string, (mount: string) => Served> = {
        "/": (mount) => ({ type: "text/html", body: page(mount) }),
        "/page.js": () => ({ type: "text/javascript", body: pageJs }),
        "/worker.js": () => ({ type: "text/javascript", body: workerJs }),
      };
      const served = await serveBrowserTest((path, mount) => files[path]?.(mount), { "/": ISOLATION, "/plain/": {} });
      server = served.server;
      browser = await chromium.launch({ executablePath: CHROMIUM });
      const load = async (url: string, p: WorkerPlan): Promise<PageReport> => {
        const page = await browser!.newPage();
        page.on("console", (m) => pageLog.push(`${url} console.${m.type()}: ${m.text()}`));
        page.on("pageerror", (e) => pageLog.push(`${url} page error: ${e.message}`));
        await page.goto(url);
        await page.waitForFunction(() => (globalThis as { attnReady?: boolean }).attnReady === true, undefined, { timeout: 20_000 });
        const r = await page.evaluate((q) => (globalThis as unknown as { attnRunPage: (q: WorkerPlan) => Promise<PageReport> }).attnRunPage(q), p);
        await page.close();
        return r;
      };
      isolated = await load(served.url, plan);
      plain = await load(`${served.url}plain/`, { files: [], cases: [] });
      const w = isolated.worker;
      console.log(
        `[${LABEL}] worker: ${w.kernels ?? "no threads"}, hardwareConcurrency ${w.hardwareConcurrency}, first compile (workers up) ${w.compileMs?.toFixed(0)} ms; ` +
          `chunks run by workers: conformance ${w.conformancePool?.workerChunks}, large graphs ${w.comparePool?.workerChunks}`,
      );
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
    });

    const report = () => {
      expect(isolated, pageLog.join("\n")).toBeDefined();
      return isolated!;
    };

    it("the package bundles for browsers with no Node built-in left to resolve", async () => {
      const out = await build({ entryPoints: [fileURLToPath(new URL("../src/index.ts", import.meta.url))], bundle: true, write: false, format: "esm", platform: "browser", conditions: ["source"], logLevel: "silent" });
      expect(out.errors).toEqual([]);
    });

    it("main thread of an isolated page: auto resolves to wasm-simd; an explicit wasm-simd-threads request says the thread may not block", () => {
      const { main } = report();
      expect(main.crossOriginIsolated).toBe(true);
      expect(main.auto).toBe("wasm-simd");
      expect(main.explicitError).toMatch(/^BackendError: kernels "wasm-simd-threads" was asked for, but it cannot run here: .*may not block in Atomics\.wait/);
      expect(main.explicitError).not.toMatch(/cross-origin isolated/);
    });

    it("a worker of a page that is not cross-origin isolated: auto resolves to wasm-simd; the explicit request says why", () => {
      expect(plain, pageLog.join("\n")).toBeDefined();
      expect(plain!.main.crossOriginIsolated).toBe(false);
      expect(plain!.main.auto).toBe("wasm-simd");
      expect(plain!.main.explicitError).toMatch(/not cross-origin isolated.*; this thread may not block in Atomics\.wait/);
      const w = plain!.worker;
      expect(w.crossOriginIsolated).toBe(false);
      expect(w.auto).toBe("wasm-simd");
      expect(w.unavailable).toMatch(/not cross-origin isolated/);
      expect(w.unavailable).not.toMatch(/may not block/);
      expect(w.explicitError).toMatch(/^BackendError: kernels "wasm-simd-threads" was asked for, but it cannot run here: the page is not cross-origin isolated/);
    });

    it("dedicated worker of an isolated page: wasm-simd-threads runs, and auto picks it with more than one core", () => {
      const w = report().worker;
      expect(w.crossOriginIsolated).toBe(true);
      expect(w.unavailable).toBeNull();
      expect(w.explicitError).toBeNull();
      expect(w.kernels).toBe("wasm-simd-threads");
      expect(w.auto).toBe(w.hardwareConcurrency > 1 ? "wasm-simd-threads" : "wasm-simd");
    });

    it("the Web Workers serve once the first compile resolves, and ran chunks (pool counters)", () => {
      const w = report().worker;
      expect(w.afterCompile).toEqual({ workers: 1, readyWorkers: 1, workerChunks: 0 });
      for (const pool of [w.conformancePool!, w.comparePool!]) {
        expect(pool.workers).toBe(1);
        expect(pool.readyWorkers).toBe(1);
        expect(pool.workerChunks).toBeGreaterThan(0);
      }
    });

    it(`runs the planned conformance cases (${CASES.join(", ")}), outputs and gradients, within the fixtures' tolerance`, () => {
      const w = report().worker;
      expect(w.cases!.map((c) => c.name)).toEqual(plan.cases);
      expect(plan.cases.filter((n) => n.startsWith("attention/")).length).toBeGreaterThan(10);
      for (const c of w.cases!) expect(c.failures, `${c.name}\n${c.failures.join("\n")}`).toEqual([]);
      expect(w.cases!.filter((c) => c.name.startsWith("attention/") && c.gradientsChecked > 0).length, "attention cases with gradients checked").toBeGreaterThan(5);
    });

    it("large attention, attention_grad, matmul and linear graphs (default threshold) equal wasm-simd bit for bit, with workers taking chunks", () => {
      const w = report().worker;
      expect(w.comparisons!.length).toBe(4);
      for (const c of w.comparisons!) expect(c.mismatches, c.name).toEqual([]);
      expect(w.comparisons!.reduce((s, c) => s + c.workerChunks, 0)).toBeGreaterThan(0);
    });

    it("an error in a Web Worker's chunk surfaces on the calling thread as a BackendError with the worker's message", () => {
      expect(report().worker.workerFault).toBe("BackendError: wasm-simd-threads: a worker thread failed: injected fault in chunk 63");
    });
  });
}
