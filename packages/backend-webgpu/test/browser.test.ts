import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM, chromiumPresent, fixtureFiles, matchesCase, serveBrowserTest, type Served } from "@attn/conformance/browser-host";
import { loadCases, type ConformanceCase } from "@attn/conformance";
import { missingForCase } from "./kernel-coverage.js";
import type { BrowserPlan, BrowserReport } from "./browser/page.js";

/**
 * The conformance cases the browser test must run (issue #5): attention of every kind (every attention
 * and attention-mask op case, and every model case: each fixture model is an attention model), GRU,
 * layer norm, and whole transformer encoders. An entry ending in `/` is a name prefix.
 */
export const REQUIRED_BROWSER_CASES: readonly string[] = [
  "attention/",
  "attention_mask/",
  "gru/",
  "gru_cell/",
  "layer_norm/",
  "model/additive_seq",
  "model/additive_step",
  "model/gru_bahdanau_seq2seq",
  "model/hard_argmax",
  "model/hard_topk",
  "model/image_conv_maxpool_mha_pool",
  "model/image_conv_patches_additive_pool",
  "model/local_causal",
  "model/local_window",
  "model/luong_concat_seq",
  "model/luong_concat_step",
  "model/luong_dot_seq",
  "model/luong_dot_step",
  "model/luong_general_seq",
  "model/luong_general_step",
  "model/multihead_cross",
  "model/multihead_self_causal",
  "model/multihead_self_padding",
  "model/scaled_dot_causal_scale",
  "model/transformer_encoder_layer",
  "model/transformer_encoder_stack",
  "model/tutorial_gru_additive",
];

/**
 * Whether every required case must run in full (forward and gradients). True: every op has a WGSL
 * kernel, so a required case that would be filtered out (missing kernel) fails the test. Setting it to
 * false lets a branch that drops a kernel run the rest, printing what was filtered and why.
 */
export const BROWSER_SUBSET_STRICT = true;

/** Cases that run in the browser too, beyond the required ones: the first slice's kernels, so the page always runs something. */
const SMOKE_BROWSER_CASES: readonly string[] = ["softmax/", "log_softmax/", "matmul/", "linear/"];

/** WebGPU is behind a flag on Linux; SwiftShader then serves navigator.gpu when there is no GPU. */
const CHROMIUM_ARGS = ["--enable-unsafe-webgpu"];

interface Planned {
  readonly plan: BrowserPlan;
  /** Required cases left out, or run without gradients, with why. */
  readonly filtered: readonly string[];
  readonly required: ReadonlySet<string>;
}

async function makePlan(cases: readonly ConformanceCase[]): Promise<Planned> {
  const required = new Set(cases.filter((c) => REQUIRED_BROWSER_CASES.some((e) => matchesCase(e, c.name))).map((c) => c.name));
  const filtered: string[] = [];
  const run: { name: string; gradients: boolean }[] = [];
  for (const c of cases) {
    const isRequired = required.has(c.name);
    if (!isRequired && !SMOKE_BROWSER_CASES.some((e) => matchesCase(e, c.name))) continue;
    const { forward, backward } = await missingForCase(c);
    if (forward.length) {
      if (isRequired) filtered.push(`${c.name}: no WGSL kernel for ${forward.join(", ")} on this branch`);
      continue;
    }
    if (backward.length && isRequired) filtered.push(`${c.name} (gradients only): no WGSL kernel for ${backward.join(", ")} on this branch`);
    run.push({ name: c.name, gradients: backward.length === 0 });
  }
  const files = [...(await fixtureFiles())].filter(([, names]) => names.some((n) => run.some((r) => r.name === n))).map(([f]) => f);
  return { plan: { files, cases: run }, filtered, required };
}

/** Bundles the page entry for the browser; workspace packages resolve to their TypeScript sources. */
async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL("./browser/page.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["source"],
    // reached only in Node (the backend's Dawn loader, the dsl's file reader): never loaded by the page
    external: ["node:*", "webgpu"],
    logLevel: "silent",
  });
  return out.outputFiles[0].text;
}

const LABEL = "webgpu in Chromium";

if (chromiumPresent(LABEL)) {
  const cases = await loadCases();
  const { plan, filtered, required } = await makePlan(cases);

  describe(`${LABEL}: shared conformance cases through navigator.gpu`, () => {
    let browser: Browser | undefined;
    let server: Server | undefined;
    let report: BrowserReport | undefined;
    const pageLog: string[] = [];

    beforeAll(async () => {
      const html = `<!doctype html><meta charset="utf-8"><title>attn webgpu conformance</title><script type="module" src="/page.js"></script>`;
      const bundle = await bundlePage();
      const files: Record<string, Served> = { "/": { type: "text/html", body: html }, "/page.js": { type: "text/javascript", body: bundle } };
      const served = await serveBrowserTest((path) => files[path]);
      server = served.server;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      const page = await browser.newPage();
      page.on("console", (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => pageLog.push(`page error: ${e.message}`));
      await page.goto(served.url);
      await page.waitForFunction(() => (globalThis as { attnReady?: boolean }).attnReady === true, undefined, { timeout: 30_000 });
      report = await page.evaluate(
        (p) => (globalThis as unknown as { attnRunConformance: (p: BrowserPlan) => Promise<BrowserReport> }).attnRunConformance(p),
        plan,
      );
      const ran = report.results.filter((r) => required.has(r.name)).length;
      console.log(
        `[${LABEL}] adapter: ${report.adapter}; features: ${report.features.join(", ") || "none"}\n` +
          `  ran ${report.results.length} case(s) (${ran} of ${required.size} required) in ${(report.results.reduce((s, r) => s + r.ms, 0) / 1000).toFixed(1)} s` +
          (filtered.length ? `\n  required cases filtered out (BROWSER_SUBSET_STRICT = ${BROWSER_SUBSET_STRICT}):\n    ${filtered.join("\n    ")}` : ""),
      );
    }, 600_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
    });

    it("names only existing cases in the required list, transformer encoders included", () => {
      expect(REQUIRED_BROWSER_CASES.filter((e) => !cases.some((c) => matchesCase(e, c.name))), "entries matching no case").toEqual([]);
      expect([...required]).toContain("model/transformer_encoder_layer");
    });

    it("ran on a WebGPU adapter in the page", () => {
      expect(report, pageLog.join("\n")).toBeDefined();
      expect(report!.adapter.length).toBeGreaterThan(0);
    });

    it(BROWSER_SUBSET_STRICT ? "runs every required case in full" : "filters out only required cases that need a kernel this branch lacks", () => {
      if (BROWSER_SUBSET_STRICT) expect(filtered, "required cases that did not run in full").toEqual([]);
      else for (const f of filtered) expect(f).toMatch(/no WGSL kernel for /);
    });

    for (const { name, gradients } of plan.cases) {
      it(`${name}${gradients ? "" : " (forward only)"}`, () => {
        const r = report?.results.find((x) => x.name === name);
        expect(r, `no result from the page\n${pageLog.join("\n")}`).toBeDefined();
        expect(r!.failures, r!.failures.join("\n")).toEqual([]);
      });
    }
  });
}
