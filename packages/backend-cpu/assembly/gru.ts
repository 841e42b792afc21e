// The GRU gate loops of backend-cpu in WebAssembly SIMD128 (AssemblyScript, `--runtime stub`: every
// pointer is a byte offset into linear memory that the JS side laid out; src/elementwise/gru-gates.ts
// drives it). A module of its own, apart from elementwise.ts: at ~9 KB it is past the 4 KiB that older
// Chromium allows `new WebAssembly.Module` on a page's main thread, where the GRU kernels then keep their
// JavaScript loops while Adam and the other bulk loops still run in WebAssembly.
//
// Why: in JavaScript, Math.exp and Math.tanh cost ~60 ns per gate element, more than the recurrent GEMM
// at batch 64 and about half of a decoder step's GRU at batch 256.

import { columnSums, load1, load2, store1, store2 } from "./lib/simd";

/** Where JS may start laying out operands. */
export function heapBase(): usize {
  return (__heap_base + 63) & ~<usize>63;
}

// GRU gates (kernels/gru-gemm.ts: gatesForward, gatesBackward), two elements per f64x2, in double as the
// JS loops: the same formulas in the same order, with exp and expm1 computed here rather than by
// Math.exp / Math.tanh (results within a few units in the last place of double of those; after rounding
// to float32 the gates' outputs agree with the JS loops but for the rare value within ~1e-16 of a
// float32 rounding boundary).

const LOG2E: f64 = 1.4426950408889634;
// ln 2 split (fdlibm): k·LN2_HI is exact for |k| < 2^20.
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;

/** x clamped to [−708, 709], where 2^k of the reduction below stays a normal double (pmin / pmax keep a NaN). */
// @ts-ignore: decorator
@inline function expClamp(x: v128): v128 {
  return f64x2.pmin(f64x2.pmax(x, f64x2.splat(-708)), f64x2.splat(709));
}

/** 1.5·2^52: adding it rounds |y| < 2^51 to an integer (to nearest, ties to even) held in the low bits. */
const ROUNDER: f64 = 6755399441055744.0;

/** t = x / ln 2 + ROUNDER: k = round(x / ln 2) is t − ROUNDER, and the bits of t hold k (see pow2). */
// @ts-ignore: decorator
@inline function expT(xc: v128): v128 {
  return f64x2.add(f64x2.mul(xc, f64x2.splat(LOG2E)), f64x2.splat(ROUNDER));
}

/**
 * e^r − 1 for x = k·ln 2 + r, |r| ≤ ln2 / 2: r·Q(r), Q the Taylor series of (e^r − 1) / r to r^12
 * (truncation < 2e-17 relative) by Estrin's scheme (short dependency chains: the three exponentials of a
 * gate run side by side). It is never added to 1 first, so expm1(x) = 2^k·p + (2^k − 1) and
 * exp(x) = 2^k·p + 2^k keep full relative precision near 0.
 */
// @ts-ignore: decorator
@inline function expP(xc: v128, k: v128): v128 {
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const r8 = f64x2.mul(r4, r4);
  // q_i = 1 / (i + 1)!
  const a0 = f64x2.add(f64x2.splat(1.0), f64x2.mul(r, f64x2.splat(1.0 / 2)));
  const a1 = f64x2.add(f64x2.splat(1.0 / 6), f64x2.mul(r, f64x2.splat(1.0 / 24)));
  const a2 = f64x2.add(f64x2.splat(1.0 / 120), f64x2.mul(r, f64x2.splat(1.0 / 720)));
  const a3 = f64x2.add(f64x2.splat(1.0 / 5040), f64x2.mul(r, f64x2.splat(1.0 / 40320)));
  const a4 = f64x2.add(f64x2.splat(1.0 / 362880), f64x2.mul(r, f64x2.splat(1.0 / 3628800)));
  const a5 = f64x2.add(f64x2.splat(1.0 / 39916800), f64x2.mul(r, f64x2.splat(1.0 / 479001600)));
  const a6 = f64x2.splat(1.0 / 6227020800);
  const b0 = f64x2.add(a0, f64x2.mul(a1, r2));
  const b1 = f64x2.add(a2, f64x2.mul(a3, r2));
  const b2 = f64x2.add(a4, f64x2.mul(a5, r2));
  const c0 = f64x2.add(b0, f64x2.mul(b1, r4));
  const c1 = f64x2.add(b2, f64x2.mul(a6, r4));
  return f64x2.mul(r, f64x2.add(c0, f64x2.mul(c1, r8)));
}

