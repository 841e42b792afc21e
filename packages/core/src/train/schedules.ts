import { AttnError } from "../errors.js";

/**
 * Learning-rate schedules (host-side): each is a multiplier of the base learning rate as a function of
 * `step`, the number of optimizer steps already taken (0 for the first update, the same count the
 * optimizer ops take as their `step` input). The learning rate of an update is `baseLr · multiplier(step)`.
 *
 * The formulas are those of Hugging Face transformers' `get_constant_schedule`,
 * `get_constant_schedule_with_warmup`, `get_linear_schedule_with_warmup` and
 * `get_cosine_schedule_with_warmup`, which are `torch.optim.lr_scheduler.LambdaLR` multipliers: PyTorch
 * applies `lambda(0)` to the first `optimizer.step()` and `lambda(k)` after `k` calls of
 * `scheduler.step()`, i.e. to update number k + 1. With W warm-up steps and T total steps:
 *
 * | kind | multiplier(step) |
 * |---|---|
 * | `constant` | 1 |
 * | `warmup` | step / max(1, W) while step < W, then 1 |
 * | `linear` | warm-up as above, then max(0, (T − step) / max(1, T − W)) |
 * | `cosine` | warm-up as above, then max(0, ½·(1 + cos(π · 2·cycles · p))) with p = (step − W) / max(1, T − W), cycles 0.5 by default |
 *
 * So with warm-up the first update runs at learning rate 0 (as in HF), `linear` reaches 0 at step T and
 * stays there, and `cosine` with the default half cycle decays from 1 to 0 over the T − W steps after
 * warm-up (past T it keeps following HF's cosine, which rises again: set T to the length of the run).
 */
export type LrSchedule =
  | { readonly kind: "constant" }
  | { readonly kind: "warmup"; readonly warmupSteps: number }
  | { readonly kind: "linear"; readonly warmupSteps?: number; readonly totalSteps: number }
  | { readonly kind: "cosine"; readonly warmupSteps?: number; readonly totalSteps: number; readonly cycles?: number };

function checkCount(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new AttnError(`learning-rate schedule: ${what} must be an integer ≥ 0, got ${v}`);
}

/** Throws an AttnError naming the field when a schedule's numbers are not valid. */
export function validateSchedule(s: LrSchedule): void {
  switch (s.kind) {
    case "constant":
      return;
    case "warmup":
      checkCount("warmupSteps", s.warmupSteps);
      return;
    case "linear":
    case "cosine":
      checkCount("warmupSteps", s.warmupSteps ?? 0);
      checkCount("totalSteps", s.totalSteps);
      if (s.kind === "cosine" && s.cycles !== undefined && !(Number.isFinite(s.cycles) && s.cycles >= 0)) {
        throw new AttnError(`learning-rate schedule: cycles must be a finite number ≥ 0, got ${s.cycles}`);
      }
      return;
    default:
      throw new AttnError(`unknown learning-rate schedule ${JSON.stringify((s as { kind: unknown }).kind)} (expected constant, warmup, linear or cosine)`);
  }
}

/** The multiplier of the base learning rate for the update after `step` steps (see {@link LrSchedule}). */
export function lrMultiplier(s: LrSchedule, step: number): number {
  checkCount("step", step);
  if (s.kind === "constant") return 1;
  const warmup = s.warmupSteps ?? 0;
  if (step < warmup) return step / Math.max(1, warmup);
  if (s.kind === "warmup") return 1;
  const span = Math.max(1, s.totalSteps - warmup);
  if (s.kind === "linear") return Math.max(0, (s.totalSteps - step) / span);
  const progress = (step - warmup) / span;
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * (s.cycles ?? 0.5) * 2 * progress)));
}

/** `baseLr · lrMultiplier(s, step)`. */
export function learningRate(baseLr: number, s: LrSchedule, step: number): number {
  return baseLr * lrMultiplier(s, step);
}

/** The schedule as a function of the step (validated once), e.g. for the Trainer's `schedule` option. */
export function makeSchedule(s: LrSchedule): (step: number) => number {
  validateSchedule(s);
  return (step) => lrMultiplier(s, step);
}
