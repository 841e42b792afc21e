#!/usr/bin/env node
/**
 * `pnpm bench [--quick] [--filter W[,W]] [--sizes N[,N]] [--threads 1|2] [--out DIR] [--runs N] [--warmup N] [--budget S] [--docs FILE]`
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { implById } from "./catalog.js";
import { compareSamples, type Check } from "./protocol.js";
import { consoleReport, machineInfo, markdownReport, writeFileAtomic, type RunReport } from "./report.js";
import type { CaseResult } from "./results.js";
import { measureCase } from "./runner.js";
import { evaluateTargets } from "./targets.js";
import { planCases, WORKLOADS, type CaseDef } from "./workloads.js";

export interface CliOptions {
  quick: boolean;
  filter: string[];
  threads?: 1 | 2;
  out?: string;
  docs?: string;
  runs?: number;
  warmup?: number;
  budgetS?: number;
  sizes?: number[];
  help: boolean;
}

export const USAGE = `usage: pnpm bench [options]
  --quick            small sizes and 3 timed runs (under 2 minutes)
  --filter W[,W]     only these workloads: ${WORKLOADS.join(", ")}
  --threads 1|2      only peers at this thread count (our rows always run)
  --out DIR          where the JSON goes (default: <repo>/bench-results)
  --docs FILE        the Markdown table (default: <repo>/docs/bench.md)
  --runs N           timed runs per implementation (default 5, --quick 3; the causal
                     case at N=2048 runs at least 9: its target divides two medians)
  --warmup N         discarded warm-up rounds of one call (default 2)
  --sizes N[,N]      attention sequence lengths (default 128…16384, --quick 256)
  --budget S         per-measurement time budget in seconds (default 120, --quick 15)`;

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = { quick: false, filter: [], help: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
    return v;
  };
  const int = (s: string, flag: string, min: number): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} expects an integer ≥ ${min}, got "${s}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--quick":
        o.quick = true;
        break;
      case "--help":
      case "-h":
        o.help = true;
        break;
      case "--filter":
        for (const w of value(i++, a).split(",").map((s) => s.trim()).filter(Boolean)) {
          if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--filter: unknown workload "${w}" (workloads: ${WORKLOADS.join(", ")})`);
          o.filter.push(w);
        }
        break;
      case "--threads": {
        const t = value(i++, a);
        if (t !== "1" && t !== "2") throw new Error(`--threads expects 1 or 2, got "${t}"`);
        o.threads = t === "1" ? 1 : 2;
        break;
      }
      case "--out":
        o.out = value(i++, a);
        break;
      case "--docs":
        o.docs = value(i++, a);
        break;
      case "--sizes":
        o.sizes = value(i++, a).split(",").map((x) => int(x.trim(), a, 1));
        break;
      case "--runs":
        o.runs = int(value(i++, a), a, 1);
        break;
      case "--warmup":
        o.warmup = int(value(i++, a), a, 1);
        break;
      case "--budget":
        o.budgetS = int(value(i++, a), a, 1);
        break;
      default:
        throw new Error(`unknown option "${a}"\n${USAGE}`);
    }
  }
  return o;
}

/** The workspace root (the directory with pnpm-workspace.yaml) above `from`, else `from`. */
export function repoRoot(from: string): string {
  for (let d = resolve(from); ; d = dirname(d)) {
    if (existsSync(join(d, "pnpm-workspace.yaml"))) return d;
    if (dirname(d) === d) return resolve(from);
  }
}

/** Compares every row's sample with the reference row's (the first reference implementation that has one). */
export function checkCase(def: CaseDef, results: CaseResult["results"]): { reference?: string; checks: Record<string, Check> } {
  const ref = def.reference.map((id) => results.find((r) => r.impl === id && r.sample)).find((r) => r);
  const checks: Record<string, Check> = {};
  if (!ref) return { checks };
  for (const r of results) {
    if (r.impl !== ref.impl && r.sample && !implById(r.impl).params) checks[r.impl] = compareSamples(r.sample, ref.sample!, def.tolerance);
  }
  return { reference: ref.impl, checks };
}

export async function main(argv: readonly string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = new Date();
  const t0 = performance.now();
  const root = repoRoot(process.env.INIT_CWD ?? process.cwd());
  const runs = o.runs ?? (o.quick ? 3 : 5);
  // Two rounds: the first call pays one-time costs (compiling, starting threads), and bursts are sized
  // from the fastest warm-up call, so one cold call alone would make short cases' bursts 2–3 calls long.
  const warmup = o.warmup ?? 2;
  const budgetMs = (o.budgetS ?? (o.quick ? 15 : 120)) * 1000;
  const cases = planCases({ quick: o.quick, filter: o.filter, ...(o.threads ? { threads: o.threads } : {}), ...(o.sizes ? { sizes: o.sizes } : {}) });
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`pnpm bench${o.quick ? " --quick" : ""}: ${cases.length} case(s), ${warmup} warm-up + ${runs} timed runs each, budget ${budgetMs / 1000} s per measurement`);

  const results: CaseResult[] = [];
  for (const [i, def] of cases.entries()) {
    log(`[${i + 1}/${cases.length}] ${def.id}: ${def.impls.map((x) => implById(x.impl).label).join(", ")}`);
    const caseRuns = Math.max(runs, def.minRuns ?? 0);
    const rows = await measureCase(def.workload, def.params, def.impls, { runs: caseRuns, warmup, budgetMs, log });
    const { reference, checks } = checkCase(def, rows);
    results.push({ id: def.id, workload: def.workload, params: def.params, ...(def.flops ? { flops: def.flops } : {}), unit: def.unit, ...(caseRuns !== runs ? { runs: caseRuns } : {}), ...(reference ? { reference } : {}), results: rows, checks });
  }

  const report: RunReport = {
    version: 1,
    startedAt: started.toISOString(),
    wallSeconds: (performance.now() - t0) / 1000,
    mode: o.quick ? "quick" : "full",
    options: { runs, warmup, budgetSeconds: budgetMs / 1000, threads: o.threads ?? "1 and 2", filter: o.filter, ...(o.sizes ? { sizes: o.sizes } : {}) },
    machine: machineInfo(),
    cases: results,
    targets: evaluateTargets(results),
  };
  process.stdout.write(`${consoleReport(report)}\n`);
  const outDir = resolve(o.out ?? join(root, "bench-results"));
  const jsonPath = join(outDir, `${started.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileAtomic(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  const docsPath = resolve(o.docs ?? join(root, "docs", "bench.md"));
  writeFileAtomic(docsPath, markdownReport(report));
  process.stdout.write(`\nwrote ${jsonPath}\nwrote ${docsPath}\ntotal wall time ${report.wallSeconds.toFixed(1)} s\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`pnpm bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
