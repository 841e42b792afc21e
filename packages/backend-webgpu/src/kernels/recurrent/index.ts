import type { Kernel } from "../../kernel.js";

/** The recurrent family's WGSL kernels, by IR op name. */
export const recurrentKernels: Readonly<Record<string, Kernel>> = {};
