import { describe, expect, it } from "vitest";
import { checkCase, parseArgs } from "../src/cli.js";
import { compareSamples, sampleOf } from "../src/protocol.js";
import type { CaseResult } from "../src/results.js";
import type { ImplResult } from "../src/runner.js";
import { implById } from "../src/catalog.js";
import { evaluateTargets } from "../src/targets.js";
import { PAIR_RUNS, planCases } from "../src/workloads.js";

function row(impl: string, median: number | undefined, extra: Partial<ImplResult> = {}): ImplResult {
  return { impl, status: median === undefined ? "skipped" : "ok", warmupMs: [median ?? 1], timesMs: median === undefined ? [] : [median], ...(median !== undefined ? { summary: { n: 1, median, min: median, max: median } } : {}), ...extra };
}

function kase(id: string, workload: string, rows: ImplResult[]): CaseResult {
  return { id, workload, params: {}, unit: "call", results: rows, checks: {} };
}

const byTarget = (cases: CaseResult[], prefix: string) => evaluateTargets(cases).filter((t) => t.target.startsWith(prefix));

describe("PASS/MISS evaluation", () => {
  it("compares backend-cpu with the faster ort-web variant at each thread count", () => {
    const c = kase("attention N=512", "attention", [row("attn-cpu-js", 10), row("ort-web-op17-1t", 12), row("ort-web-op23-1t", 9), row("ort-web-op17-2t", 30), row("ort-web-op23-2t", 40)]);
    const [t1, t2] = byTarget([c], "attention N=512:");
    expect(t1).toMatchObject({ status: "MISS", ratio: 0.9 });
    expect(t1.measured).toContain("ort-web wasm op23 1t");
    expect(t2).toMatchObject({ status: "PASS", ratio: 3 });
  });

  it("compares our 2-thread row only with 2-thread peers", () => {
    const c = kase("attention N=1024", "attention", [row("attn-cpu-wasm-simd", 20), row("attn-cpu-wasm-simd-threads-2t", 10), row("ort-web-op17-1t", 15), row("ort-web-op17-2t", 11)]);
    const [t1, t2] = byTarget([c], "attention N=1024:");
    expect(t1).toMatchObject({ status: "MISS", ratio: 0.75 });
    expect(t2).toMatchObject({ status: "PASS", ratio: 1.1 });
    expect(t2.measured).toContain("attn cpu wasm-simd-threads 2t");
    const g = kase("gemm 1024³", "gemm", [row("attn-cpu-js", 900), row("attn-cpu-wasm-simd", 70), row("attn-cpu-wasm-simd-threads-2t", 50), row("ort-web-op17-1t", 63), row("ort-web-op17-2t", 60)]);
    const [g1, g2] = byTarget([g], "gemm 1024³: backend-cpu");
    expect(g1).toMatchObject({ status: "MISS", ratio: 0.9 });
    expect(g1.measured).toContain("attn cpu wasm-simd 1t"); // the fastest 1-thread path, not the js one
    expect(g2).toMatchObject({ status: "PASS", ratio: 1.2 });
  });

  it("reports a MISS, never a silent gap, when our row did not finish", () => {
    const c = kase("attention N=2048", "attention", [row("attn-cpu-js", undefined, { status: "timeout", reason: "timeout after 120.0 s" }), row("ort-web-op17-1t", 100)]);
    const [t] = byTarget([c], "attention N=2048: backend-cpu ≥ 1.0× ort-web wasm 1t");
    expect(t.status).toBe("MISS");
    expect(t.measured).toMatch(/timeout after 120\.0 s/);
  });

  it("marks targets whose case was not run (or whose peer was filtered out) N/A", () => {
    const c = kase("attention N=256", "attention", [row("attn-cpu-js", 10), row("ort-web-op17-1t", 20)]);
    expect(byTarget([c], "attention N=256: backend-cpu ≥ 1.0× ort-web wasm 2t")[0].status).toBe("N/A");
    expect(byTarget([], "train step")[0].status).toBe("N/A");
  });

  it("checks causal speed-up, large N, peak RSS and the training-step ratio", () => {
    const cases = [
      kase("attention N=2048", "attention", [row("attn-cpu-js", 100)]),
      kase("attention N=2048 causal", "attention", [row("attn-cpu-js", 50)]),
      kase("attention N=16384", "attention", [row("attn-cpu-js", 9000, { maxRssKb: 300 * 1024 })]),
      kase("attention N=16384 causal", "attention", [row("attn-cpu-js", undefined, { reason: "one call took 90 s", maxRssKb: 500 * 1024 })]),
      kase("train-step x", "train-step", [row("attn-cpu-js", 10), row("tfjs-wasm-1t", 45)]),
    ];
    const t = evaluateTargets(cases);
    expect(t.find((x) => x.target.includes("causal ≥ 1.8×"))).toMatchObject({ status: "PASS", ratio: 2 });
    expect(t.find((x) => x.target === "attention N=16384: runs on backend-cpu")).toMatchObject({ status: "MISS" });
    expect(t.find((x) => x.target.includes("peak RSS"))).toMatchObject({ status: "MISS", measured: "peak 500 MB" });
    expect(t.find((x) => x.target.startsWith("train step"))).toMatchObject({ status: "MISS", ratio: 4.5 });
  });

  it("takes the causal speed-up from the same path's non-causal reference row of the causal case when there is one", () => {
    const cases = [
      kase("attention N=2048", "attention", [row("attn-cpu-wasm-simd", 100), row("attn-cpu-wasm-simd-threads-2t", 60)]),
      kase("attention N=2048 causal", "attention", [
        row("attn-cpu-wasm-simd", 50),
        row("attn-cpu-wasm-simd-threads-2t", 40),
        row("attn-cpu-wasm-simd-noncausal", 95),
        row("attn-cpu-wasm-simd-threads-2t-noncausal", 76),
      ]),
    ];
    const t = evaluateTargets(cases).find((x) => x.target.includes("causal ≥ 1.8×"))!;
    // fastest causal row: 2 threads, 40 ms; its own non-causal row in the same case: 76 ms (across cases: 60 ms)
    expect(t).toMatchObject({ status: "PASS", ratio: 1.9 });
    expect(t.measured).toMatch(/across the two cases 1\.50×/);
  });

  it("plans the non-causal reference rows into the causal case of the target's N only", () => {
    const ids = (n: number) => planCases({ quick: false, filter: ["attention"], sizes: [n] }).map((c) => c.impls.map((i) => i.impl));
    const [full2048, causal2048] = ids(2048);
    // each non-causal row takes its turn right after its own path's causal row
    expect(causal2048.slice(0, 5)).toEqual(["attn-cpu-js", "attn-cpu-wasm-simd", "attn-cpu-wasm-simd-noncausal", "attn-cpu-wasm-simd-threads-2t", "attn-cpu-wasm-simd-threads-2t-noncausal"]);
    const minRuns = planCases({ quick: false, filter: ["attention"], sizes: [1024, 2048] }).map((c) => c.minRuns);
    expect(minRuns).toEqual([undefined, undefined, undefined, PAIR_RUNS]);
    expect(full2048.some((i) => i.endsWith("-noncausal"))).toBe(false);
    expect(ids(1024)[1].some((i) => i.endsWith("-noncausal"))).toBe(false);
    expect(implById("attn-cpu-wasm-simd-noncausal")).toMatchObject({ params: { causal: false }, ours: false });
    // its output (the non-causal problem's) is not checked against the causal reference
    const [, def] = planCases({ quick: false, filter: ["attention"], sizes: [2048] });
    const rows = [
      row("ort-node-op17-2t", 5, { sample: { size: 2, values: [1, 2] } }),
      row("attn-cpu-wasm-simd", 6, { sample: { size: 2, values: [1, 2] } }),
      row("attn-cpu-wasm-simd-noncausal", 9, { sample: { size: 2, values: [7, 8] } }),
    ];
    const { checks } = checkCase(def, rows);
    expect(checks["attn-cpu-wasm-simd"]?.ok).toBe(true);
    expect(checks["attn-cpu-wasm-simd-noncausal"]).toBeUndefined();
  });
});

