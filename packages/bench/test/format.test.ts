import { describe, expect, it } from "vitest";
import { formatKb, formatMs, formatRate, formatRatio, markdownTable, textTable } from "../src/format.js";
import { caseTable, interferenceNote, plural, type RunReport } from "../src/report.js";
import type { CaseResult } from "../src/results.js";

describe("number formatting", () => {
  it("keeps three significant digits with a unit that fits", () => {
    expect(formatMs(0.8123)).toBe("812 µs");
    expect(formatMs(12.345)).toBe("12.3 ms");
    expect(formatMs(4567)).toBe("4.57 s");
    expect(formatRate(0.06812)).toBe("0.0681");
    expect(formatRate(1234.5)).toBe("1,235");
  });

  it("writes ratios and memory", () => {
    expect(formatRatio(1.234)).toBe("1.23×");
    expect(formatRatio(18.46)).toBe("18.5×");
    expect(formatRatio(undefined)).toBe("—");
    expect(formatKb(400 * 1024)).toBe("400 MB");
    expect(plural("call")).toBe("calls");
    expect(plural("batch")).toBe("batches");
    expect(plural("epoch")).toBe("epochs");
  });
});

describe("tables", () => {
  it("pads columns to the widest cell, counting µ and × as one column", () => {
    const t = textTable(["impl", "median"], [["a", "1.00 ms"], ["long name", "812 µs"]], ["left", "right"]);
    expect(t.split("\n")).toEqual(["impl        median", "---------  -------", "a          1.00 ms", "long name   812 µs"]);
  });

  it("writes Markdown with alignment and escaped pipes", () => {
    expect(markdownTable(["a", "b"], [["x|y", "1"]], ["left", "right"])).toBe("| a | b |\n| --- | ---: |\n| x\\|y | 1 |");
  });

  it("puts a ratio column per measured row of ours and the reasons under the table", () => {
    const c: CaseResult = {
      id: "attention N=256",
      workload: "attention",
      params: { n: 256, causal: false },
      flops: 2e9,
      unit: "call",
      reference: "ort-node-op17-2t",
      results: [
        { impl: "attn-cpu-js", status: "ok", warmupMs: [12], timesMs: [10, 10, 10], summary: { n: 3, median: 10, min: 9, max: 11 }, maxRssKb: 100 * 1024, sample: { size: 1, values: [1] } },
        { impl: "ort-node-op17-2t", status: "ok", warmupMs: [25], timesMs: [20], summary: { n: 1, median: 20, min: 20, max: 20 }, sample: { size: 1, values: [1] } },
        { impl: "tfjs-cpu-1t", status: "timeout", reason: "timeout after 15.0 s", warmupMs: [], timesMs: [] },
      ],
      checks: { "attn-cpu-js": { ok: true, maxAbsDiff: 0, message: "" } },
    };
    const t = caseTable(c);
    expect(t.header).toEqual(["implementation", "median", "min", "max", "calls/s", "GFLOP/s", "peak RSS", "check", "attn cpu js 1t ×"]);
    expect(t.rows[0]).toEqual(["attn cpu js 1t", "10.0 ms", "9.00 ms", "11.0 ms", "100", "200", "100 MB", "ok", "·"]);
    expect(t.rows[1].slice(-2)).toEqual(["ref", "2.00×"]);
    expect(t.rows[2]).toEqual(["tfjs cpu 1t", "timeout", "—", "—", "—", "—", "—", "—", "—"]);
    expect(t.notes).toEqual(["tfjs cpu 1t: timeout: timeout after 15.0 s"]);
  });

  it("notes a case's extra timed turns, and what the neighbours took during the run's turns", () => {
    const ok = (load: ({ neighbourMs: number; stealMs: number } | null)[]) => ({ impl: "attn-cpu-js", status: "ok" as const, warmupMs: [1], timesMs: [1], summary: { n: 1, median: 1, min: 1, max: 1 }, load });
    const c: CaseResult = { id: "x", workload: "attention", params: {}, unit: "call", runs: 9, results: [ok([{ neighbourMs: 0.2, stealMs: 0 }, { neighbourMs: 3, stealMs: 10 }])], checks: {} };
    expect(caseTable(c).notes).toEqual(["9 timed turns (more than the run's default: a target divides two of this case's medians)"]);
    const report = (cases: CaseResult[]) => ({ cases }) as unknown as RunReport;
    const d: CaseResult = { ...c, results: [ok([{ neighbourMs: 0.1, stealMs: 0 }, null])] };
    expect(interferenceNote(report([c, d]))).toBe(
      "During the 3 timed turns the other children of the case used 200 µs of CPU at the median and 3.00 ms at most (per-thread schedstat in /proc); the hypervisor reported 10.0 ms of steal time in all of them.",
    );
    expect(interferenceNote(report([{ ...c, results: [ok([null])] }]))).toBeNull();
  });
});
