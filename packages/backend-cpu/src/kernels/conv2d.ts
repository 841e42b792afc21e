import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../kernel.js";

type Shaped = { readonly shape: readonly number[] };

export interface ConvAttrs {
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
}

/**
 * Bytes of im2col buffer a conv2d kernel fills before it calls the GEMM: a batch is cut into chunks of
 * whole images whose columns fit under it (a single image whose columns alone exceed it is a chunk of one).
 */
export const CONV_COL_BYTES = 16 * 2 ** 20;

/** The sizes of one conv2d node (x [N, C, H, W], weight [O, Cg, KH, KW], y [N, O, Ho, Wo]) and its attributes. */
export interface ConvGeometry {
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly O: number;
  readonly KH: number;
  readonly KW: number;
  readonly Ho: number;
  readonly Wo: number;
  readonly sh: number;
  readonly sw: number;
  readonly ph: number;
  readonly pw: number;
  readonly dh: number;
  readonly dw: number;
  readonly groups: number;
  /** Output channels per group. */
  readonly Og: number;
  /** Rows of one group's columns (and the reduction length of the forward GEMM): Cg·KH·KW. */
  readonly rowsG: number;
  /** Output positions per image: Ho·Wo. */
  readonly HoWo: number;
}

/** Shapes of x, weight and y (or dy) and the normalised attributes. */
export function convGeometry(x: Shaped, w: Shaped, y: Shaped, a: ConvAttrs): ConvGeometry {
  const [N, C, H, W] = x.shape;
  const [O, Cg, KH, KW] = w.shape;
  const [, , Ho, Wo] = y.shape;
  return {
    N, C, H, W, O, KH, KW, Ho, Wo,
    sh: a.stride[0], sw: a.stride[1], ph: a.padding[0], pw: a.padding[1], dh: a.dilation[0], dw: a.dilation[1],
    groups: a.groups, Og: O / a.groups, rowsG: Cg * KH * KW, HoWo: Ho * Wo,
  };
}

/** Images per chunk: as many as keep the chunk's columns ([C·KH·KW, images·Ho·Wo] float32) within `colBytes`, at least 1. */
export function imagesPerChunk(g: ConvGeometry, colBytes: number): number {
  const perImage = 4 * g.C * g.KH * g.KW * g.HoWo;
  return Math.max(1, Math.min(g.N, Math.floor(colBytes / Math.max(1, perImage))));
}

/** Element offsets `t·step` for t < count (the per-group operand offsets of a batched GEMM); undefined for one group. */
export function groupOffsets(count: number, step: number): number[] | undefined {
  return count === 1 ? undefined : Array.from({ length: count }, (_, t) => t * step);
}

/**
 * The output columns of tap (kj) along a row: ow in [lo, hi) read x inside the image (iw = ow·sw − pw + kj·dw
 * in [0, W)); the others read padding.
 */
function colRange(g: ConvGeometry, kj: number): [number, number] {
  const off = kj * g.dw - g.pw;
  const lo = Math.min(g.Wo, Math.max(0, Math.ceil(-off / g.sw)));
  const hi = Math.max(lo, Math.min(g.Wo, Math.floor((g.W - 1 - off) / g.sw) + 1));
  return [lo, hi];
}

/**
 * im2col of images n0 … n0 + nc − 1 of x into `col` [C·KH·KW, nc·Ho·Wo] (row (c, ki, kj), column
 * (image, oh, ow)): col[(c, ki, kj), (i, oh, ow)] = x[n0 + i, c, oh·sh − ph + ki·dh, ow·sw − pw + kj·dw], 0
 * for a tap in the padding. The rows of group g are the block [g·Cg·KH·KW, (g + 1)·Cg·KH·KW). Every
 * element of `col` is written.
 */
export function im2col(g: ConvGeometry, x: Float32Array, n0: number, nc: number, col: Float32Array): void {
  const { C, H, W, KH, KW, Ho, Wo, sh, sw, ph, dh, HoWo } = g;
  const span = nc * HoWo;
  const HW = H * W;
  for (let c = 0; c < C; c++) {
    for (let ki = 0; ki < KH; ki++) {
      const ihOff = ki * dh - ph;
      for (let kj = 0; kj < KW; kj++) {
        const [lo, hi] = colRange(g, kj);
        const iwOff = kj * g.dw - g.pw;
        let d = ((c * KH + ki) * KW + kj) * span;
        for (let i = 0; i < nc; i++) {
          const xc = ((n0 + i) * C + c) * HW;
          for (let oh = 0; oh < Ho; oh++, d += Wo) {
            const ih = oh * sh + ihOff;
            if (ih < 0 || ih >= H) {
              for (let ow = 0; ow < Wo; ow++) col[d + ow] = 0;
              continue;
            }
            for (let ow = 0; ow < lo; ow++) col[d + ow] = 0;
            const src = xc + ih * W + iwOff;
            if (sw === 1) for (let ow = lo; ow < hi; ow++) col[d + ow] = x[src + ow];
            else for (let ow = lo; ow < hi; ow++) col[d + ow] = x[src + ow * sw];
            for (let ow = hi; ow < Wo; ow++) col[d + ow] = 0;
          }
        }
      }
    }
  }
}

