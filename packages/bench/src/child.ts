/**
 * One measurement's child process: sets up one implementation of one workload case, then answers `run`
 * requests (the parent times nothing itself: each `done` carries the child's own timing of the call) and
 * `finish` with its peak RSS and the first run's output sample. Started by `runner.ts` with `fork`.
 */
import { implById } from "./catalog.js";
import type { FromChild, ToChild } from "./protocol.js";
import type { Instance } from "./impls/types.js";

let instance: Instance | undefined;

function send(msg: FromChild): Promise<void> {
  return new Promise((resolve) => process.send!(msg, undefined, {}, () => resolve()));
}

function messageOf(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

async function create(workload: string, implId: string, msg: ToChild & { type: "setup" }): Promise<Instance> {
  const spec = implById(implId);
  // A reference row of another variant (catalog.ts: `params`) overrides the case's parameters.
  const params = { ...msg.params, ...spec.params };
  switch (spec.kind) {
    case "attn":
      return (await import("./impls/attn.js")).createAttnInstance(spec, workload, params);
    case "ort":
      return (await import("./impls/ort.js")).createOrtInstance(spec, workload, params);
    case "tfjs":
      return (await import("./impls/tfjs.js")).createTfjsInstance(spec, workload, params);
    case "selftest":
      return (await import("./impls/selftest.js")).createSelftestInstance(spec, workload, params);
  }
}

/** Peak resident set size in KiB: VmHWM where /proc has it, else `resourceUsage().maxRSS`. */
export async function peakRssKb(): Promise<number> {
  const ru = process.resourceUsage().maxRSS;
  try {
    const { readFileSync } = await import("node:fs");
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Math.max(Number(m[1]), ru);
  } catch {
    // no /proc (macOS, Windows): resourceUsage alone
  }
  return ru;
}

async function handle(msg: ToChild): Promise<void> {
  switch (msg.type) {
    case "setup": {
      const t0 = performance.now();
      try {
        instance = await create(msg.workload, msg.impl, msg);
      } catch (e) {
        await send({ type: "error", phase: "setup", message: messageOf(e) });
        return;
      }
      await send({ type: "ready", setupMs: performance.now() - t0, ...(instance.detail ? { detail: instance.detail } : {}) });
      return;
    }
    case "run": {
      try {
        const times: number[] = [];
        for (let i = 0; i < (msg.count ?? 1); i++) {
          const t0 = performance.now();
          await instance!.run();
          times.push(performance.now() - t0);
        }
        await send({ type: "done", times });
      } catch (e) {
        await send({ type: "error", phase: "run", message: messageOf(e) });
      }
      return;
    }
    case "cpu": {
      const u = process.cpuUsage();
      await send({ type: "cpu", us: u.user + u.system });
      return;
    }
    case "finish": {
      try {
        const sample = instance?.sample();
        await instance?.dispose?.();
        await send({ type: "finished", maxRssKb: await peakRssKb(), ...(sample ? { sample } : {}) });
      } catch (e) {
        await send({ type: "error", phase: "finish", message: messageOf(e) });
      }
      process.disconnect();
      return;
    }
  }
}

// Requests are handled one at a time, in order.
let queue = Promise.resolve();
process.on("message", (msg: ToChild) => {
  queue = queue.then(() => handle(msg));
});
