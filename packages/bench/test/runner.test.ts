import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { callsPerTurn, measureCase } from "../src/runner.js";

// The child runs as plain Node, so the tests use the built script (`pnpm build` first; turbo does).
const childScript = fileURLToPath(new URL("../dist/child.js", import.meta.url));
const opts = { childScript, warmup: 1, runs: 5 };

describe("child-process runner", () => {
  beforeAll(() => {
    if (!existsSync(childScript)) throw new Error(`${childScript} is missing: run \`pnpm --filter @attn/bench build\` first`);
  });

  it("times a trivial workload in alternating children and reports their timings, RSS and sample", async () => {
    const res = await measureCase("selftest", { ms: 60, mb: 64 }, [{ impl: "selftest-spin" }, { impl: "selftest-spin" }], { ...opts, budgetMs: 20_000 });
    expect(res).toHaveLength(2);
    for (const r of res) {
      expect(r.status).toBe("ok");
      // 1 warm-up call, then 5 turns of a lead call (discarded: a 60 ms call is under a second) and a timed one
      expect(r.warmupMs).toHaveLength(1 + 5);
      expect(r.timesMs).toHaveLength(5);
      expect(r.summary!.n).toBe(5);
      expect(r.summary!.min).toBeLessThanOrEqual(r.summary!.median);
      expect(r.summary!.median).toBeLessThanOrEqual(r.summary!.max);
      expect(r.timesMs.every((t) => t >= 60)).toBe(true); // a run busy-waits 60 ms
      // The child holds 64 MiB, so its own peak RSS is above that.
      expect(r.maxRssKb!).toBeGreaterThan(64 * 1024);
      expect(r.sample).toEqual({ size: 4, values: [1, 2, 3, 64 * 1024 * 1024] });
      expect(r.detail).toMatch(/holds 67108864 bytes/);
    }
  });

  it("waits for a child's lingering threads to go quiet before calling the next implementation", async () => {
    const res = await measureCase("selftest", { ms: 60, linger: 150 }, [{ impl: "selftest-linger" }, { impl: "selftest-stamp" }], { ...opts, budgetMs: 20_000 });
    expect(res.map((r) => r.status)).toEqual(["ok", "ok"]);
    const ends = res[0].sample!.values;
    const starts = res[1].sample!.values;
    // Turns alternate linger, stamp, linger, … (1 warm-up call, then 5 turns of a lead call and a timed one):
    // each stamp call starts after the lingers of the turn before it ended.
    expect(ends).toHaveLength(11);
    expect(starts).toHaveLength(11);
    // call i's turn ends with call i (the warm-up, i = 0, and the timed calls: even i) or with call i + 1
    for (let i = 0; i < 11; i++) expect(starts[i]).toBeGreaterThanOrEqual(ends[i % 2 ? i + 1 : i]);
  });

  if (!existsSync("/proc/self/task")) console.warn("runner.test: no /proc on this OS, so the neighbour-CPU test does not run");
  it.runIf(existsSync("/proc/self/task"))("records the CPU time a neighbouring child used during each timed turn", async () => {
    // selftest-noisy keeps a thread spinning from setup on: during the spin row's 60 ms turns it takes CPU.
    const res = await measureCase("selftest", { ms: 60, mb: 1 }, [{ impl: "selftest-spin" }, { impl: "selftest-noisy" }], { ...opts, runs: 2, budgetMs: 20_000 });
    expect(res.map((r) => r.status)).toEqual(["ok", "ok"]);
    const [spin, noisy] = res.map((r) => r.load!);
    expect(spin).toHaveLength(2);
    // (a third of the turn: on a busy 2-core CI machine the spinning thread gets less than a whole core)
    for (const l of spin) expect(l!.neighbourMs).toBeGreaterThan(20);
    // the spin child is idle during the noisy row's turns
    for (const l of noisy) expect(l!.neighbourMs).toBeLessThan(10);
  });

  it("runs calls under 50 ms in bursts and discards the first call of each", async () => {
    const res = await measureCase("selftest", { ms: 5, mb: 1 }, [{ impl: "selftest-spin" }], { ...opts, budgetMs: 20_000 });
    const per = callsPerTurn(Math.min(...res[0].warmupMs.slice(0, 1)));
    expect(per).toBeGreaterThan(2);
    // 1 warm-up call, then 5 turns of `per` calls, whose first calls join the warm-up list.
    expect(res[0].warmupMs).toHaveLength(1 + 5);
    expect(res[0].timesMs).toHaveLength(5 * (per - 1));
    expect(res[0].timesMs.every((t) => t >= 5)).toBe(true);
  });

  it("sizes bursts to about 50 ms, 16 calls at most, and leads every call under a second with a discarded one", () => {
    expect(callsPerTurn(50)).toBe(2);
    expect(callsPerTurn(200)).toBe(2);
    expect(callsPerTurn(999)).toBe(2);
    expect(callsPerTurn(1000)).toBe(1);
    expect(callsPerTurn(25)).toBe(3);
    expect(callsPerTurn(10)).toBe(6);
    expect(callsPerTurn(0.01)).toBe(16);
    expect(callsPerTurn(Number.NaN)).toBe(1);
  });

  it("kills a call that runs past the budget and reports the timeout", async () => {
    const res = await measureCase("selftest", { ms: 60, mb: 1 }, [{ impl: "selftest-hang" }, { impl: "selftest-spin" }], { ...opts, budgetMs: 1500 });
    expect(res[0].status).toBe("timeout");
    expect(res[0].reason).toMatch(/^timeout after \d+\.\d s \(budget 1\.5 s; in warm-up\)/);
    expect(res[0].summary).toBeUndefined();
    // The other implementation is unaffected.
    expect(res[1].status).toBe("ok");
    expect(res[1].timesMs).toHaveLength(5);
  });

  it("skips with the estimate when one call shows the runs cannot fit the budget", async () => {
    const res = await measureCase("selftest", { ms: 300, mb: 1 }, [{ impl: "selftest-spin" }], { ...opts, budgetMs: 1000 });
    expect(res[0].status).toBe("skipped");
    expect(res[0].reason).toMatch(/^one call took 0\.\d s; 10 more would take ~\d+\.\d s > budget 1\.0 s$/);
    expect(res[0].warmupMs).toHaveLength(1);
    expect(res[0].timesMs).toHaveLength(0);
    // Still reports what it could: peak RSS and the output of the call it made.
    expect(res[0].maxRssKb).toBeGreaterThan(0);
    expect(res[0].sample).toBeDefined();
  });

  it("reports setup errors and configurations skipped before they start", async () => {
    const res = await measureCase("selftest", { ms: 1, mb: 1 }, [{ impl: "selftest-fail" }, { impl: "selftest-spin", skip: "would need 8 GiB" }], { ...opts, budgetMs: 5000 });
    expect(res[0]).toMatchObject({ status: "error", reason: "setup failed: Error: selftest-fail: setup failed on purpose" });
    expect(res[1]).toMatchObject({ status: "skipped", reason: "would need 8 GiB", timesMs: [] });
  });
});
