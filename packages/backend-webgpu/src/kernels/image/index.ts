import type { Kernel } from "../../kernel.js";

/** The image family's WGSL kernels, by IR op name. */
export const imageKernels: Readonly<Record<string, Kernel>> = {};
