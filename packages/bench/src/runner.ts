import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FromChild, Params, Sample, ToChild } from "./protocol.js";
import { watchLoad, type Interference } from "./machine-load.js";
import { summarize, type Summary } from "./stats.js";

/** The child script (built): `dist/child.js`. */
export const CHILD_SCRIPT = fileURLToPath(new URL("./child.js", import.meta.url));

export type Status = "ok" | "error" | "timeout" | "skipped";

/** What one implementation of one case measured. */
export interface ImplResult {
  readonly impl: string;
  readonly status: Status;
  /** Why it is not `ok` (the error, the budget it ran past, the estimate that skipped it). */
  readonly reason?: string;
  readonly detail?: string;
  readonly setupMs?: number;
  /** Warm-up call times (discarded from the statistics). */
  readonly warmupMs: readonly number[];
  /** Timed call times, ms. */
  readonly timesMs: readonly number[];
  readonly summary?: Summary;
  /** Peak RSS of the child process, KiB. */
  readonly maxRssKb?: number;
  readonly sample?: Sample;
  /**
   * For each timed turn, what else ran meanwhile (see machine-load.ts): the other children's CPU time and
   * the hypervisor's steal; null entries where /proc is missing.
   */
  readonly load?: readonly (Interference | null)[];
}

export interface RunOptions {
  /** Timed runs per implementation (≥ 1; the harness uses ≥ 5 outside `--quick`). */
  readonly runs: number;
  /** Discarded warm-up runs (≥ 1: the first one also estimates whether the runs fit the budget). */
  readonly warmup: number;
  /** Per-measurement budget: the sum of one implementation's call times may not exceed it. */
  readonly budgetMs: number;
  /** Limit for a child's setup (loading, compiling). */
  readonly setupTimeoutMs?: number;
  readonly childScript?: string;
  /** Progress lines (to stderr in the CLI). */
  readonly log?: (line: string) => void;
}

export interface CaseImpl {
  readonly impl: string;
  /** Set when the configuration must not even start (e.g. it would need more memory than the machine has). */
  readonly skip?: string;
}

class Timeout extends Error {}

/** A child process speaking the protocol of `child.ts`, one request at a time. */
class Child {
  private readonly proc: ChildProcess;
  private stderr = "";
  private waiting: { resolve: (m: FromChild) => void; reject: (e: Error) => void } | null = null;
  private exited: string | null = null;

  /** The child's process id (-1 if it never started). */
  get pid(): number {
    return this.proc.pid ?? -1;
  }

  constructor(script: string) {
    this.proc = fork(script, [], { stdio: ["ignore", "pipe", "pipe", "ipc"], serialization: "advanced" });
    this.proc.stdout?.on("data", () => {});
    this.proc.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.proc.on("message", (m: FromChild) => {
      const w = this.waiting;
      this.waiting = null;
      w?.resolve(m);
    });
    this.proc.on("exit", (code, signal) => {
      this.exited = `child exited (${signal ?? `code ${code}`})${this.stderr.trim() ? `: ${lastLines(this.stderr, 3)}` : ""}`;
      const w = this.waiting;
      this.waiting = null;
      w?.reject(new Error(this.exited));
    });
  }

  request(msg: ToChild, timeoutMs: number): Promise<FromChild> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise<FromChild>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Timeout(`no answer within ${(timeoutMs / 1000).toFixed(1)} s`));
      }, Math.max(1, timeoutMs));
      this.waiting = {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.proc.send(msg);
    });
  }

  /** Kills the child (SIGKILL) unless it has exited; resolves when it is gone. */
  kill(graceMs = 0): Promise<void> {
    if (this.exited || this.proc.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
      this.proc.once("exit", () => (clearTimeout(timer), resolve()));
    });
  }
}

/**
 * Calls shorter than `shortMs` run in turns of several back-to-back calls, up to `maxCalls` per turn; calls
 * shorter than `leadMs` follow a discarded lead call.
 */
const TURN = { shortMs: 50, maxCalls: 16, leadMs: 1000 } as const;

/**
 * Calls per timed turn for a call of `ms`: a lead call (discarded) and then, for calls under 50 ms, enough
 * calls to fill about 50 ms (at most 16 in all), else one. The cores idle while the runner waits for quiet
 * between turns, and a call started on idle cores also measures their wake-up (a short call runs up to 2×
 * slower on the 2-core VM these figures come from), not the implementation: the lead call absorbs that,
 * so every timed call runs as the next call of a loop does. Calls of a second or more (where the wake-up
 * is under 1 %) are timed alone: 1. Every implementation of a case gets the same rule, so no row is timed
 * warm while another, just past a threshold, is timed cold.
 */