/** 2^k from expT's t: its bits are those of ROUNDER plus k, so (t − bits(ROUNDER) + 1023) << 52 (mod 2^64). */
// @ts-ignore: decorator
@inline function pow2(t: v128): v128 {
  return i64x2.shl(i64x2.add(t, i64x2.splat(1023 - 0x4338000000000000)), 52);
}

/** e^x, two lanes. */
// @ts-ignore: decorator
@inline function expv(x: v128): v128 {
  const xc = expClamp(x);
  const t = expT(xc);
  const s = pow2(t);
  return f64x2.add(f64x2.mul(s, expP(xc, f64x2.sub(t, f64x2.splat(ROUNDER)))), s);
}

/** e^x − 1, two lanes. */
// @ts-ignore: decorator
@inline function expm1v(x: v128): v128 {
  const xc = expClamp(x);
  const t = expT(xc);
  const s = pow2(t);
  return f64x2.add(f64x2.mul(s, expP(xc, f64x2.sub(t, f64x2.splat(ROUNDER)))), f64x2.sub(s, f64x2.splat(1)));
}

/** σ(v) as kernels/unary.ts: 1 / (1 + e^−v) for v ≥ 0, e^v / (1 + e^v) below (e = e^−|v| either way). */
// @ts-ignore: decorator
@inline function sigmoidv(v: v128): v128 {
  const e = expv(f64x2.neg(f64x2.abs(v)));
  // one division: the numerator picks the branch
  return f64x2.div(v128.bitselect(f64x2.splat(1), e, f64x2.ge(v, f64x2.splat(0))), f64x2.add(f64x2.splat(1), e));
}

/** tanh(x) = −m / (2 + m) with m = expm1(−2|x|), the sign of x restored (exact 0 at 0; NaN propagates). */
// @ts-ignore: decorator
@inline function tanhv(x: v128): v128 {
  const m = expm1v(f64x2.mul(f64x2.splat(-2), f64x2.abs(x)));
  const t = f64x2.div(f64x2.neg(m), f64x2.add(f64x2.splat(2), m));
  return v128.or(t, v128.and(x, f64x2.splat(-0.0)));
}

// @ts-ignore: decorator
@inline function gatesFwd(gi: usize, gh: usize, h: usize, out: usize, H: usize, pair: bool): void {
  // offsets in bytes of the r, z, n parts of a [3H] row
  const zo = H * 4;
  const no = H * 8;
  const ar = f64x2.add(pair ? load2(gi) : load1(gi), pair ? load2(gh) : load1(gh));
  const az = f64x2.add(pair ? load2(gi + zo) : load1(gi + zo), pair ? load2(gh + zo) : load1(gh + zo));
  const r = sigmoidv(ar);
  const z = sigmoidv(az);
  const ghn = pair ? load2(gh + no) : load1(gh + no);
  const n = tanhv(f64x2.add(pair ? load2(gi + no) : load1(gi + no), f64x2.mul(r, ghn)));
  const hv = pair ? load2(h) : load1(h);
  const res = f64x2.add(f64x2.mul(f64x2.sub(f64x2.splat(1), z), n), f64x2.mul(z, hv));
  if (pair) store2(out, res);
  else store1(out, res);
}

/**
 * One GRU step's gates for B rows (kernels/gru-gemm.ts `gatesForward`): h'[b] = (1 − z) ⊙ n + z ⊙ h[b] with
 * r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n). Row b of gi [3H] is at gi + b·giStride
 * floats, of gh at gh + b·ghStride, of h and out at b·H (`out` may be `h`: each element is read first).
 */
export function gruGatesForward(gi: usize, giStride: i32, gh: usize, ghStride: i32, h: usize, out: usize, B: i32, H: i32): void {
  const Hu = <usize>H;
  for (let b = 0; b < B; b++) {
    const gib = gi + <usize>b * <usize>giStride * 4;
    const ghb = gh + <usize>b * <usize>ghStride * 4;
    const hb = h + <usize>b * Hu * 4;
    const ob = out + <usize>b * Hu * 4;
    let j = 0;
    for (; j + 2 <= H; j += 2) {
      const o = <usize>j * 4;
      gatesFwd(gib + o, ghb + o, hb + o, ob + o, Hu, true);
    }
    if (j < H) {
      const o = <usize>j * 4;
      gatesFwd(gib + o, ghb + o, hb + o, ob + o, Hu, false);
    }
  }
}