describe("output checks", () => {
  it("samples evenly and compares within the tolerance", () => {
    expect(sampleOf([0, 1, 2, 3, 4], 3)).toEqual({ size: 5, values: [0, 2, 4] });
    const tol = { abs: 1e-4, rel: 1e-3 };
    expect(compareSamples({ size: 2, values: [1, 2.001] }, { size: 2, values: [1, 2] }, tol).ok).toBe(true);
    const bad = compareSamples({ size: 2, values: [1, 2.1] }, { size: 2, values: [1, 2] }, tol);
    expect(bad.ok).toBe(false);
    expect(bad.message).toMatch(/value 1 is 2.1, reference 2/);
    expect(compareSamples({ size: 2, values: [1, Number.NaN] }, { size: 2, values: [1, 2] }, tol).ok).toBe(false);
    expect(compareSamples({ size: 3, values: [1] }, { size: 2, values: [1] }, tol).message).toMatch(/size/);
  });

  it("takes the first reference row that has a sample", () => {
    const [def] = planCases({ quick: true, filter: ["gemm"] });
    const s = { size: 1, values: [1] };
    const { reference, checks } = checkCase(def, [row("attn-cpu-js", 1, { sample: s }), row("ort-node-op17-2t", undefined), row("tfjs-wasm-1t", 1, { sample: { size: 1, values: [3] } })]);
    expect(reference).toBe("attn-cpu-js");
    expect(checks["tfjs-wasm-1t"].ok).toBe(false);
  });
});

describe("the plan and the flags", () => {
  it("runs ≥ 5 timed runs by default and filters workloads and peer thread counts", () => {
    expect(parseArgs(["--quick", "--filter", "attention,gemm", "--threads", "1", "--out", "x"])).toMatchObject({ quick: true, filter: ["attention", "gemm"], threads: 1, out: "x" });
    expect(() => parseArgs(["--filter", "nope"])).toThrow(/unknown workload/);
    expect(() => parseArgs(["--threads", "4"])).toThrow(/1 or 2/);
    expect(parseArgs(["--sizes", "512, 2048"])).toMatchObject({ sizes: [512, 2048] });
    expect(() => parseArgs(["--sizes", "512,x"])).toThrow(/integer/);
    const full = planCases({ quick: false, filter: ["attention"] });
    expect(full.map((c) => c.id)).toContain("attention N=16384 causal");
    const big = full.find((c) => c.id === "attention N=16384")!;
    expect(big.impls.find((i) => i.impl === "attn-cpu-js")!.skip).toBeUndefined();
    expect(big.impls.find((i) => i.impl === "ort-web-op17-1t")!.skip).toMatch(/scores/);
    const one = planCases({ quick: true, threads: 1, filter: ["attention"] })[0];
    expect(one.impls.map((i) => i.impl)).not.toContain("ort-web-op17-2t");
    expect(one.impls.map((i) => i.impl)).toContain("attn-cpu-js");
    expect(planCases({ quick: false, filter: ["attention"], sizes: [512] }).map((c) => c.id)).toEqual(["attention N=512", "attention N=512 causal"]);
  });
});
