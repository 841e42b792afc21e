import type { Kernel } from "../../kernel.js";
import { argmaxKernel } from "./argmax.js";
import { castKernel } from "./cast.js";
import { concatKernel, splitKernel } from "./concat.js";
import { embeddingGradKernel, embeddingKernel } from "./embedding.js";
import { padKernel } from "./pad.js";
import { positionalEncodingKernel } from "./positional-encoding.js";
import { reduceKernels } from "./reduce.js";
import { selectKernel, sliceKernel } from "./slice.js";
import { zerosLikeKernel } from "./zeros-like.js";

/**
 * The tensor family's WGSL kernels, by IR op name. erf and sign are elementwise float ops and live with
 * the other unary bodies in kernels/unary.ts.
 */
export const tensorKernels: Readonly<Record<string, Kernel>> = {
  cast: castKernel,
  concat: concatKernel,
  split: splitKernel,
  slice: sliceKernel,
  select: selectKernel,
  pad: padKernel,
  ...reduceKernels,
  argmax: argmaxKernel,
  zeros_like: zerosLikeKernel,
  embedding: embeddingKernel,
  embedding_grad: embeddingGradKernel,
  positional_encoding: positionalEncodingKernel,
};
