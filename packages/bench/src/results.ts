import type { CaseDef } from "./workloads.js";
import type { Check } from "./protocol.js";
import type { ImplResult } from "./runner.js";

/** One case's measurements, with each implementation's output check against the reference. */
export interface CaseResult {
  readonly id: string;
  readonly workload: string;
  readonly params: CaseDef["params"];
  readonly flops?: number;
  readonly unit: string;
  /** Timed turns, where the case asked for more than the run's `--runs` (`CaseDef.minRuns`). */
  readonly runs?: number;
  readonly reference?: string;
  readonly results: readonly ImplResult[];
  /** By implementation id: the comparison with the reference (absent for the reference and for rows without a sample). */
  readonly checks: Readonly<Record<string, Check>>;
}

/** Median ms of an implementation's timed runs in a case, if it has any. */
export function medianOf(c: CaseResult | undefined, impl: string): number | undefined {
  const r = c?.results.find((x) => x.impl === impl);
  return r?.summary?.median;
}

export function resultOf(c: CaseResult | undefined, impl: string): ImplResult | undefined {
  return c?.results.find((x) => x.impl === impl);
}