/** col2im, the adjoint of `im2col`: scatter-adds `dcol` [C·KH·KW, nc·Ho·Wo] into images n0 … n0 + nc − 1 of dx (taps in the padding are dropped). */
export function col2im(g: ConvGeometry, dcol: Float32Array, n0: number, nc: number, dx: Float32Array): void {
  const { C, H, W, KH, KW, Ho, Wo, sh, sw, ph, dh, HoWo } = g;
  const span = nc * HoWo;
  const HW = H * W;
  for (let c = 0; c < C; c++) {
    for (let ki = 0; ki < KH; ki++) {
      const ihOff = ki * dh - ph;
      for (let kj = 0; kj < KW; kj++) {
        const [lo, hi] = colRange(g, kj);
        if (lo === hi) continue;
        const iwOff = kj * g.dw - g.pw;
        let d = ((c * KH + ki) * KW + kj) * span;
        for (let i = 0; i < nc; i++) {
          const xc = ((n0 + i) * C + c) * HW;
          for (let oh = 0; oh < Ho; oh++, d += Wo) {
            const ih = oh * sh + ihOff;
            if (ih < 0 || ih >= H) continue;
            const dst = xc + ih * W + iwOff;
            if (sw === 1) for (let ow = lo; ow < hi; ow++) dx[dst + ow] += dcol[d + ow];
            else for (let ow = lo; ow < hi; ow++) dx[dst + ow * sw] += dcol[d + ow];
          }
        }
      }
    }
  }
}

/**
 * conv2d whose im2col buffer stays within `colBytes` (`CONV_COL_BYTES` in the registry; tests lower it to
 * exercise the chunking). See `conv2dKernel`.
 */
export function conv2dKernelFor(colBytes: number): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<ConvAttrs>(ctx, inputs, attrs);
    const [x, w, bias] = inputs;
    const g = convGeometry(x!, w!, outputs[0], a);
    const { N, O, Og, rowsG, HoWo, groups } = g;
    const xd = x!.data as Float32Array;
    const wd = w!.data as Float32Array;
    const bd = bias ? (bias.data as Float32Array) : null;
    if (N * O * HoWo === 0) return [new Tensor("float32", outputs[0].shape, new Float32Array(0))];
    const per = imagesPerChunk(g, colBytes);
    const col = new Float32Array(groups * rowsG * per * HoWo);
    let out: Float32Array | null = null;
    for (let n0 = 0; n0 < N; n0 += per) {
      const nc = Math.min(per, N - n0);
      const span = nc * HoWo;
      const cv = col.subarray(0, groups * rowsG * span);
      im2col(g, xd, n0, nc, cv);
      // One product per (image i, group gr), t = i·groups + gr: y[t] [Og, HoWo] = W_gr [Og, rowsG] · the
      // image's columns of col_gr [rowsG, HoWo] (row stride nc·HoWo). The results, stacked, are NCHW.
      const count = nc * groups;
      const aOff = new Float64Array(count);
      const bOff = new Float64Array(count);
      for (let t = 0; t < count; t++) {
        const gr = t % groups;
        aOff[t] = gr * Og * rowsG;
        bOff[t] = gr * rowsG * span + ((t - gr) / groups) * HoWo;
      }
      const y = ctx.gemm.gemm({ M: Og, N: HoWo, K: rowsG, a: wd, rsa: rowsG, csa: 1, b: cv, rsb: span, csb: 1, count, aOff, bOff });
      if (bd) {
        for (let r = 0; r < nc * O; r++) {
          const b = bd[r % O];
          const at = r * HoWo;
          for (let p = 0; p < HoWo; p++) y[at + p] += b;
        }
      }
      if (nc === N) out = y;
      else (out ??= new Float32Array(N * O * HoWo)).set(y, n0 * O * HoWo);
    }
    return [new Tensor("float32", outputs[0].shape, out!)];
  };
}

/**
 * 2-D cross-correlation, NCHW, weight [O, C/groups, kh, kw] (PyTorch Conv2d), with stride, zero padding,
 * dilation and groups, lowered to the kernel path's GEMM: for each chunk of images (its columns within
 * `CONV_COL_BYTES`), im2col into col [C·kh·kw, images·Ho·Wo] (zeros for padding taps), then for each image
 * and group y[n, g] = W_g [O/groups, C/groups·kh·kw] · col_g[:, n] (one batched GEMM call whose stacked
 * results are NCHW), plus the bias. The portable GEMM accumulates each output in double, the WebAssembly
 * SIMD one in float32.
 */
export const conv2dKernel: Kernel = conv2dKernelFor(CONV_COL_BYTES);
