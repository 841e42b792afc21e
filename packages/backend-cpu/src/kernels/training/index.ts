import type { Kernel } from "../../kernel.js";

/** Kernels of the loss and optimizer ops (core ops/training-ops.ts), by op name. */
export const trainingKernels: Record<string, Kernel> = {};
