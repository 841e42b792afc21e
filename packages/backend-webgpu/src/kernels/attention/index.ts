import type { Kernel } from "../../kernel.js";
import { attentionKernel } from "./attention.js";
import { attentionGradKernel } from "./attention-grad.js";
import { attentionMaskKernel } from "./attention-mask.js";
import { hardmaxKernel, topkSoftmaxKernel } from "./select.js";

/** The attention family's WGSL kernels, by IR op name. */
export const attentionKernels: Readonly<Record<string, Kernel>> = {
  attention: attentionKernel,
  attention_grad: attentionGradKernel,
  attention_mask: attentionMaskKernel,
  hardmax: hardmaxKernel,
  topk_softmax: topkSoftmaxKernel,
};
