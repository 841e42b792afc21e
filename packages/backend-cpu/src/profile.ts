/**
 * Opt-in per-op timing of the cpu executor (`createCpuBackend({ profile: true })`). Each node's kernel call
 * is timed with `performance.now()`; time spent in a scan body is charged to the body's nodes, not to the
 * `scan` node, so the `ms` of every op is its own (self) time and the rows add up to the total.
 */

/** One row of a profile: an op, how many nodes of it ran, and their self time. */
export interface ProfileEntry {
  readonly op: string;
  /** Kernel calls (nodes run, scan-body nodes once per step). */
  readonly calls: number;
  /** Milliseconds spent in those calls, scan bodies excluded from `scan` itself. */
  readonly ms: number;
}

/** A snapshot of a profiler: rows sorted by time, slowest first, and their sum. */
export interface CpuProfile {
  readonly totalMs: number;
  readonly ops: readonly ProfileEntry[];
}

const clock: () => number = (() => {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf ? () => perf.now() : () => Date.now();
})();

/** Accumulates self time per op. One profiler may be fed by several executables (the backend's is). */
export class Profiler {
  private readonly rows = new Map<string, { calls: number; ms: number }>();
  /** Time of kernel calls nested inside the one running now (scan bodies), in ms. */
  private nested = 0;

  /** Runs `f` (one kernel call for `op`), charging its time minus nested calls to `op`; also feeds `also`. */
  time<T>(op: string, f: () => T, also?: Profiler | null): T {
    const saved = this.nested;
    this.nested = 0;
    const t0 = clock();
    try {
      return f();
    } finally {
      const elapsed = clock() - t0;
      const self = elapsed - this.nested;
      this.nested = saved + elapsed;
      this.add(op, self);
      also?.add(op, self);
    }
  }

  private add(op: string, ms: number): void {
    const r = this.rows.get(op);
    if (r) {
      r.calls++;
      r.ms += ms;
    } else this.rows.set(op, { calls: 1, ms });
  }

  /** The rows so far, slowest op first. */
  snapshot(): CpuProfile {
    const ops = [...this.rows].map(([op, r]) => ({ op, calls: r.calls, ms: r.ms })).sort((a, b) => b.ms - a.ms || (a.op < b.op ? -1 : 1));
    return { totalMs: ops.reduce((s, r) => s + r.ms, 0), ops };
  }

  /** Forgets every row (e.g. after warm-up). */
  reset(): void {
    this.rows.clear();
  }
}

/** A profile as a plain-text table (op, calls, ms, share), for logs and scripts. */
export function formatProfile(p: CpuProfile, top = Infinity): string {
  const rows = p.ops.slice(0, top);
  const w = Math.max(4, ...rows.map((r) => r.op.length));
  const lines = [`${"op".padEnd(w)}  ${"calls".padStart(7)}  ${"ms".padStart(10)}  share`];
  for (const r of rows) {
    const share = p.totalMs > 0 ? (100 * r.ms) / p.totalMs : 0;
    lines.push(`${r.op.padEnd(w)}  ${String(r.calls).padStart(7)}  ${r.ms.toFixed(2).padStart(10)}  ${share.toFixed(1).padStart(5)}%`);
  }
  lines.push(`${"total".padEnd(w)}  ${"".padStart(7)}  ${p.totalMs.toFixed(2).padStart(10)}`);
  return lines.join("\n");
}
