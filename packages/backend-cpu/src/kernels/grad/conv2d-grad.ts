import { Tensor } from "@attn/core";
import { inferOutputs, type Kernel } from "../../kernel.js";
import { col2im, CONV_COL_BYTES, convGeometry, groupOffsets, im2col, imagesPerChunk, type ConvAttrs, type ConvGeometry } from "../conv2d.js";

/**
 * On the portable (`"js"`) path, a dy with fewer nonzeros than this fraction of its elements (after a
 * max-pool backward and a relu, typically an eighth to a quarter) runs the direct loops, which skip zero
 * gradients; the GEMM lowering does the same work whatever dy holds, and the portable GEMM is no faster
 * per term than the loops. Measured on the Fashion-MNIST CNN's 32→64 3×3 layer at batch 64, direct vs
 * GEMM: ~0.16 vs ~1.4 s at an eighth nonzero, ~0.35 vs ~1.3 s at a quarter, ~0.64 vs ~1.4 s at a half,
 * ~1.25 vs ~1.23 s dense. The WebAssembly SIMD paths always take the GEMM (~0.06 s there).
 */
export const JS_DIRECT_GRAD_DENSITY = 0.5;

/**
 * conv2d_grad whose im2col buffer stays within `colBytes` and whose portable path runs the direct loops
 * below `jsDirectDensity` nonzeros (the registry's kernel: `CONV_COL_BYTES`, `JS_DIRECT_GRAD_DENSITY`;
 * tests lower them to exercise the chunking and the GEMM lowering on every path). See `conv2dGradKernel`.
 */
export function conv2dGradKernelFor(colBytes: number, jsDirectDensity = JS_DIRECT_GRAD_DENSITY): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<ConvAttrs>(ctx, inputs, attrs);
    const [x, w, dy] = inputs as [Tensor, Tensor, Tensor];
    const g = convGeometry(x, w, dy, a);
    const { N, O, Og, rowsG, HoWo, groups } = g;
    const xd = x.data as Float32Array;
    const wd = w.data as Float32Array;
    const gd = dy.data as Float32Array;
    if (ctx.gemm.path === "js" && nonzeros(gd) < jsDirectDensity * gd.length) {
      const [dx, dW, db] = conv2dGradDirect(g, xd, wd, gd);
      return [new Tensor("float32", outputs[0].shape, dx), new Tensor("float32", outputs[1].shape, dW), new Tensor("float32", outputs[2].shape, db)];
    }
    const dx = new Float32Array(xd.length);
    let dW: Float32Array | null = null;
    let dW64: Float64Array | null = null;
    const db = new Float64Array(O);
    if (N > 0 && HoWo > 0) {
      const per = imagesPerChunk(g, colBytes);
      const col = new Float32Array(groups * rowsG * per * HoWo);
      const dyT = new Float32Array(O * per * HoWo);
      for (let n0 = 0; n0 < N; n0 += per) {
        const nc = Math.min(per, N - n0);
        const span = nc * HoWo;
        const cv = col.subarray(0, groups * rowsG * span);
        const gv = dyT.subarray(0, O * span);
        im2col(g, xd, n0, nc, cv);
        // dy of the chunk as [O, nc·HoWo] (its images side by side, in the column order of col), and dbias = Σ dy.
        for (let i = 0; i < nc; i++) {
          for (let o = 0; o < O; o++) {
            const src = ((n0 + i) * O + o) * HoWo;
            const dst = o * span + i * HoWo;
            let s = 0;
            for (let p = 0; p < HoWo; p++) {
              const v = gd[src + p];
              gv[dst + p] = v;
              s += v;
            }
            db[o] += s;
          }
        }
        // dW_g [Og, rowsG] = dy_g [Og, nc·HoWo] · col_gᵀ (colᵀ read in place through its strides).
        const dWc = ctx.gemm.gemm({
          M: Og, N: rowsG, K: span, a: gv, rsa: span, csa: 1, b: cv, rsb: 1, csb: span,
          count: groups, aOff: groupOffsets(groups, Og * span), bOff: groupOffsets(groups, rowsG * span),
        });
        if (n0 === 0 && nc === N) dW = dWc;
        else {
          dW64 ??= new Float64Array(wd.length);
          for (let k = 0; k < dWc.length; k++) dW64[k] += dWc[k];
        }
        // dcol_g [rowsG, nc·HoWo] = W_gᵀ · dy_g (Wᵀ read in place), scattered back onto dx.
        const dcol = ctx.gemm.gemm({
          M: rowsG, N: span, K: Og, a: wd, rsa: 1, csa: rowsG, b: gv, rsb: span, csb: 1,
          count: groups, aOff: groupOffsets(groups, Og * rowsG), bOff: groupOffsets(groups, Og * span),
        });
        col2im(g, dcol, n0, nc, dx);
      }
    }
    return [
      new Tensor("float32", outputs[0].shape, dx),
      new Tensor("float32", outputs[1].shape, dW ?? (dW64 ? Float32Array.from(dW64) : new Float32Array(wd.length))),
      new Tensor("float32", outputs[2].shape, Float32Array.from(db)),
    ];
  };
}

