import { implById } from "./catalog.js";
import { formatKb, formatMs, formatRatio } from "./format.js";
import { resultOf, type CaseResult } from "./results.js";
import { speedRatio } from "./stats.js";

/** PASS: measured and met; MISS: measured (or tried) and not met; N/A: the case was not part of this run. */
export type TargetStatus = "PASS" | "MISS" | "N/A";

export interface TargetResult {
  readonly target: string;
  readonly status: TargetStatus;
  /** The measured figure (a ratio, a memory size) or why there is none. */
  readonly measured: string;
  readonly ratio?: number;
}

/** Our backend-cpu rows (one per kernel path); the fastest of them is what a target compares. */
const OUR_CPU = ["attn-cpu-js", "attn-cpu-wasm-simd", "attn-cpu-wasm-simd-threads-2t"];
/** Our rows that use at most `t` threads (a target at t threads compares those with the peer at t). */
const ourCpuUpTo = (t: number) => OUR_CPU.filter((id) => implById(id).threads <= t);

function bestOf(c: CaseResult | undefined, ids: readonly string[]): { id: string; ms: number } | undefined {
  let best: { id: string; ms: number } | undefined;
  for (const id of ids) {
    const ms = resultOf(c, id)?.summary?.median;
    if (ms !== undefined && (!best || ms < best.ms)) best = { id, ms };
  }
  return best;
}

function why(c: CaseResult, ids: readonly string[]): string {
  const r = ids.map((id) => resultOf(c, id)).find((x) => x);
  return r ? `${implById(r.impl).label}: ${r.status}${r.reason ? ` (${r.reason})` : ""}` : "no row";
}

/** A ratio target: ours (fastest of `ours`) must be ≥ `min` × as fast as the fastest of `peers`. */
function ratioTarget(target: string, c: CaseResult | undefined, ours: readonly string[], peers: readonly string[], min: number): TargetResult {
  if (!c) return { target, status: "N/A", measured: "case not in this run" };
  const present = peers.filter((p) => resultOf(c, p));
  if (!present.length) return { target, status: "N/A", measured: "peer not in this run (--threads?)" };
  const o = bestOf(c, ours);
  const p = bestOf(c, present);
  if (!o) return { target, status: "MISS", measured: `ours not measured: ${why(c, ours)}` };
  if (!p) return { target, status: "N/A", measured: `peer not measured: ${why(c, present)}` };
  const ratio = speedRatio(o.ms, p.ms)!;
  return { target, status: ratio >= min ? "PASS" : "MISS", ratio, measured: `${formatRatio(ratio)} (${implById(o.id).label} ${formatMs(o.ms)} vs ${implById(p.id).label} ${formatMs(p.ms)})` };
}

/** Evaluates the issue's targets over a run's cases. */
export function evaluateTargets(cases: readonly CaseResult[]): TargetResult[] {
  const find = (id: string) => cases.find((c) => c.id === id);
  const out: TargetResult[] = [];
  for (const n of [256, 512, 1024, 2048]) {
    for (const causal of [false, true]) {
      for (const t of [1, 2]) {
        const id = `attention N=${n}${causal ? " causal" : ""}`;
        out.push(ratioTarget(`${id}: backend-cpu ≥ 1.0× ort-web wasm ${t}t`, find(id), ourCpuUpTo(t), [`ort-web-op17-${t}t`, `ort-web-op23-${t}t`], 1));
      }
    }
  }
  for (const n of [4096, 8192, 16384]) {
    const target = `attention N=${n}: runs on backend-cpu`;
    const cs = [find(`attention N=${n}`), find(`attention N=${n} causal`)].filter((c): c is CaseResult => !!c);
    if (!cs.length) {
      out.push({ target, status: "N/A", measured: "case not in this run" });
      continue;
    }
    const timed = cs.map((c) => bestOf(c, OUR_CPU));
    out.push(timed.every((x) => x)
      ? { target, status: "PASS", measured: timed.map((x, i) => `${cs[i].id}: ${formatMs(x!.ms)}`).join("; ") }
      : { target, status: "MISS", measured: cs.filter((_, i) => !timed[i]).map((c) => `${c.id}: ${why(c, OUR_CPU)}`).join("; ") });
  }
  {
    const target = "attention N=16384: backend-cpu peak RSS < 400 MB";
    const cs = [find("attention N=16384"), find("attention N=16384 causal")].filter((c): c is CaseResult => !!c);
    // the fastest kernel path whose row ran (OUR_CPU is ordered portable first): the portable path cannot
    // finish N = 16384 in a run's budget, and the target is about the backend's memory, not one path's
    const ran = (c: CaseResult) => [...OUR_CPU].reverse().map((id) => resultOf(c, id)).find((r) => r?.maxRssKb !== undefined && r.warmupMs.length > 0);
    const rows = cs.map(ran);
    if (!cs.length) out.push({ target, status: "N/A", measured: "case not in this run" });
    else if (rows.some((r) => r?.maxRssKb === undefined || r.warmupMs.length === 0)) out.push({ target, status: "MISS", measured: `not measured: ${cs.map((c) => why(c, OUR_CPU)).join("; ")}` });
    else {
      const peak = Math.max(...rows.map((r) => r!.maxRssKb!));
      out.push({ target, status: peak < 400 * 1024 ? "PASS" : "MISS", measured: `peak ${formatKb(peak)}` });
    }
  }
  {
    const target = "attention N=2048: causal ≥ 1.8× non-causal calls/s (backend-cpu)";
    const a = find("attention N=2048");
    const b = find("attention N=2048 causal");
    if (!a || !b) out.push({ target, status: "N/A", measured: "case not in this run" });
    else {
      const full = bestOf(a, OUR_CPU);
      const causal = bestOf(b, OUR_CPU);
      if (!full || !causal) out.push({ target, status: "MISS", measured: `not measured: ${!full ? why(a, OUR_CPU) : why(b, OUR_CPU)}` });
      else {
        // The fastest causal row against the same path's non-causal reference row of the causal case
        // (its turns right after the causal row's: same machine load); without that row, against the non-causal case's fastest.
        const across = full.ms / causal.ms;
        const paired = resultOf(b, `${causal.id}-noncausal`)?.summary?.median;
        const ratio = paired !== undefined ? paired / causal.ms : across;
        const label = implById(causal.id).label;
        const measured = paired !== undefined
          ? `${formatRatio(ratio)} (${label}: ${formatMs(causal.ms)} causal vs ${formatMs(paired)} non-causal, in one case, each non-causal turn right after a causal one; across the two cases ${formatRatio(across)}: ${formatMs(full.ms)} non-causal)`
          : `${formatRatio(ratio)} (${formatMs(causal.ms)} vs ${formatMs(full.ms)})`;
        out.push({ target, status: ratio >= 1.8 ? "PASS" : "MISS", ratio, measured });
      }
    }
  }
  // GEMM: like attention, our fastest path with at most t threads against ort-web at t threads (the
  // portable js path's figure stays in the case table).
  for (const t of [1, 2]) {
    out.push(ratioTarget(`gemm 1024³: backend-cpu ≥ 1.0× ort-web wasm ${t}t`, find("gemm 1024³"), ourCpuUpTo(t), [`ort-web-op17-${t}t`], 1));
  }
  // tfjs-backend-wasm runs single-threaded in Node: compared with our single-threaded rows.
  out.push(ratioTarget("train step: backend-cpu ≥ 5× tfjs-core wasm", cases.find((c) => c.workload === "train-step"), ourCpuUpTo(1), ["tfjs-wasm-1t"], 5));
  return out;
}
