import { ATTN_DIM, ATTN_HEADS } from "./graphs.js";
import type { Params, Tolerance } from "./protocol.js";
import type { CaseImpl } from "./runner.js";

/** One benchmark case: a workload at one size, and the implementations that run it. */
export interface CaseDef {
  /** e.g. `attention N=2048 causal`. */
  readonly id: string;
  /** The `--filter` name: attention, gemm, train-step, translation-infer, translation-epoch. */
  readonly workload: string;
  readonly params: Params;
  /** Floating-point operations per call, when GFLOP/s is meaningful. */
  readonly flops?: number;
  /** What one call is (`call`, `step`, `epoch`), for the rate column. */
  readonly unit: string;
  readonly impls: readonly CaseImpl[];
  /** Implementations whose first-run output is the reference, in order of preference. */
  readonly reference: readonly string[];
  readonly tolerance: Tolerance;
  /** At least this many timed turns, whatever the run's `--runs` (see `PAIR_RUNS`). */
  readonly minRuns?: number;
}

export const WORKLOADS = ["attention", "gemm", "train-step", "translation-infer", "translation-epoch"] as const;

export interface PlanOptions {
  readonly quick: boolean;
  /** Only peers at this thread count (our rows always run). */
  readonly threads?: 1 | 2;
  readonly filter?: readonly string[];
  /** The attention sequence lengths to run (default: the full or quick set). */
  readonly sizes?: readonly number[];
}

export const FULL_N = [128, 256, 512, 1024, 2048, 4096, 8192, 16384];
export const QUICK_N = [256];
/** The N of the causal speed-up target: its causal case also times the non-causal problem (reference rows). */
export const CAUSAL_PAIR_N = 2048;
/**
 * Timed turns of the causal pair case at least. Its target divides two medians of one case, and on the
 * 2-core VM a burst of host noise slows a call by ~10 % for a second or so: with 5 turns, two slowed
 * turns of one row move the ratio by as much (observed per-round ratios 1.56–2.00 around 1.85).
 */
export const PAIR_RUNS = 9;

/** Configurations that would materialise the [heads, N, N] scores beyond this are not started. */
export const SCORES_MEMORY_LIMIT = 4 * 1024 ** 3;

/** Bytes a decomposed attention holds for scores, their exponentials and the weights (3 × heads × N² floats). */
export function decomposedScoresBytes(n: number): number {
  return 3 * ATTN_HEADS * n * n * 4;
}

/** FLOPs of one attention call as the issue counts them: 4 · heads · N² · d (causal counted the same). */
export function attentionFlops(n: number): number {
  return 4 * ATTN_HEADS * n * n * ATTN_DIM;
}

const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;

