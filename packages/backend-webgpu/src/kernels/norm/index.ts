import type { Kernel } from "../../kernel.js";

/** The normalisation family's WGSL kernels (layer_norm and its gradient), by IR op name. */
export const normKernels: Readonly<Record<string, Kernel>> = {};
