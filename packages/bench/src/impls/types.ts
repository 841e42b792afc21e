import { sampleOf, type Params, type Sample } from "../protocol.js";

/** One implementation of one workload case, set up inside a child process. */
export interface Instance {
  /** One timed call (a forward pass, a training step, an epoch). */
  run(): Promise<void>;
  /** Output values of the first run (compared against the reference implementation). */
  sample(): Sample | undefined;
  /** What actually ran, for the report (e.g. the ORT execution provider, the tfjs backend's SIMD state). */
  readonly detail?: string;
  dispose?(): void | Promise<void>;
}

export type Factory = (workload: string, params: Params) => Promise<Instance>;

export class UnsupportedWorkload extends Error {
  constructor(impl: string, workload: string) {
    super(`${impl} has no implementation of workload "${workload}"`);
  }
}

export function num(params: Params, key: string): number {
  const v = params[key];
  if (typeof v !== "number") throw new Error(`parameter "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function bool(params: Params, key: string): boolean {
  return params[key] === true;
}

export function str(params: Params, key: string): string {
  const v = params[key];
  if (typeof v !== "string") throw new Error(`parameter "${key}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * The loss curve a training workload is checked by: the losses of the first steps (at least two, so the
 * first update is checked too; a whole first epoch when a run is an epoch).
 */
export class LossLog {
  private readonly losses: number[] = [];
  constructor(private readonly keep: number) {}
  add(loss: number): void {
    if (this.losses.length < Math.max(2, this.keep)) this.losses.push(loss);
  }
  sample(): Sample | undefined {
    return this.losses.length ? sampleOf(this.losses) : undefined;
  }
}
