import type { Kernel } from "./kernel.js";
import { argmaxKernel } from "./kernels/argmax.js";
import { attentionMaskKernel } from "./kernels/attention-mask.js";
import { attentionKernel } from "./kernels/attention.js";
import { binaryKernels } from "./kernels/binary.js";
import { castKernel } from "./kernels/cast.js";
import { concatKernel } from "./kernels/concat.js";
import { constantKernel } from "./kernels/constant.js";
import { conv2dKernel } from "./kernels/conv2d.js";
import { embeddingKernel } from "./kernels/embedding.js";
import { gruCellKernel, gruKernel } from "./kernels/gru.js";
import { identityKernel } from "./kernels/identity.js";
import { layerNormKernel } from "./kernels/layer-norm.js";
import { linearKernel } from "./kernels/linear.js";
import { matmulKernel } from "./kernels/matmul.js";
import { patchesKernel } from "./kernels/patches.js";
import { poolKernels } from "./kernels/pool.js";
import { positionalEncodingKernel } from "./kernels/positional-encoding.js";
import { reduceKernels } from "./kernels/reduce.js";
import { viewKernel } from "./kernels/reshape.js";
import { scanKernel } from "./kernels/scan.js";
import { selectKernel, sliceKernel } from "./kernels/slice.js";
import { softmaxKernels } from "./kernels/softmax.js";
import { splitKernel } from "./kernels/split.js";
import { transposeKernel } from "./kernels/transpose.js";
import { unaryKernels } from "./kernels/unary.js";
import { gradKernels } from "./kernels/grad/index.js";
import { trainingKernels } from "./kernels/training/index.js";

/** Every kernel of the cpu backend, keyed by IR op name (docs/ir.md). */
const KERNELS: ReadonlyMap<string, Kernel> = new Map<string, Kernel>(
  Object.entries({
    ...unaryKernels,
    ...binaryKernels,
    cast: castKernel,
    constant: constantKernel,
    identity: identityKernel,
    dropout: identityKernel,
    matmul: matmulKernel,
    linear: linearKernel,
    transpose: transposeKernel,
    reshape: viewKernel,
    squeeze: viewKernel,
    unsqueeze: viewKernel,
    concat: concatKernel,
    split: splitKernel,
    slice: sliceKernel,
    select: selectKernel,
    ...reduceKernels,
    argmax: argmaxKernel,
    ...softmaxKernels,
    layer_norm: layerNormKernel,
    attention_mask: attentionMaskKernel,
    attention: attentionKernel,
    gru: gruKernel,
    gru_cell: gruCellKernel,
    scan: scanKernel,
    conv2d: conv2dKernel,
    ...poolKernels,
    patches: patchesKernel,
    positional_encoding: positionalEncodingKernel,
    embedding: embeddingKernel,
    ...gradKernels,
    ...trainingKernels,
  }),
);

/** The kernel for `op`, or undefined when the cpu backend has none. */
export function getKernel(op: string): Kernel | undefined {
  return KERNELS.get(op);
}

/** Whether the cpu backend has a kernel for `op`. */
export function supports(op: string): boolean {
  return KERNELS.has(op);
}

/** The ops the cpu backend implements, sorted. */
export function supportedOps(): string[] {
  return [...KERNELS.keys()].sort();
}