export function callsPerTurn(ms: number): number {
  if (!(ms < TURN.leadMs)) return 1;
  if (!(ms < TURN.shortMs)) return 2;
  return Math.min(TURN.maxCalls, 1 + Math.max(1, Math.ceil(TURN.shortMs / Math.max(ms, 1e-3))));
}

/** How long `settle` waits at most, and the window and CPU share below which a child counts as quiet. */
const SETTLE = { maxMs: 1000, windowMs: 20, quietShare: 0.05 } as const;

/**
 * Waits until `child` uses less than 5 % of one core over a 20 ms window (at most 1 s). onnxruntime's
 * thread pools, for one, spin for a while after a call returns; measured back to back, the next
 * implementation's call would share the machine with those spinning threads.
 */
async function settle(child: Child): Promise<void> {
  const cpu = async () => {
    const m = await child.request({ type: "cpu" }, 5000);
    return m.type === "cpu" ? m.us : NaN;
  };
  const t0 = performance.now();
  let last = await cpu();
  while (performance.now() - t0 < SETTLE.maxMs) {
    await new Promise((r) => setTimeout(r, SETTLE.windowMs));
    const now = await cpu();
    if (!(now - last < SETTLE.windowMs * 1000 * SETTLE.quietShare)) last = now;
    else return;
  }
}

function lastLines(s: string, n: number): string {
  return s.trim().split("\n").slice(-n).join(" | ");
}

function firstLine(s: string): string {
  return s.split("\n")[0];
}