// @ts-ignore: decorator
@inline function gatesBwd(gi: usize, gh: usize, h: usize, dh: usize, back: usize, dy: usize, dgi: usize, dgh: usize, H: usize, pair: bool): void {
  const zo = H * 4;
  const no = H * 8;
  const r = sigmoidv(f64x2.add(pair ? load2(gi) : load1(gi), pair ? load2(gh) : load1(gh)));
  const z = sigmoidv(f64x2.add(pair ? load2(gi + zo) : load1(gi + zo), pair ? load2(gh + zo) : load1(gh + zo)));
  const ghn = pair ? load2(gh + no) : load1(gh + no);
  const n = tanhv(f64x2.add(pair ? load2(gi + no) : load1(gi + no), f64x2.mul(r, ghn)));
  const one = f64x2.splat(1);
  // dh' = (dh + back) + dy: the JS loops add the previous step's back-projection, then this step's dy
  let d = pair ? v128.load(dh) : v128.load64_zero(dh);
  if (back) d = f64x2.add(d, pair ? load2(back) : load1(back));
  if (dy) d = f64x2.add(d, pair ? load2(dy) : load1(dy));
  const hv = pair ? load2(h) : load1(h);
  // the JS loop's order: d·(1 − z)·(1 − n·n); dan·ghn·r·(1 − r); d·(h − n)·z·(1 − z)
  const dan = f64x2.mul(f64x2.mul(d, f64x2.sub(one, z)), f64x2.sub(one, f64x2.mul(n, n)));
  const dar = f64x2.mul(f64x2.mul(f64x2.mul(dan, ghn), r), f64x2.sub(one, r));
  const daz = f64x2.mul(f64x2.mul(f64x2.mul(d, f64x2.sub(hv, n)), z), f64x2.sub(one, z));
  const dhn = f64x2.mul(d, z);
  if (pair) {
    store2(dgi, dar);
    store2(dgh, dar);
    store2(dgi + zo, daz);
    store2(dgh + zo, daz);
    store2(dgi + no, dan);
    store2(dgh + no, f64x2.mul(dan, r));
    v128.store(dh, dhn);
  } else {
    store1(dgi, dar);
    store1(dgh, dar);
    store1(dgi + zo, daz);
    store1(dgh + zo, daz);
    store1(dgi + no, dan);
    store1(dgh + no, f64x2.mul(dan, r));
    v128.store64_lane(dh, dhn, 0);
  }
}

/**
 * One GRU step's gate gradients for B rows (kernels/gru-gemm.ts `gatesBackward`): from dh' (f64 `dh`
 * [B, H], plus `back` [B, H] and then `dy` (row b at b·dyStride) where nonzero: the previous step's
 * back-projection and this step's output gradient) and the pre-activations gi, gh (row b at b·giStride,
 * b·ghStride floats) and the incoming state h (row b at b·hStride), writes dgi and dgh (rows at
 * b·dgiStride, b·dghStride) and dh ← dh' ⊙ z.
 */
export function gruGatesBackward(
  gi: usize, giStride: i32, gh: usize, ghStride: i32, h: usize, hStride: i32, dh: usize, back: usize, dy: usize, dyStride: i32,
  dgi: usize, dgiStride: i32, dgh: usize, dghStride: i32, B: i32, H: i32,
): void {
  const Hu = <usize>H;
  for (let b = 0; b < B; b++) {
    const bu = <usize>b;
    const gib = gi + bu * <usize>giStride * 4;
    const ghb = gh + bu * <usize>ghStride * 4;
    const hb = h + bu * <usize>hStride * 4;
    const dhb = dh + bu * Hu * 8;
    const dgib = dgi + bu * <usize>dgiStride * 4;
    const dghb = dgh + bu * <usize>dghStride * 4;
    const bb = back ? back + bu * Hu * 4 : 0;
    const yb = dy ? dy + bu * <usize>dyStride * 4 : 0;
    let j = 0;
    for (; j + 2 <= H; j += 2) {
      const o = <usize>j * 4;
      gatesBwd(gib + o, ghb + o, hb + o, dhb + <usize>j * 8, bb ? bb + o : 0, yb ? yb + o : 0, dgib + o, dghb + o, Hu, true);
    }
    if (j < H) {
      const o = <usize>j * 4;
      gatesBwd(gib + o, ghb + o, hb + o, dhb + <usize>j * 8, bb ? bb + o : 0, yb ? yb + o : 0, dgib + o, dghb + o, Hu, false);
    }
  }
}

export { columnSums };
