import type { Kernel } from "../../kernel.js";
import { dropoutMaskKernel } from "./dropout-mask.js";
import { crossEntropyGradKernel, crossEntropyKernel } from "./cross-entropy.js";
import { elementwiseLossKernels } from "./elementwise-losses.js";
import { adamUpdateKernel, sgdUpdateKernel } from "./optimizers.js";

/** Kernels of the loss and optimizer ops (core ops/training-ops.ts), by op name. */
export const trainingKernels: Record<string, Kernel> = {
  dropout_mask: dropoutMaskKernel,
  cross_entropy: crossEntropyKernel,
  cross_entropy_grad: crossEntropyGradKernel,
  ...elementwiseLossKernels,
  sgd_update: sgdUpdateKernel,
  adam_update: adamUpdateKernel,
};
