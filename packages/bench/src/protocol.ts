/** Messages between the harness (parent) and one measurement's child process, over Node's IPC channel. */

export type ParamValue = number | boolean | string;
export type Params = Readonly<Record<string, ParamValue>>;

/** A few output values that let the parent compare implementations without shipping whole tensors. */
export interface Sample {
  /** Total element count of the output that was sampled. */
  readonly size: number;
  /** Values at evenly spaced positions (the same positions for every implementation of a case). */
  readonly values: readonly number[];
}

export type ToChild =
  | { readonly type: "setup"; readonly workload: string; readonly impl: string; readonly params: Params }
  /** `count` calls back to back (default 1), each timed on its own. */
  | { readonly type: "run"; readonly count?: number }
  | { readonly type: "cpu" }
  | { readonly type: "finish" };

export type FromChild =
  | { readonly type: "ready"; readonly setupMs: number; readonly detail?: string }
  /** The time of each call of the request, ms. */
  | { readonly type: "done"; readonly times: readonly number[] }
  /** CPU time the child process has used so far, all its threads together (µs). */
  | { readonly type: "cpu"; readonly us: number }
  | { readonly type: "finished"; readonly maxRssKb: number; readonly sample?: Sample }
  | { readonly type: "error"; readonly phase: "setup" | "run" | "finish"; readonly message: string };

/** Up to `count` values of `data` at evenly spaced positions (first and last included). */
export function sampleOf(data: ArrayLike<number>, count = 1024): Sample {
  const n = data.length;
  const k = Math.min(n, count);
  const values: number[] = [];
  for (let i = 0; i < k; i++) values.push(data[k === 1 ? 0 : Math.round((i * (n - 1)) / (k - 1))]);
  return { size: n, values };
}

/** Tolerance for comparing samples: |got − want| ≤ abs + rel·|want|. */
export interface Tolerance {
  readonly abs: number;
  readonly rel: number;
}

/** The outcome of comparing a sample with the reference. */
export interface Check {
  readonly ok: boolean;
  readonly maxAbsDiff: number;
  readonly message: string;
}

/** Compares `got` against `want` element by element within `tol`. */
export function compareSamples(got: Sample, want: Sample, tol: Tolerance): Check {
  if (got.size !== want.size || got.values.length !== want.values.length) {
    return { ok: false, maxAbsDiff: Infinity, message: `output size ${got.size} ≠ reference ${want.size}` };
  }
  let worst = 0;
  let bad = -1;
  for (let i = 0; i < got.values.length; i++) {
    const g = got.values[i];
    const w = want.values[i];
    const d = Math.abs(g - w);
    if (!(d <= tol.abs + tol.rel * Math.abs(w))) {
      if (bad < 0) bad = i;
      worst = Math.max(worst, Number.isNaN(d) ? Infinity : d);
    } else worst = Math.max(worst, d);
  }
  if (bad >= 0) return { ok: false, maxAbsDiff: worst, message: `mismatch: value ${bad} is ${got.values[bad]}, reference ${want.values[bad]} (max |Δ| ${worst.toExponential(2)})` };
  return { ok: true, maxAbsDiff: worst, message: `max |Δ| ${worst.toExponential(2)}` };
}
