import type { Kernel } from "../../kernel.js";
import { layerNormKernel } from "./layer-norm.js";
import { layerNormGradKernel } from "./layer-norm-grad.js";

/** The normalisation family's WGSL kernels (layer_norm and its gradient), by IR op name. */
export const normKernels: Readonly<Record<string, Kernel>> = {
  layer_norm: layerNormKernel,
  layer_norm_grad: layerNormGradKernel,
};
