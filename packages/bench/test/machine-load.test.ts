import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { processCpuMs, stealMs, watchLoad } from "../src/machine-load.js";

// /proc is Linux's; elsewhere the functions return null and the runner records nothing (tested below).
const linux = existsSync("/proc/self/task");
if (!linux) console.warn("machine-load.test: no /proc on this OS; only the null answers are checked");

/** A child process that busy-waits `ms` once it is told to (a line on stdin), then idles until killed. */
function child(): { pid: number; busy: (ms: number) => Promise<void>; kill: () => void } {
  const p = spawn(process.execPath, ["-e", `process.stdin.on("data", (d) => { const end = performance.now() + Number(d); while (performance.now() < end); process.stdout.write("done\\n"); });`], { stdio: ["pipe", "pipe", "ignore"] });
  return {
    pid: p.pid!,
    busy: (ms) => new Promise((resolve) => (p.stdout.once("data", () => resolve()), p.stdin.write(`${ms}`))),
    kill: () => p.kill("SIGKILL"),
  };
}

describe("machine load", () => {
  it.runIf(linux)("counts the CPU time of every thread of another process, and nothing while it idles", async () => {
    const c = child();
    try {
      await c.busy(1); // started and answering
      const idle0 = processCpuMs(c.pid)!;
      await new Promise((r) => setTimeout(r, 150));
      const idle = processCpuMs(c.pid)! - idle0;
      const w = watchLoad([c.pid]);
      await c.busy(200);
      const load = w.end()!;
      expect(idle).toBeLessThan(20);
      // it spun 200 ms of wall time on a core of its own (the test waits, idle, meanwhile)
      expect(load.neighbourMs).toBeGreaterThan(150);
      expect(load.neighbourMs).toBeLessThan(400);
      expect(load.stealMs).toBeGreaterThanOrEqual(0);
    } finally {
      c.kill();
    }
  });

  it("answers null for a process that does not exist, and where /proc is missing", () => {
    expect(processCpuMs(2 ** 30)).toBeNull();
    expect(watchLoad([2 ** 30]).end()).toBeNull();
    if (!linux) expect(stealMs()).toBeNull();
    else expect(stealMs()).toBeGreaterThanOrEqual(0);
  });
});
