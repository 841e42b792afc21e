import type { Attrs, ValueId } from "../ir/graph.js";
import type { GradContext } from "./grad-context.js";

/** The forward node a gradient function differentiates, with ids in the graph being built. */
export interface ForwardNode {
  readonly op: string;
  readonly inputs: readonly (ValueId | null)[];
  readonly outputs: readonly ValueId[];
  readonly attrs: Attrs;
}

/**
 * A gradient function (tfjs's `gradients/*_grad.ts` idea): given the forward node and the gradient of
 * each of its outputs (null where nothing flows back), it adds IR nodes computing the gradient of each
 * input and returns them (null for inputs that get none: int/bool inputs, non-differentiable paths).
 * Gradient functions only add nodes, so every backend that runs the ops can train.
 */
export type GradFn = (g: GradContext, node: ForwardNode, dys: readonly (ValueId | null)[]) => (ValueId | null)[];

const registry = new Map<string, GradFn>();

/** Registers the gradient of `op` (once per op). */
export function registerGrad(op: string, fn: GradFn): void {
  if (registry.has(op)) throw new Error(`gradient of ${op} is registered twice`);
  registry.set(op, fn);
}

export function getGrad(op: string): GradFn | undefined {
  return registry.get(op);
}

/** Ops with a registered gradient, sorted. */
export function differentiableOps(): string[] {
  return [...registry.keys()].sort();
}
