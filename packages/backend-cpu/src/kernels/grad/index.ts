import type { Kernel } from "../../kernel.js";

/** Kernels of the gradient ops (core ops/grad-ops.ts), by op name. */
export const gradKernels: Record<string, Kernel> = {};
