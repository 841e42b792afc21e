import type { Kernel } from "../../kernel.js";
import { attentionGradKernel } from "./attention-grad.js";
import { conv2dGradKernel } from "./conv2d-grad.js";
import { erfKernel, signKernel, zerosLikeKernel } from "./elementwise.js";
import { embeddingGradKernel } from "./embedding-grad.js";
import { gruCellGradKernel, gruGradKernel } from "./gru-grad.js";
import { layerNormGradKernel } from "./layer-norm-grad.js";
import { padKernel } from "./pad.js";
import { patchesGradKernel } from "./patches-grad.js";
import { poolGradKernels } from "./pool-grad.js";

/** Kernels of the gradient ops (core ops/grad-ops.ts), by op name. */
export const gradKernels: Record<string, Kernel> = {
  zeros_like: zerosLikeKernel,
  erf: erfKernel,
  sign: signKernel,
  pad: padKernel,
  layer_norm_grad: layerNormGradKernel,
  embedding_grad: embeddingGradKernel,
  conv2d_grad: conv2dGradKernel,
  ...poolGradKernels,
  patches_grad: patchesGradKernel,
  attention_grad: attentionGradKernel,
  gru_grad: gruGradKernel,
  gru_cell_grad: gruCellGradKernel,
};
