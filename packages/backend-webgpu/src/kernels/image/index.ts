import type { Kernel } from "../../kernel.js";
import { conv2dKernel } from "./conv2d.js";
import { conv2dGradKernel } from "./conv2d-grad.js";
import { patchesGradKernel, patchesKernel } from "./patches.js";
import { poolKernels } from "./pool.js";
import { poolGradKernels } from "./pool-grad.js";

/** The image family's WGSL kernels, by IR op name. */
export const imageKernels: Readonly<Record<string, Kernel>> = {
  conv2d: conv2dKernel,
  conv2d_grad: conv2dGradKernel,
  ...poolKernels,
  ...poolGradKernels,
  patches: patchesKernel,
  patches_grad: patchesGradKernel,
};