/** The cases a run measures, in order. */
export function planCases(opts: PlanOptions): CaseDef[] {
  const t = opts.threads;
  const peerThreads = t ? [t] : [1, 2];
  const nodeThreads = t ?? 2; // onnxruntime-node runs with 2 intra-op threads unless --threads 1
  // --quick leaves out tfjs-cpu (plain JS, the slowest peer and part of no target) to stay under 2 minutes.
  const tfjsBackends = opts.quick ? ["wasm"] : ["wasm", "cpu"];
  const want = (w: string) => !opts.filter?.length || opts.filter.includes(w);
  const cases: CaseDef[] = [];

  if (want("attention")) {
    for (const n of opts.sizes ?? (opts.quick ? QUICK_N : FULL_N)) {
      for (const causal of [false, true]) {
        const scores = decomposedScoresBytes(n);
        const tooBig = scores > SCORES_MEMORY_LIMIT ? `would hold the ${ATTN_HEADS}×${n}×${n} scores (~${gib(scores)}) > ${gib(SCORES_MEMORY_LIMIT)}` : undefined;
        // The causal speed-up target compares each wasm path with itself on the non-causal problem in the
        // same case, rather than across two cases measured minutes apart (a 2-core VM's speed drifts by
        // 10–20 % over minutes; see targets.ts): each non-causal row takes its turn right after its causal row.
        const pair = causal && n === CAUSAL_PAIR_N;
        const impls: CaseImpl[] = [{ impl: "attn-cpu-js" }];
        for (const path of ["attn-cpu-wasm-simd", "attn-cpu-wasm-simd-threads-2t"]) impls.push({ impl: path }, ...(pair ? [{ impl: `${path}-noncausal` }] : []));
        for (const opset of [17, 23]) impls.push({ impl: `ort-node-op${opset}-${nodeThreads}t`, ...(tooBig ? { skip: tooBig } : {}) });
        for (const opset of [17, 23]) for (const th of peerThreads) impls.push({ impl: `ort-web-op${opset}-${th}t`, ...(tooBig ? { skip: tooBig } : {}) });
        if (!t || t === 1) for (const b of tfjsBackends) impls.push({ impl: `tfjs-${b}-1t`, ...(tooBig ? { skip: tooBig } : {}) });
        cases.push({
          id: `attention N=${n}${causal ? " causal" : ""}`,
          workload: "attention",
          params: { n, causal },
          flops: attentionFlops(n),
          unit: "call",
          impls,
          reference: [`ort-node-op17-${nodeThreads}t`, "attn-cpu-js"],
          tolerance: { abs: 1e-4, rel: 1e-3 },
          ...(pair ? { minRuns: PAIR_RUNS } : {}),
        });
      }
    }
  }
  if (want("gemm")) {
    // --quick times 512³ (backend-cpu's scalar 1024³ alone would eat the quick budget); the target is at 1024³.
    const size = opts.quick ? 512 : 1024;
    const impls: CaseImpl[] = [{ impl: "attn-cpu-js" }, { impl: "attn-cpu-wasm-simd" }, { impl: "attn-cpu-wasm-simd-threads-2t" }, { impl: `ort-node-op17-${nodeThreads}t` }];
    for (const th of peerThreads) impls.push({ impl: `ort-web-op17-${th}t` });
    if (!t || t === 1) for (const b of tfjsBackends) impls.push({ impl: `tfjs-${b}-1t` });
    cases.push({ id: `gemm ${size}³`, workload: "gemm", params: { size }, flops: 2 * size ** 3, unit: "call", impls, reference: [`ort-node-op17-${nodeThreads}t`, "attn-cpu-js"], tolerance: { abs: 2e-3, rel: 1e-3 } });
  }
  if (want("train-step")) {
    const impls: CaseImpl[] = [{ impl: "attn-cpu-js" }, { impl: "attn-cpu-wasm-simd" }, { impl: "attn-cpu-wasm-simd-threads-2t" }, { impl: `attn-onnx-node-${nodeThreads}t` }];
    if (!t || t === 1) for (const b of tfjsBackends) impls.push({ impl: `tfjs-${b}-1t` });
    cases.push({ id: "train-step MHA d128 h4 S64 B16 Adam", workload: "train-step", params: {}, unit: "step", impls, reference: ["attn-cpu-js", `attn-onnx-node-${nodeThreads}t`], tolerance: { abs: 1e-5, rel: 1e-3 } });
  }
  const translationImpls = (): CaseImpl[] => [{ impl: "attn-cpu-js" }, { impl: "attn-cpu-wasm-simd" }, { impl: `attn-onnx-node-${nodeThreads}t` }, ...peerThreads.map((th) => ({ impl: `attn-onnx-web-${th}t` }))];
  if (want("translation-infer")) {
    cases.push({ id: "translation inference (batch 64)", workload: "translation-infer", params: { batch: 64 }, unit: "batch", impls: translationImpls(), reference: ["attn-cpu-js"], tolerance: { abs: 1e-4, rel: 1e-3 } });
  }
  if (want("translation-epoch")) {
    const examples = opts.quick ? 64 : 2048;
    cases.push({ id: `translation epoch (${examples} examples, batch 64)`, workload: "translation-epoch", params: { examples, batch: 64 }, unit: "epoch", impls: translationImpls(), reference: ["attn-cpu-js"], tolerance: { abs: 1e-4, rel: 1e-3 } });
  }
  return cases;
}
