import type { Kernel } from "../../kernel.js";
import { adamUpdateKernel } from "./adam-update.js";
import { crossEntropyGradKernel, crossEntropyKernel } from "./cross-entropy.js";
import { dropoutMaskKernel } from "./dropout-mask.js";
import { elementwiseLossKernels } from "./elementwise-losses.js";
import { sgdUpdateKernel } from "./sgd-update.js";

/** The training family's WGSL kernels (losses, their fused gradients, dropout masks, optimizer updates), by IR op name. */
export const trainingKernels: Readonly<Record<string, Kernel>> = {
  dropout_mask: dropoutMaskKernel,
  cross_entropy: crossEntropyKernel,
  cross_entropy_grad: crossEntropyGradKernel,
  ...elementwiseLossKernels,
  sgd_update: sgdUpdateKernel,
  adam_update: adamUpdateKernel,
};
