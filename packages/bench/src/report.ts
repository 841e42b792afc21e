import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem, platform, release, arch } from "node:os";
import { dirname, join } from "node:path";
import { IMPLS, implById } from "./catalog.js";
import { formatKb, formatMs, formatRate, formatRatio, markdownTable, textTable, type Align } from "./format.js";
import type { CaseResult } from "./results.js";
import type { ImplResult } from "./runner.js";
import { speedRatio } from "./stats.js";
import type { TargetResult } from "./targets.js";

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly packages: Readonly<Record<string, string>>;
}

const require = createRequire(import.meta.url);

/** The version of an installed package (its package.json), or "missing". */
export function packageVersion(name: string): string {
  try {
    // Resolve the entry, then walk up to the package's own package.json (some packages do not export it).
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {
        // keep walking up
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return "missing";
}

export function machineInfo(): MachineInfo {
  const names = [...new Set(IMPLS.flatMap((s) => s.packages))].sort();
  return {
    cpu: cpus()[0]?.model?.trim() ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    packages: Object.fromEntries(names.map((n) => [n, packageVersion(n)])),
  };
}

/** The figure column of a row: the median, or the reason there is none. */
function statusCell(r: ImplResult): string {
  if (r.summary) return formatMs(r.summary.median) + (r.status !== "ok" ? ` (${r.status})` : "");
  if (r.status === "skipped" && r.warmupMs.length) return `skipped (1 call ${formatMs(r.warmupMs[0])})`;
  return r.status === "timeout" ? "timeout" : r.status;
}

function checkCell(c: CaseResult, r: ImplResult): string {
  if (c.reference === r.impl) return "ref";
  const k = c.checks[r.impl];
  if (!k && implById(r.impl).params) return "other variant";
  if (!k) return r.sample ? "no ref" : "—";
  return k.ok ? "ok" : "MISMATCH";
}

/** `call` → `calls`, `batch` → `batches`. */
export function plural(unit: string): string {
  return /(s|x|sh|tch)$/.test(unit) ? `${unit}es` : `${unit}s`;
}

export interface Table {
  readonly header: string[];
  readonly rows: string[][];
  readonly align: Align[];
  /** Reasons (errors, timeouts, skips, mismatches) to print under the table. */
  readonly notes: string[];
}

/**
 * One case as a table: median, min, max, rate, GFLOP/s, peak RSS, output check, and for each of our rows
 * a column "vs <ours>": how many times faster ours is than the row (row median ÷ ours median).
 */
export function caseTable(c: CaseResult): Table {
  const ours = c.results.filter((r) => implById(r.impl).ours && r.summary);
  const header = ["implementation", "median", "min", "max", `${plural(c.unit)}/s`, ...(c.flops ? ["GFLOP/s"] : []), "peak RSS", "check", ...ours.map((o) => `${implById(o.impl).label} ×`)];
  const align: Align[] = header.map((_, i) => (i === 0 || header[i] === "check" ? "left" : "right"));
  const notes: string[] = c.runs !== undefined ? [`${c.runs} timed turns (more than the run's default: a target divides two of this case's medians)`] : [];
  const rows = c.results.map((r) => {
    const s = r.summary;
    if (r.reason) notes.push(`${implById(r.impl).label}: ${r.status}: ${r.reason}`);
    const k = c.checks[r.impl];
    if (k && !k.ok) notes.push(`${implById(r.impl).label}: output ${k.message}`);
    return [
      implById(r.impl).label,
      statusCell(r),
      s ? formatMs(s.min) : "—",
      s ? formatMs(s.max) : "—",
      s ? formatRate(1000 / s.median) : "—",
      ...(c.flops ? [s ? formatRate(c.flops / (s.median * 1e6)) : "—"] : []),
      formatKb(r.maxRssKb),
      checkCell(c, r),
      ...ours.map((o) => (o.impl === r.impl ? "·" : formatRatio(speedRatio(o.summary!.median, s?.median)))),
    ];
  });
  return { header, rows, align, notes };
}

/**
 * What the other children of a case took during timed turns, over the whole run (one sentence), or null
 * when nothing was recorded (no /proc).
 */
export function interferenceNote(r: RunReport): string | null {
  const turns = r.cases.flatMap((c) => c.results.flatMap((x) => x.load ?? [])).filter((l) => l !== null);
  if (!turns.length) return null;
  const cpu = turns.map((l) => l.neighbourMs).sort((a, b) => a - b);
  const steal = turns.reduce((a, l) => a + l.stealMs, 0);
  return (
    `During the ${turns.length} timed turns the other children of the case used ${formatMs(cpu[cpu.length >> 1])} of CPU at the median and ${formatMs(cpu[cpu.length - 1])} at most ` +
    `(per-thread schedstat in /proc); the hypervisor reported ${formatMs(steal)} of steal time in all of them.`
  );
}

export function targetLines(targets: readonly TargetResult[]): string[] {
  return targets.map((t) => `${t.status.padEnd(4)}  ${t.target}: ${t.measured}`);
}

export interface RunReport {
  readonly version: 1;
  readonly startedAt: string;
  readonly wallSeconds: number;
  readonly mode: "quick" | "full";
  readonly options: Readonly<Record<string, unknown>>;
  readonly machine: MachineInfo;
  readonly cases: readonly CaseResult[];
  readonly targets: readonly TargetResult[];
}

export function consoleReport(r: RunReport): string {
  const parts: string[] = [];
  for (const c of r.cases) {
    const t = caseTable(c);
    parts.push(`\n${c.id}${c.flops ? ` (${(c.flops / 1e9).toFixed(2)} GFLOP per ${c.unit})` : ""}`, textTable(t.header, t.rows, t.align));
    for (const n of t.notes) parts.push(`  note: ${n}`);
  }
  const load = interferenceNote(r);
  if (load) parts.push(`\n${load}`);
  parts.push("\nTargets (issue #6):", ...targetLines(r.targets).map((l) => `  ${l}`));
  return parts.join("\n");
}

/** What the run covered: quick or full, and any `--filter` / `--sizes` that narrowed it. */
function runScope(r: RunReport): string {
  const parts = [r.mode === "quick" ? "`--quick`: small sizes, fewer runs" : "full sizes"];
  const filter = r.options.filter as readonly string[] | undefined;
  if (filter?.length) parts.push(`only ${filter.join(", ")}`);
  const sizes = r.options.sizes as readonly number[] | undefined;
  if (sizes?.length) parts.push(`attention N = ${sizes.join(", ")}`);
  return parts.join("; ");
}

export function markdownReport(r: RunReport): string {
  const m = r.machine;
  const lines = [
    "<!-- Generated by `pnpm bench` (packages/bench); do not edit by hand. -->",
    "# Benchmarks",
    "",
    `Run ${r.startedAt} (${runScope(r)}; ${r.wallSeconds.toFixed(0)} s wall). ` +
      `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}.`,
    "",
    `Peers: ${Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
    "",
    "Each implementation runs in its own child process (peak RSS is its own); implementations take turns, each turn starting once the previous child has gone quiet (no threads left spinning); " +
      `${String(r.options.warmup)} warm-up round(s) of one call are discarded (bursts are sized from the fastest); ${String(r.options.runs)} timed turns give the median, min and max — for calls under 1 s a turn is a lead call, discarded (it starts on cores that idled meanwhile), then one timed call, or for calls under 50 ms a burst filling ~50 ms (16 calls at most); longer calls are timed alone. ` +
      "`ours ×` columns: how many times faster our row is than that row (its median ÷ ours). " +
      "`check`: the first call's output against the reference row. " +
      "Rows marked `non-causal` in a causal case time the same kernel path on the non-causal problem, each turn right after its causal row's, for the causal speed-up target.",
  ];
  const load = interferenceNote(r);
  if (load) lines.push("", load);
  for (const c of r.cases) {
    const t = caseTable(c);
    lines.push("", `## ${c.id}`, "", markdownTable(t.header, t.rows, t.align));
    if (t.notes.length) lines.push("", ...t.notes.map((n) => `- ${n}`));
  }
  lines.push("", "## Targets", "", markdownTable(["status", "target", "measured"], r.targets.map((t) => [t.status, t.target, t.measured])), "");
  return lines.join("\n");
}

/** Writes `text` to `path` through a temporary file in the same directory and a rename. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
