import type { Kernel } from "../../kernel.js";

/** The training family's WGSL kernels, by IR op name. */
export const trainingKernels: Readonly<Record<string, Kernel>> = {};
