import type { Kernel } from "../../kernel.js";

/** The tensor family's WGSL kernels, by IR op name. */
export const tensorKernels: Readonly<Record<string, Kernel>> = {};
