import type { Kernel } from "../../kernel.js";

/** The attention family's WGSL kernels, by IR op name. */
export const attentionKernels: Readonly<Record<string, Kernel>> = {};
