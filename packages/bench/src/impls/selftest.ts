import type { ImplSpec } from "../catalog.js";
import { sampleOf, type Params } from "../protocol.js";
import { num, type Instance } from "./types.js";

/**
 * Trivial implementations for the harness's own tests: `spin` holds `mb` MB and busy-waits `ms` per run,
 * `hang` never finishes a run, `fail` throws during setup; `linger` returns from each run while a worker
 * thread of it keeps a core busy for `linger` ms more (as a runtime's spinning thread pool does) and samples
 * the times those lingers ended; `stamp` samples the times its runs started (each run busy-waits `ms`) (both on the machine's clock,
 * performance.timeOrigin + now, ms); `noisy` keeps a worker thread busy from setup on, during the other
 * implementations' turns too (a neighbour the runner must notice), and each run busy-waits `ms`.
 */
export async function createSelftestInstance(spec: ImplSpec, _workload: string, params: Params): Promise<Instance> {
  if (spec.id === "selftest-fail") throw new Error("selftest-fail: setup failed on purpose");
  if (spec.id === "selftest-linger") return lingering(num(params, "ms"), num(params, "linger"));
  if (spec.id === "selftest-noisy") return noisy(num(params, "ms"));
  if (spec.id === "selftest-stamp") {
    const starts: number[] = [];
    const ms = num(params, "ms");
    return {
      async run() {
        starts.push(clock());
        const end = performance.now() + ms;
        while (performance.now() < end);
      },
      sample: () => sampleOf(starts),
    };
  }
  const ms = num(params, "ms");
  const held = Buffer.alloc(Math.round(num(params, "mb") * 1024 * 1024), 1);
  const busy = (t: number) => {
    const end = performance.now() + t;
    while (performance.now() < end) held[0] ^= 1;
  };
  return {
    detail: `holds ${held.length} bytes`,
    async run() {
      if (spec.id === "selftest-hang") for (;;) busy(1000);
      busy(ms);
    },
    sample: () => sampleOf([1, 2, 3, held.length]),
  };
}

const clock = () => performance.timeOrigin + performance.now();

/** `selftest-linger`: each run busy-waits `ms`, then starts `linger` ms of busy work on a worker thread and returns. */
async function lingering(ms: number, linger: number): Promise<Instance> {
  const { Worker } = await import("node:worker_threads");
  const worker = new Worker(
    `const { parentPort } = require("node:worker_threads");
     parentPort.on("message", (ms) => {
       const end = performance.now() + ms;
       while (performance.now() < end);
       parentPort.postMessage(performance.timeOrigin + performance.now());
     });`,
    { eval: true },
  );
  const ends: number[] = [];
  worker.on("message", (t: number) => ends.push(t));
  return {
    async run() {
      const end = performance.now() + ms;
      while (performance.now() < end);
      worker.postMessage(linger);
    },
    sample: () => sampleOf(ends),
    dispose: () => worker.terminate().then(() => undefined),
  };
}

/** `selftest-noisy`: a worker thread spins from setup until dispose; each run busy-waits `ms`. */
async function noisy(ms: number): Promise<Instance> {
  const { Worker } = await import("node:worker_threads");
  const worker = new Worker("for (;;);", { eval: true });
  await new Promise((resolve) => worker.once("online", resolve));
  return {
    async run() {
      const end = performance.now() + ms;
      while (performance.now() < end);
    },
    sample: () => undefined,
    dispose: () => worker.terminate().then(() => undefined),
  };
}