interface Slot {
  readonly impl: string;
  child?: Child;
  status: Status;
  reason?: string;
  detail?: string;
  setupMs?: number;
  readonly warmup: number[];
  readonly times: number[];
  spentMs: number;
  readonly load: (Interference | null)[];
  maxRssKb?: number;
  sample?: Sample;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Measures every implementation of one case, each in its own child process: children are set up one
 * after another, then take turns (A B C A B C …): `warmup` discarded rounds of one call, then `runs` timed
 * turns — for calls under a second, a lead call (discarded) and then one call, or for calls under 50 ms a
 * short burst (see `callsPerTurn`); longer calls one each. After its first warm-up call an implementation
 * whose remaining calls would exceed the budget is stopped and reported `skipped` with the estimate; a call
 * that runs past the budget is killed and reported `timeout`. After each turn the runner waits for that
 * child to go quiet (see `settle`), so threads a runtime leaves spinning after its call do not take cores
 * from the next implementation's turn; the CPU time the other children use during a timed turn is recorded
 * with it (`load`). Each child reports its peak RSS and the first run's output sample at the end.
 */
export async function measureCase(workload: string, params: Params, impls: readonly CaseImpl[], opts: RunOptions): Promise<ImplResult[]> {
  const log = opts.log ?? (() => {});
  const script = opts.childScript ?? CHILD_SCRIPT;
  const slots: Slot[] = impls.map((c) => ({ impl: c.impl, status: c.skip ? "skipped" : "ok", ...(c.skip ? { reason: c.skip } : {}), warmup: [], times: [], spentMs: 0, load: [] }));

  // Set-up (loading, compiling) is not timed, so children start two at a time.
  const pending = slots.filter((x) => x.status === "ok");
  const setUp = async (): Promise<void> => {
    for (let slot = pending.shift(); slot; slot = pending.shift()) await setup(slot);
  };
  await Promise.all([setUp(), setUp()]);

  /** One turn of `count` back-to-back calls; `lead` of them (at the start) go to the warm-up list. */
  const turn = async (slot: Slot, count: number, lead: number): Promise<void> => {
    const left = opts.budgetMs - slot.spentMs;
    const t0 = performance.now();
    const timed = lead < count;
    try {
      // The other children idle during a timed turn; what they (or the hypervisor) take is recorded.
      const watch = timed ? watchLoad(live().filter((x) => x !== slot).map((x) => x.child!.pid)) : null;
      const m = await slot.child!.request({ type: "run", count }, left);
      if (watch) slot.load.push(watch.end());
      if (m.type === "done") {
        m.times.forEach((ms, i) => (i < lead ? slot.warmup : slot.times).push(ms));
        slot.spentMs += m.times.reduce((a, b) => a + b, 0);
        await settle(slot.child!);
      } else if (m.type === "error") await fail(slot, `run failed: ${firstLine(m.message)}`);
    } catch (e) {
      if (e instanceof Timeout) await fail(slot, `timeout after ${s(performance.now() - t0 + slot.spentMs)} (budget ${s(opts.budgetMs)}; ${!timed ? "in warm-up" : `${slot.times.length} timed run(s) done`})`, "timeout");
      else await fail(slot, (e as Error).message);
    }
  };

  const live = () => slots.filter((x) => x.status === "ok" && x.child);
  const rounds = Math.max(1, opts.warmup);
  const turnCalls = new Map<Slot, number>();
  for (let r = 0; r < rounds; r++) {
    for (const slot of live()) {
      await turn(slot, 1, 1);
      if (r === 0 && slot.status === "ok") {
        const one = slot.warmup[0];
        const calls = callsPerTurn(one);
        const est = one * (rounds - 1 + opts.runs * calls);
        if (slot.spentMs + est > opts.budgetMs) {
          slot.status = "skipped";
          slot.reason = `one call took ${s(one)}; ${rounds - 1 + opts.runs * calls} more would take ~${s(est)} > budget ${s(opts.budgetMs)}`;
          await finish(slot);
        }
      }
      if (r === rounds - 1 && slot.status === "ok") turnCalls.set(slot, callsPerTurn(Math.min(...slot.warmup)));
    }
  }
  for (let r = 0; r < opts.runs; r++) {
    for (const slot of live()) {
      const calls = turnCalls.get(slot) ?? 1;
      await turn(slot, calls, calls > 1 ? 1 : 0);
    }
  }
  for (const slot of live()) await finish(slot);

  return slots.map((x) => {
    const res: ImplResult = {
      impl: x.impl,
      status: x.status,
      ...(x.reason ? { reason: x.reason } : {}),
      ...(x.detail ? { detail: x.detail } : {}),
      ...(x.setupMs !== undefined ? { setupMs: x.setupMs } : {}),
      warmupMs: x.warmup,
      timesMs: x.times,
      ...(x.times.length ? { summary: summarize(x.times) } : {}),
      ...(x.maxRssKb !== undefined ? { maxRssKb: x.maxRssKb } : {}),
      ...(x.sample ? { sample: x.sample } : {}),
      ...(x.load.length ? { load: x.load } : {}),
    };
    log(`  ${x.impl}: ${x.status}${res.summary ? ` median ${res.summary.median.toFixed(2)} ms` : ""}${x.reason ? ` (${x.reason})` : ""}`);
    return res;
  });

  async function setup(slot: Slot): Promise<void> {
    slot.child = new Child(script);
    try {
      const m = await slot.child.request({ type: "setup", workload, impl: slot.impl, params }, opts.setupTimeoutMs ?? Math.max(60_000, opts.budgetMs));
      if (m.type === "ready") {
        slot.setupMs = m.setupMs;
        slot.detail = m.detail;
      } else if (m.type === "error") await fail(slot, `setup failed: ${firstLine(m.message)}`);
    } catch (e) {
      await fail(slot, e instanceof Timeout ? `setup: ${e.message}` : `setup failed: ${(e as Error).message}`, e instanceof Timeout ? "timeout" : "error");
    }
  }

  async function fail(slot: Slot, reason: string, status: Status = "error"): Promise<void> {
    slot.status = status;
    slot.reason = reason;
    await slot.child?.kill();
    slot.child = undefined;
  }

  /** Collects peak RSS and the sample, then lets the child exit (killing it if threads keep it alive). */
  async function finish(slot: Slot): Promise<void> {
    const child = slot.child!;
    slot.child = undefined;
    try {
      const m = await child.request({ type: "finish" }, 30_000);
      if (m.type === "finished") {
        slot.maxRssKb = m.maxRssKb;
        slot.sample = m.sample;
      } else if (m.type === "error") slot.reason = `${slot.reason ? `${slot.reason}; ` : ""}finish failed: ${firstLine(m.message)}`;
    } catch (e) {
      slot.reason = `${slot.reason ? `${slot.reason}; ` : ""}finish: ${(e as Error).message}`;
    }
    await child.kill(1000);
  }
}
