import type { Kernel } from "./kernel.js";
import { binaryKernels } from "./kernels/binary.js";
import { constantKernel, transposeKernel, viewKernel } from "./kernels/layout.js";
import { linearKernel, matmulKernel } from "./kernels/matmul.js";
import { softmaxKernels } from "./kernels/softmax.js";
import { unaryKernels } from "./kernels/unary.js";
import { attentionKernels } from "./kernels/attention/index.js";
import { imageKernels } from "./kernels/image/index.js";
import { normKernels } from "./kernels/norm/index.js";
import { recurrentKernels } from "./kernels/recurrent/index.js";
import { tensorKernels } from "./kernels/tensor/index.js";
import { trainingKernels } from "./kernels/training/index.js";

/** Every WGSL kernel, keyed by IR op name (docs/ir.md). */
const KERNELS: ReadonlyMap<string, Kernel> = new Map<string, Kernel>(
  Object.entries({
    ...unaryKernels,
    ...binaryKernels,
    matmul: matmulKernel,
    linear: linearKernel,
    ...softmaxKernels,
    transpose: transposeKernel,
    reshape: viewKernel,
    squeeze: viewKernel,
    unsqueeze: viewKernel,
    identity: viewKernel,
    dropout: viewKernel,
    constant: constantKernel,
    ...tensorKernels,
    ...attentionKernels,
    ...recurrentKernels,
    ...imageKernels,
    ...normKernels,
    ...trainingKernels,
  }),
);

/** The kernel for `op`, or undefined when the webgpu backend has none yet. */
export function getKernel(op: string): Kernel | undefined {
  return KERNELS.get(op);
}

/** The ops with a WGSL kernel, sorted. */
export function supportedOps(): string[] {
  return [...KERNELS.keys()].sort();
}
