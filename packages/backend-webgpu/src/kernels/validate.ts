/**
 * Data checks: small dispatches that look at an input's values and, when one is bad, record it in the
 * run's status channel (see ../checks.ts), so the run throws the cpu backend's error after it completes.
 *
 * They are separate dispatches rather than extra code in the kernels they guard, for three reasons: the
 * guarded shaders stay as they are (one pipeline per shape class, their bad-value fallbacks unchanged);
 * some of them already bind WebGPU's guaranteed maximum of 8 storage buffers per stage (adam's moments
 * pass), while a check binds at most 3; and one workgroup can find the *first* offending element and
 * store it with its value without races: every thread scans a strided share of the input, a workgroup
 * atomicMin keeps the smallest offending flat index, and thread 0 alone writes the status words. A
 * race-free "first index plus value" from many workgroups would need a second pass, and the inputs
 * checked here (token ids, class targets, predicted probabilities, int32 divisors, optimizer scalars)
 * are small next to the work of the kernels that read them.
 */
import type { GpuTensor } from "../buffers.js";
import type { CheckHit } from "../checks.js";
import { dispatch, WGSL_FLOAT, WGSL_UNIFORMS, wgslType, type KernelContext } from "../kernel.js";

/** Threads of the single check workgroup. */
const CHECK_WG = 256;

/** What makes an element bad, by check kind; `v` is the element. */
const PREDICATES = {
  /** int32 indices outside [0, u(3)), except the value u(5) when u(4) is 1 (cross_entropy's ignore_index). */
  index: { type: "i32", body: "if (u(4u) == 1u && v == bitcast<i32>(u(5u))) { return false; } return v < 0 || u32(v) >= u(3u);" },
  /** float32 values that are not a probability: NaN, below 0 or above 1. */
  probability: { type: "f32", body: "return is_nan(v) || v < 0.0 || v > 1.0;" },
  /** int32 zeros (divisors). */
  nonzero: { type: "i32", body: "return v == 0;" },
} as const;

export type ElementCheck = keyof typeof PREDICATES;

/** Uniforms: n, status word, sequence, then the predicate's own (u(3) onwards). Code 1: element `index` is bad. */
function firstShader(kind: ElementCheck): string {
  const p = PREDICATES[kind];
  return `${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> X: array<${p.type}>;
@group(0) @binding(2) var<storage, read_write> S: array<u32>;
var<workgroup> first: atomic<u32>;
fn bad(v: ${p.type}) -> bool { ${p.body} }
@compute @workgroup_size(${CHECK_WG}) fn main(@builtin(local_invocation_index) lid: u32) {
  let n = u(0u);
  if (lid == 0u) { atomicStore(&first, 0xffffffffu); }
  workgroupBarrier();
  for (var i = lid; i < n; i += ${CHECK_WG}u) {
    if (bad(X[i])) { atomicMin(&first, i); break; }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let f = atomicLoad(&first);
    let w = u(1u);
    // an earlier failing dispatch of this site (an earlier scan step) keeps its report
    if (f != 0xffffffffu && S[w] == 0u) {
      S[w + 1u] = f;
      S[w + 2u] = bitcast<u32>(X[f]);
      S[w + 3u] = u(2u);
      S[w] = 1u;
    }
  }
}`;
}

/**
 * Checks every element of `x` with `kind` (extra uniforms in `params`); the first bad one fails the run
 * with `describe(hit)` (hit.index: its flat index, hit.bits: its value). `name` tells apart several
 * checks of one node. Nothing is recorded for an empty tensor or outside a run.
 */
export function checkElements(
  ctx: KernelContext, name: string, kind: ElementCheck, x: GpuTensor, params: readonly number[], describe: (hit: CheckHit) => string,
): void {
  if (!ctx.check || x.size === 0) return;
  const slot = ctx.check(name, describe);
  dispatch(ctx, `check:first:${kind}`, () => firstShader(kind), [x, slot.status], [x.size, slot.word, slot.seq, ...params], [1]);
}

/** Checks int32 `indices` against [0, limit), skipping `ignore` when given (see {@link checkElements}). */
export function checkIndices(ctx: KernelContext, name: string, indices: GpuTensor, limit: number, ignore: number | null, describe: (hit: CheckHit) => string): void {
  checkElements(ctx, name, "index", indices, [limit, ignore === null ? 0 : 1, ignore === null ? 0 : ignore >>> 0], describe);
}

/**
 * Uniforms: status word, sequence. Code 1: `step` is not an integer ≥ 0 (bits: its value); code 2: `lr` is
 * not finite (bits: its value). Step first, as the cpu backend checks it first.
 */
function scalarsShader(stepType: string, lrType: string): string {
  return `${WGSL_UNIFORMS}${WGSL_FLOAT}
@group(0) @binding(1) var<storage, read> STEP: array<${stepType}>;
@group(0) @binding(2) var<storage, read> LR: array<${lrType}>;
@group(0) @binding(3) var<storage, read_write> S: array<u32>;
fn finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
@compute @workgroup_size(1) fn main() {
  let w = u(0u);
  if (S[w] != 0u) { return; }
  let s = f32(STEP[0]);
  let l = f32(LR[0]);
  var code = 0u;
  var bits = 0u;
  if (!finite(s) || s < 0.0 || s != floor(s)) { code = 1u; bits = bitcast<u32>(STEP[0]); }
  else if (!finite(l)) { code = 2u; bits = bitcast<u32>(LR[0]); }
  if (code != 0u) {
    S[w + 1u] = 0u;
    S[w + 2u] = bits;
    S[w + 3u] = u(1u);
    S[w] = code;
  }
}`;
}

/** Checks an optimizer's `step` (an integer ≥ 0) and `lr` (finite) scalars on the device; see {@link scalarsShader} for the codes. */
export function checkOptimizerScalars(ctx: KernelContext, step: GpuTensor, lr: GpuTensor, describe: (hit: CheckHit) => string): void {
  if (!ctx.check) return;
  const slot = ctx.check("scalars", describe);
  const st = wgslType(step.dtype);
  const lt = wgslType(lr.dtype);
  dispatch(ctx, `check:optimizer:${st}:${lt}`, () => scalarsShader(st, lt), [step, lr, slot.status], [slot.word, slot.seq], [1]);
}
