// Types for make-data.mjs (the tutorial's data generator), so TypeScript tests can import it.

/** One example of the marked-step task: `x` [S][8] (S = 5…12) and `target` [1]. */
export interface TutorialExample {
  x: number[][];
  target: [number];
}

/** Features per step. */
export const FEATURES: number;
/** Shortest and longest sequence. */
export const MIN_STEPS: number;
export const MAX_STEPS: number;
/** Variance of the target (either task), x1 ± x2 with both uniform in [-1, 1]: 2/3. */
export const VARIANCE: number;
/** What the target is, from features 1 and 2 at the marked step. */
export const TASKS: Readonly<Record<"sum" | "diff", (a: number, b: number) => number>>;
/** `n` examples from `seed`; deterministic in (n, seed, task). */
export function tutorialExamples(n: number, seed?: number, task?: "sum" | "diff"): TutorialExample[];
/** The marked step of a sequence: the step whose feature 0 is 1 (-1 if none). */
export function markedStep(x: readonly (readonly number[])[]): number;