function nonzeros(a: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) n++;
  return n;
}

/**
 * The direct loops: each valid tap x[n, c, ih, iw]·w[oc, c', ki, kj] → y[n, oc, oh, ow] of a nonzero dy sends
 * it back both ways, dx += w·dy and dw += x·dy; dbias[oc] = Σ dy. All three accumulate in double and are
 * rounded once.
 */
export function conv2dGradDirect(geo: ConvGeometry, xd: Float32Array, wd: Float32Array, gd: Float32Array): [Float32Array, Float32Array, Float32Array] {
  const { N, C, H, W, O, KH, KW, Ho, Wo, sh, sw, ph, pw, dh, dw, Og } = geo;
  const Cg = C / geo.groups;
  const dx = new Float64Array(xd.length);
  const dW = new Float64Array(wd.length);
  const db = new Float64Array(O);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < O; oc++) {
      const c0 = Math.floor(oc / Og) * Cg;
      const wo = oc * Cg * KH * KW;
      const gb = (n * O + oc) * Ho * Wo;
      for (let oh = 0; oh < Ho; oh++) {
        const ih0 = oh * sh - ph;
        const kiLo = ih0 >= 0 ? 0 : Math.ceil(-ih0 / dh);
        const kiHi = Math.min(KH, Math.floor((H - 1 - ih0) / dh) + 1);
        for (let ow = 0; ow < Wo; ow++) {
          const g = gd[gb + oh * Wo + ow];
          db[oc] += g;
          if (g === 0) continue;
          const iw0 = ow * sw - pw;
          const kjLo = iw0 >= 0 ? 0 : Math.ceil(-iw0 / dw);
          const kjHi = Math.min(KW, Math.floor((W - 1 - iw0) / dw) + 1);
          for (let c = 0; c < Cg; c++) {
            const xc = (n * C + c0 + c) * H * W;
            const wc = wo + c * KH * KW;
            for (let ki = kiLo; ki < kiHi; ki++) {
              const xr = xc + (ih0 + ki * dh) * W + iw0;
              const wr = wc + ki * KW;
              for (let kj = kjLo; kj < kjHi; kj++) {
                const xi = xr + kj * dw;
                dx[xi] += wd[wr + kj] * g;
                dW[wr + kj] += xd[xi] * g;
              }
            }
          }
        }
      }
    }
  }
  return [Float32Array.from(dx), Float32Array.from(dW), Float32Array.from(db)];
}

/**
 * conv2d_grad: dx, dweight and dbias of conv2d from x, weight and dy, on the kernel path's GEMM. For each
 * chunk of images (its columns within `CONV_COL_BYTES`), x is unfolded by im2col as in the forward kernel
 * and dy laid out [O, images·Ho·Wo]; then per group dW_g += dy_g · col_gᵀ and dcol_g = W_gᵀ · dy_g, and
 * dcol is scattered back onto dx (col2im). dbias[oc] = Σ dy over n, oh, ow, in double. dW sums its chunks
 * in double (one chunk: the GEMM's result as is). On the portable path a mostly-zero dy runs the direct
 * loops instead (`JS_DIRECT_GRAD_DENSITY`).
 */
export const conv2dGradKernel: Kernel = conv2dGradKernelFor(CONV_COL_BYTES);
