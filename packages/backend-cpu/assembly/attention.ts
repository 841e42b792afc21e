// Fused ("flash") attention for backend-cpu in WebAssembly SIMD128 (AssemblyScript, `--runtime stub`: every
// pointer is a byte offset into linear memory that the JS side laid out). One call handles one head:
// q [Tq, D], k [Tk, D], v [Tk, Dv] row-major, an optional bool mask (one byte per key, or per query and
// key), `causal` and `window` with the semantics of core's `attention` op.
//
// Forward (`forward`): queries in blocks of BQ, keys in tiles of BC. Per (block, tile) the scores are
// computed transposed, St[j][r] = Σ_d K[j][d]·Q[r][d]·scale·log2(e), by a 4×8 register microkernel over
// packed operands (Kᵀ tiles [D][BC], Qᵀ blocks [D][BQ]; the scale is folded into Qᵀ), so the online
// softmax runs down the columns: the running max m, the sum l and the rescale factor of the output
// accumulator are vectors over four queries, and no horizontal reduction is needed. P = 2^(St − m) stays
// in St, which is then exactly the left operand of O[BQ][Dv] += Pᵀ·V. Tiles wholly outside the
// causal/window band are never visited; tiles wholly inside skip the masking; on the band's edge, 4×8
// score microtiles wholly outside it are not computed, and the forward's softmax and the P·V (and
// backward) products run each 4-query strip over only the keys (queries) it can see. Per query the output is
// O / l and the log-sum-exp (base 2) is m + log2 l. The N×N weights are written only when asked for, in
// a second pass from those statistics.
//
// Backward (`backward`, FlashAttention-2 style): the forward runs first for O and the log-sum-exp, then
// Δ_i = dO_i·O_i; key tiles outer, query blocks inner: P = 2^(St − lse), dPᵀ = V·dOᵀ,
// dS = P ∘ (dP − Δ)·scale, dV += Pᵀ·dO, dK += dSᵀ·Q, dQ += dS·K. Extra memory is O((Tq + Tk)·(D + Dv)).
//
// Operand rows need not be dense: `rowStrides` (after `configure`) gives each operand's row stride, so a
// head can be read from, and written into, a tensor whose heads are interleaved row by row ([S, H, D]
// rather than [H, S, D]); only packing and the final stores look at the strides, so results are the same,
// bit for bit, whatever the layout.
//
// Everything accumulates in float32 (one f32x4 multiply and one add per term). exp2 is a degree-6
// polynomial after range reduction (relative error ≈ 1.5e-7); 2^x for x ≤ −127 (masked scores: −inf) is
// exactly 0.

/** Query block (columns of the score tile). A multiple of 8. */
const BQ: i32 = 64;
/** Key tile (rows of the score tile). A multiple of 4. */
const BC: i32 = 64;
const LOG2E: f32 = 1.4426950408889634;

// Per-call configuration (set by `configure`).
let Tq: i32 = 0;
let Tk: i32 = 0;
let D: i32 = 0;
let Dv: i32 = 0;
let Dp: i32 = 0; // D rounded up to 8
let Dvp: i32 = 0; // Dv rounded up to 8
let nQ: i32 = 0; // query blocks
let nK: i32 = 0; // key tiles
let scale: f32 = 1;
let causal: bool = false;
let win: i32 = -1; // -1: no window
let mask: usize = 0; // bytes, nonzero = masked out; 0: none
let msq: i32 = 0; // bytes between query rows of the mask (0: one row for every query, i.e. key padding)
// Allowed range of i − j: dmin ≤ i − j ≤ dmax.
// Row strides (floats) of the operands: dense (D or Dv) after `configure`, else as `rowStrides` set them.
let qrs: i32 = 0;
let krs: i32 = 0;
let vrs: i32 = 0;
let ors: i32 = 0; // forward output
let grs: i32 = 0; // backward dO
let dqrs: i32 = 0;
let dkrs: i32 = 0;
let dvrs: i32 = 0;

let dmin: i32 = 0;
let dmax: i32 = 0;

// Work layout (byte offsets, set by `layout`).
let qt: usize = 0; // Qᵀ·scale·log2e blocks [nQ][D][BQ]
let kt: usize = 0; // Kᵀ tiles [nK][D][BC]
let vp: usize = 0; // V padded [nK·BC][Dvp]
let st: usize = 0; // score / P tile [BC][BQ]
let ob: usize = 0; // output accumulator [BQ][Dvp]
let mrun: usize = 0; // running max [BQ]
let lrun: usize = 0; // running sum [BQ]
let alph: usize = 0; // rescale factors [BQ]
// backward only
let qp: usize = 0; // Q padded [nQ·BQ][Dp]
let kp: usize = 0; // K padded [nK·BC][Dp]
let vt: usize = 0; // Vᵀ tiles [nK][Dv][BC]
let dot: usize = 0; // dOᵀ blocks [nQ][Dv][BQ]
let dop: usize = 0; // dO padded [nQ·BQ][Dvp]
let lse: usize = 0; // log-sum-exp (base 2) [nQ·BQ]; +inf for a query that sees no key
let del: usize = 0; // Δ [nQ·BQ]
let oraw: usize = 0; // forward output [Tq][Dv]
let dpt: usize = 0; // dPᵀ / dSᵀ tile [BC][BQ]
let pr: usize = 0; // P tile transposed [BQ][BC]
let dsr: usize = 0; // dS tile transposed [BQ][BC]
let dqa: usize = 0; // dQ accumulator [nQ·BQ][Dp]
let dka: usize = 0; // dK tile accumulator [BC][Dp]
let dva: usize = 0; // dV tile accumulator [BC][Dvp]
let top: usize = 0;

function up(n: i32, m: i32): i32 {
  return ((n + m - 1) / m) * m;
}

function take(bytes: i32): usize {
  const at = top;
  top = (at + <usize>bytes + 63) & ~<usize>63;
  return at;
}

/**
 * Sets the problem of the next calls. `window` < 0: no window. `maskPtr` 0: no mask; else one byte per
 * (query, key) at `maskPtr + i·maskRow + j` (`maskRow` 0 for a key-padding row shared by every query).
 */
export function configure(
  tq: i32, tk: i32, d: i32, dv: i32, sc: f32, isCausal: i32, window: i32, maskPtr: usize, maskRow: i32,
): void {
  Tq = tq;
  Tk = tk;
  D = d;
  Dv = dv;
  Dp = up(max(d, 1), 8);
  Dvp = up(max(dv, 1), 8);
  nQ = up(tq, BQ) / BQ;
  nK = up(tk, BC) / BC;
  scale = sc;
  causal = isCausal != 0;
  win = window;
  mask = maskPtr;
  msq = maskRow;
  const BIG: i32 = 0x3fffffff;
  dmin = causal ? 0 : win >= 0 ? -win : -BIG;
  dmax = win >= 0 ? win : BIG;
  qrs = d;
  krs = d;
  vrs = dv;
  ors = dv;
  grs = dv;
  dqrs = d;
  dkrs = d;
  dvrs = dv;
}

/**
 * Row strides (in floats, each at least the row's width) of q, k, v, the forward output, the backward dO,
 * dq, dk and dv for the next calls; `configure` resets them to dense rows.
 */
export function rowStrides(q: i32, k: i32, v: i32, o: i32, dO: i32, dq: i32, dk: i32, dv: i32): void {
  qrs = q;
  krs = k;
  vrs = v;
  ors = o;
  grs = dO;
  dqrs = dq;
  dkrs = dk;
  dvrs = dv;
}

function layout(work: usize, backward: bool): void {
  top = (work + 63) & ~<usize>63;
  const tqp = nQ * BQ;
  const tkp = nK * BC;
  qt = take(nQ * D * BQ * 4);
  kt = take(nK * D * BC * 4);
  vp = take(tkp * Dvp * 4);
  st = take(BC * BQ * 4);
  ob = take(BQ * Dvp * 4);
  mrun = take(BQ * 4);
  lrun = take(BQ * 4);
  alph = take(BQ * 4);
  lse = take(tqp * 4);
  if (!backward) return;
  qp = take(tqp * Dp * 4);
  kp = take(tkp * Dp * 4);
  vt = take(nK * Dv * BC * 4);
  dot = take(nQ * Dv * BQ * 4);
  dop = take(tqp * Dvp * 4);
  del = take(tqp * 4);
  oraw = take(Tq * Dv * 4);
  dpt = take(BC * BQ * 4);
  pr = take(BQ * BC * 4);
  dsr = take(BQ * BC * 4);
  dqa = take(tqp * Dp * 4);
  dka = take(BC * Dp * 4);
  dva = take(BC * Dvp * 4);
}

/** Bytes of work memory `forward` (backward = 0) or `backward` (1) needs for the configured problem. */
export function workBytes(backward: i32): usize {
  layout(0, backward != 0);
  return top + 64;
}

/** Where JS may start laying out operands. */
export function heapBase(): usize {
  return (__heap_base + 63) & ~<usize>63;
}

// ---------------------------------------------------------------------------------------------------
// packing

/**
 * Rows r0 ≤ i < r1 of src [rows][cols] (row stride `ld` floats) → blocks [ceil(rows/B)][cols][B]·mul; the
 * padding rows past `rows` in the last block are zeroed when r1 = rows. r0 is a multiple of B. Four rows
 * at a time are transposed in registers (4×4 shuffles), so packing costs a few percent of a small head's
 * attention rather than a tenth.
 */
function packT(src: usize, r0: i32, r1: i32, rows: i32, cols: i32, ld: i32, B: i32, dst: usize, mul: f32): void {
  const m = f32x4.splat(mul);
  const c4 = cols & ~3;
  let i = r0;
  for (; i + 4 <= r1; i += 4) {
    const blk = i / B;
    const r = i - blk * B;
    const s = src + <usize>i * <usize>ld * 4;
    const ls = <usize>ld * 4;
    const d0 = dst + <usize>(blk * cols * B + r) * 4;
    const bs = <usize>B * 4;
    for (let c = 0; c < c4; c += 4) {
      const x0 = v128.load(s + <usize>c * 4);
      const x1 = v128.load(s + ls + <usize>c * 4);
      const x2 = v128.load(s + 2 * ls + <usize>c * 4);
      const x3 = v128.load(s + 3 * ls + <usize>c * 4);
      const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
      const d = d0 + <usize>c * bs;
      v128.store(d, f32x4.mul(v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), m));
      v128.store(d + bs, f32x4.mul(v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), m));
      v128.store(d + 2 * bs, f32x4.mul(v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), m));
      v128.store(d + 3 * bs, f32x4.mul(v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), m));
    }
    for (let c = c4; c < cols; c++) {
      for (let x = 0; x < 4; x++) store<f32>(d0 + <usize>(c * B + x) * 4, load<f32>(s + <usize>x * ls + <usize>c * 4) * mul);
    }
  }
  for (; i < r1; i++) {
    const blk = i / B;
    const r = i - blk * B;
    const s = src + <usize>(i * ld) * 4;
    const d0 = dst + <usize>(blk * cols * B + r) * 4;
    for (let c = 0; c < cols; c++) store<f32>(d0 + <usize>(c * B) * 4, load<f32>(s + <usize>c * 4) * mul);
  }
  if (r1 < rows || rows % B == 0) return;
  // zero the padding rows of the last block
  const blk = (rows - 1) / B;
  const r = rows - blk * B;
  for (let c = 0; c < cols; c++) memory.fill(dst + <usize>(blk * cols * B + c * B + r) * 4, 0, <usize>(B - r) * 4);
}

/** src [rows][cols] (row stride `ld` floats) → dst [prow][ldd], zero-padded columns and rows. */
function packRows(src: usize, rows: i32, cols: i32, ld: i32, dst: usize, prow: i32, ldd: i32): void {
  memory.fill(dst, 0, <usize>(prow * ldd) * 4);
  for (let i = 0; i < rows; i++) memory.copy(dst + <usize>(i * ldd) * 4, src + <usize>(i * ld) * 4, <usize>cols * 4);
}

// ---------------------------------------------------------------------------------------------------
// the microkernel: C[4][8] (+)= Σ_k A[k][0:4] ⊗ B[k][0:8]
//   A: four adjacent floats per k, k stride `aks` bytes; B: eight adjacent floats per k, stride `bks`;
//   C: rows `crs` bytes apart.

// @ts-ignore: decorator
@inline function mk(kc: i32, a: usize, aks: usize, b: usize, bks: usize, c: usize, crs: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 4);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 8);
    c20 = f32x4.add(c20, f32x4.mul(x, b0));
    c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 12);
    c30 = f32x4.add(c30, f32x4.mul(x, b0));
    c31 = f32x4.add(c31, f32x4.mul(x, b1));
    a += aks;
    b += bks;
  }
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + crs));
    c11 = f32x4.add(c11, v128.load(c + crs, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * crs));
    c21 = f32x4.add(c21, v128.load(c + 2 * crs, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * crs));
    c31 = f32x4.add(c31, v128.load(c + 3 * crs, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + crs, c10);
  v128.store(c + crs, c11, 16);
  v128.store(c + 2 * crs, c20);
  v128.store(c + 2 * crs, c21, 16);
  v128.store(c + 3 * crs, c30);
  v128.store(c + 3 * crs, c31, 16);
}

/** C[M][N] (+)= Aᵀ·B over kc: A [kc][M] (row stride aks bytes), B [kc][N] (stride bks). M%4 = N%8 = 0. */
function mm(M: i32, N: i32, kc: i32, a: usize, aks: usize, b: usize, bks: usize, c: usize, crs: usize, acc: bool): void {
  for (let j = 0; j < N; j += 8) {
    for (let i = 0; i < M; i += 4) {
      mk(kc, a + <usize>i * 4, aks, b + <usize>j * 4, bks, c + <usize>i * crs + <usize>j * 4, crs, acc);
    }
  }
}

/**
 * `mm` accumulating (acc) where A·B terms outside the causal/window band are exactly zero (P or dS of a
 * masked score): rows are global queries (`rowsAreQueries`) or keys starting at r0, the k dimension the
 * other kind starting at k0; each 4-row strip only runs over the k range its rows can see.
 */
function mmBand(M: i32, N: i32, kc: i32, a: usize, aks: usize, b: usize, bks: usize, c: usize, crs: usize, r0: i32, k0: i32, rowsAreQueries: bool): void {
  for (let j = 0; j < N; j += 8) {
    for (let i = 0; i < M; i += 4) {
      const R = r0 + i;
      // k range (global, inclusive) the strip's rows can see
      const lo = rowsAreQueries ? R - dmax : R + dmin;
      const hi = rowsAreQueries ? R + 3 - dmin : R + 3 + dmax;
      const klo = max(0, lo - k0);
      const khi = min(kc, hi - k0 + 1);
      if (khi <= klo) continue;
      mk(khi - klo, a + <usize>i * 4 + <usize>klo * aks, aks, b + <usize>klo * bks + <usize>j * 4, bks, c + <usize>i * crs + <usize>j * 4, crs, true);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// exp2, masking

// @ts-ignore: decorator
@inline function exp2v(x: v128): v128 {
  // pmax, not max: one instruction (max's NaN and ±0 rules cost V8 about eight); a NaN x stays NaN.
  x = f32x4.pmax(x, f32x4.splat(-127));
  // n = round(x) by adding 1.5·2²³ (the sum's last bit is the units digit): round to nearest even, like
  // f32x4.nearest, and t's low bits are then n itself, so the exponent needs no float-to-int conversion.
  const t = f32x4.add(x, f32x4.splat(12582912));
  const n = f32x4.sub(t, f32x4.splat(12582912));
  const f = f32x4.sub(x, n); // [-0.5, 0.5]
  // 2^f = e^(f·ln2), Taylor to degree 6 (|error| < 1.5e-7 relative on [-0.5, 0.5]).
  let p = f32x4.splat(1.5403530393381608e-4);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.3333558146428443e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(9.618129107628477e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(5.550410866482158e-2));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(0.2402265069591007));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(0.6931471805599453));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1));
  // (bits(t) + 127) << 23 = (n + 127) << 23: bits(t) − n = 0x4B400000 has no bit below 9.
  const e = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

/** First key query i may see (causal / window), unclamped above. */
function keyLo(i: i32): i32 {
  return win >= 0 ? max(0, i - win) : 0;
}
/** One past the last key query i may see. */
function keyHi(i: i32): i32 {
  let hi = Tk;
  if (causal) hi = min(hi, i + 1);
  else if (win >= 0) hi = min(hi, i + win + 1);
  return hi;
}

/** Sets the masked entries of the score tile St [BC][BQ] (keys j0.., queries i0..) to −inf. */
function maskTile(i0: i32, j0: i32, nr: i32): void {
  const ninf = f32x4.splat(-Infinity);
  const lastQ = i0 + nr - 1;
  const band = !(keyLo(lastQ) <= j0 && keyHi(i0) >= j0 + BC);
  if (band) {
    const vmin = i32x4.splat(dmin);
    const vmax = i32x4.splat(dmax);
    const lane = i32x4(0, 1, 2, 3);
    for (let jj = 0; jj < BC; jj++) {
      const j = j0 + jj;
      const row = st + <usize>(jj * BQ) * 4;
      if (j >= Tk) {
        for (let r = 0; r < BQ; r += 4) v128.store(row + <usize>r * 4, ninf);
        continue;
      }
      for (let r = 0; r < BQ; r += 4) {
        const diff = i32x4.add(i32x4.splat(i0 + r - j), lane);
        const ok = v128.and(i32x4.ge_s(diff, vmin), i32x4.le_s(diff, vmax));
        const p = row + <usize>r * 4;
        v128.store(p, v128.bitselect(v128.load(p), ninf, ok));
      }
    }
  }
  if (mask) {
    const jn = min(BC, Tk - j0);
    for (let jj = 0; jj < jn; jj++) {
      const row = st + <usize>(jj * BQ) * 4;
      const mj = mask + <usize>(j0 + jj);
      if (msq == 0) {
        if (load<u8>(mj)) for (let r = 0; r < BQ; r += 4) v128.store(row + <usize>r * 4, ninf);
      } else {
        for (let r = 0; r < nr; r++) {
          if (load<u8>(mj + <usize>(i0 + r) * <usize>msq)) store<f32>(row + <usize>r * 4, -Infinity);
        }
      }
    }
  }
}

/** St = Kᵀ tile t · Qᵀ block b (scaled scores, base 2), masked. */
function scores(t: i32, b: i32, i0: i32, nr: i32): void {
  const j0 = t * BC;
  const a = kt + <usize>(t * D * BC) * 4;
  const q = qt + <usize>(b * D * BQ) * 4;
  for (let r = 0; r < BQ; r += 8) {
    for (let jj = 0; jj < BC; jj += 4) {
      // i − j over this 4-key × 8-query microtile; one wholly outside the band is left to maskTile (−inf)
      const lo = i0 + r - (j0 + jj + 3);
      const hi = i0 + r + 7 - (j0 + jj);
      if (hi < dmin || lo > dmax) continue;
      mk(D, a + <usize>jj * 4, BC * 4, q + <usize>r * 4, BQ * 4, st + <usize>(jj * BQ + r) * 4, BQ * 4, false);
    }
  }
  maskTile(i0, j0, nr);
}

// ---------------------------------------------------------------------------------------------------
// forward

/** Packs query rows r0 ≤ i < r1 and, when `packKV`, every key and value. */
function prepareForward(q: usize, k: usize, v: usize, r0: i32, r1: i32, packKV: bool): void {
  packT(q, r0, r1, Tq, D, qrs, BQ, qt, scale * LOG2E);
  if (!packKV) return;
  packT(k, 0, Tk, Tk, D, krs, BC, kt, 1);
  packRows(v, Tk, Dv, vrs, vp, nK * BC, Dvp);
}

/** The online-softmax pass over one query block: out rows (row stride `ld` floats), lse (base 2; +inf for an empty row). */
function forwardBlock(b: i32, out: usize, ld: i32): void {
  const i0 = b * BQ;
  const nr = min(BQ, Tq - i0);
  memory.fill(ob, 0, <usize>(BQ * Dvp) * 4);
  for (let r = 0; r < BQ; r += 4) {
    v128.store(mrun + <usize>r * 4, f32x4.splat(-Infinity));
    v128.store(lrun + <usize>r * 4, f32x4.splat(0));
  }
  const jlo = keyLo(i0);
  const jhi = keyHi(i0 + nr - 1);
  const ninf = f32x4.splat(-Infinity);
  const zero = f32x4.splat(0);
  for (let t = jlo / BC; t * BC < jhi; t++) {
    scores(t, b, i0, nr);
    const j0 = t * BC;
    for (let r = 0; r < BQ; r += 4) {
      // The keys (rows of St) these four queries can see, as mmBand reads them: the others are −inf and
      // never reach P·V, so on the causal diagonal and a window's edges the softmax skips them.
      const ja = max(0, i0 + r - dmax - j0);
      const jb = min(BC, i0 + r + 3 - dmin - j0 + 1);
      // Four running maxima (pmax: one instruction each): one chain of wasm's f32x4.max cost 13 % of the call.
      let m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
      for (let jj = ja & ~3; jj < jb; jj += 4) {
        const p = st + <usize>(jj * BQ + r) * 4;
        m0 = f32x4.pmax(m0, v128.load(p));
        m1 = f32x4.pmax(m1, v128.load(p, BQ * 4));
        m2 = f32x4.pmax(m2, v128.load(p, 2 * BQ * 4));
        m3 = f32x4.pmax(m3, v128.load(p, 3 * BQ * 4));
      }
      const mt = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
      const mo = v128.load(mrun + <usize>r * 4);
      const mn = f32x4.max(mo, mt);
      const ms = v128.bitselect(zero, mn, f32x4.eq(mn, ninf));
      const al = exp2v(f32x4.sub(mo, ms));
      let sum = zero;
      for (let jj = ja; jj < jb; jj++) {
        const p = st + <usize>(jj * BQ + r) * 4;
        const e = exp2v(f32x4.sub(v128.load(p), ms));
        v128.store(p, e);
        sum = f32x4.add(sum, e);
      }
      v128.store(lrun + <usize>r * 4, f32x4.add(f32x4.mul(v128.load(lrun + <usize>r * 4), al), sum));
      v128.store(mrun + <usize>r * 4, mn);
      v128.store(alph + <usize>r * 4, al);
    }
    for (let r = 0; r < BQ; r++) {
      const al = load<f32>(alph + <usize>r * 4);
      if (al == 1) continue;
      const s = f32x4.splat(al);
      const o = ob + <usize>(r * Dvp) * 4;
      for (let c = 0; c < Dvp; c += 4) v128.store(o + <usize>c * 4, f32x4.mul(v128.load(o + <usize>c * 4), s));
    }
    // O[BQ][Dvp] += Pᵀ·V: P is St [BC][BQ] (queries adjacent), V rows of this tile.
    mmBand(BQ, Dvp, BC, st, BQ * 4, vp + <usize>(t * BC * Dvp) * 4, Dvp * 4, ob, Dvp * 4, i0, t * BC, true);
  }
  for (let r = 0; r < BQ; r++) {
    const l = load<f32>(lrun + <usize>r * 4);
    const i = i0 + r;
    if (l > 0) {
      store<f32>(lse + <usize>i * 4, load<f32>(mrun + <usize>r * 4) + Mathf.log2(l));
    } else {
      store<f32>(lse + <usize>i * 4, Infinity);
    }
    if (r >= nr) continue;
    const inv: f32 = l > 0 ? 1 / l : 0;
    const o = ob + <usize>(r * Dvp) * 4;
    const dst = out + <usize>(i * ld) * 4;
    for (let c = 0; c < Dv; c++) store<f32>(dst + <usize>c * 4, load<f32>(o + <usize>c * 4) * inv);
  }
}

/** Writes the weights of query block b into w [Tq][Tk] (zeroed by the caller) from the lse. */
function weightsBlock(b: i32, w: usize): void {
  const i0 = b * BQ;
  const nr = min(BQ, Tq - i0);
  const jlo = keyLo(i0);
  const jhi = keyHi(i0 + nr - 1);
  for (let t = jlo / BC; t * BC < jhi; t++) {
    scores(t, b, i0, nr);
    for (let r = 0; r < BQ; r += 4) {
      const ls = v128.load(lse + <usize>(i0 + r) * 4);
      for (let jj = 0; jj < BC; jj++) {
        const p = st + <usize>(jj * BQ + r) * 4;
        v128.store(p, exp2v(f32x4.sub(v128.load(p), ls)));
      }
    }
    const j0 = t * BC;
    const jn = min(BC, Tk - j0);
    for (let r = 0; r < nr; r++) {
      const dst = w + (<usize>(i0 + r) * <usize>Tk + <usize>j0) * 4;
      for (let jj = 0; jj < jn; jj++) store<f32>(dst + <usize>jj * 4, load<f32>(st + <usize>(jj * BQ + r) * 4));
    }
  }
}

/**
 * One head's attention: out [Tq][Dv] and, when `w` is not 0, the weights [Tq][Tk]; `lseOut` (0: none)
 * receives the natural-log log-sum-exp per query (+inf for a query that sees no key).
 */
export function forward(q: usize, k: usize, v: usize, out: usize, w: usize, lseOut: usize, work: usize): void {
  forwardRange(q, k, v, out, w, lseOut, work, 0, nQ, 1);
}

/**
 * `forward` for the query blocks b0 ≤ b < b1 only (blocks of 64 queries): rows 64·b0 ≤ i < min(Tq, 64·b1)
 * of out, w and lseOut are written, the others left as they are. Each query's result is the same, bit for
 * bit, as from `forward` (the worker threads split a head this way). `packKV` 0: the keys and values
 * packed by the previous call on this instance (same problem, same head, same `work`) are reused, so a
 * thread that runs several query ranges of one head packs them once.
 */
export function forwardRange(
  q: usize, k: usize, v: usize, out: usize, w: usize, lseOut: usize, work: usize, b0: i32, b1: i32, packKV: i32,
): void {
  layout(work, false);
  b1 = min(b1, nQ);
  if (b1 <= b0) return;
  prepareForward(q, k, v, b0 * BQ, min(Tq, b1 * BQ), packKV != 0);
  for (let b = b0; b < b1; b++) forwardBlock(b, out, ors);
  const r0 = b0 * BQ;
  const r1 = min(Tq, b1 * BQ);
  if (r1 <= r0) return;
  if (w) {
    memory.fill(w + <usize>r0 * <usize>Tk * 4, 0, <usize>(r1 - r0) * <usize>Tk * 4);
    for (let b = b0; b < b1; b++) weightsBlock(b, w);
  }
  if (lseOut) for (let i = r0; i < r1; i++) store<f32>(lseOut + <usize>i * 4, load<f32>(lse + <usize>i * 4) / LOG2E);
}

// ---------------------------------------------------------------------------------------------------
// backward

/** src [rows][cols] transposed into dst [cols][rows]. */
function transpose(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let i = 0; i < rows; i++) {
    const s = src + <usize>(i * cols) * 4;
    for (let j = 0; j < cols; j++) store<f32>(dst + <usize>(j * rows + i) * 4, load<f32>(s + <usize>j * 4));
  }
}

/** First query that may see key j, and one past the last. */
function queryLo(j: i32): i32 {
  if (causal) return j;
  return win >= 0 ? max(0, j - win) : 0;
}
function queryHi(j: i32): i32 {
  return win >= 0 ? min(Tq, j + win + 1) : Tq;
}

/**
 * One head's gradients: dq [Tq][D], dk [Tk][D], dv [Tk][Dv] (overwritten) from q, k, v and dO [Tq][Dv].
 */
export function backward(q: usize, k: usize, v: usize, dO: usize, dq: usize, dk: usize, dv: usize, work: usize): void {
  layout(work, true);
  prepareForward(q, k, v, 0, Tq, true);
  for (let b = 0; b < nQ; b++) forwardBlock(b, oraw, Dv);
  const tqp = nQ * BQ;
  for (let i = 0; i < tqp; i++) {
    let s: f32 = 0;
    if (i < Tq && load<f32>(lse + <usize>i * 4) != Infinity) {
      const g = dO + <usize>(i * grs) * 4;
      const o = oraw + <usize>(i * Dv) * 4;
      for (let c = 0; c < Dv; c++) s += load<f32>(g + <usize>c * 4) * load<f32>(o + <usize>c * 4);
    } else {
      store<f32>(lse + <usize>i * 4, Infinity);
    }
    store<f32>(del + <usize>i * 4, s);
  }
  packRows(q, Tq, D, qrs, qp, tqp, Dp);
  packRows(k, Tk, D, krs, kp, nK * BC, Dp);
  packT(dO, 0, Tq, Tq, Dv, grs, BQ, dot, 1);
  packRows(dO, Tq, Dv, grs, dop, tqp, Dvp);
  // Vᵀ tiles [nK][Dv][BC]
  packT(v, 0, Tk, Tk, Dv, vrs, BC, vt, 1);
  memory.fill(dqa, 0, <usize>(tqp * Dp) * 4);
  const sc = f32x4.splat(scale);
  for (let t = 0; t < nK; t++) {
    const j0 = t * BC;
    const jn = min(BC, Tk - j0);
    memory.fill(dka, 0, <usize>(BC * Dp) * 4);
    memory.fill(dva, 0, <usize>(BC * Dvp) * 4);
    const ilo = queryLo(j0);
    const ihi = queryHi(j0 + jn - 1);
    for (let b = ilo / BQ; b * BQ < ihi; b++) {
      const i0 = b * BQ;
      const nr = min(BQ, Tq - i0);
      scores(t, b, i0, nr);
      mm(BC, BQ, Dv, vt + <usize>(t * Dv * BC) * 4, BC * 4, dot + <usize>(b * Dv * BQ) * 4, BQ * 4, dpt, BQ * 4, false);
      for (let r = 0; r < BQ; r += 4) {
        const ls = v128.load(lse + <usize>(i0 + r) * 4);
        const dl = v128.load(del + <usize>(i0 + r) * 4);
        for (let jj = 0; jj < BC; jj++) {
          const o = <usize>(jj * BQ + r) * 4;
          const p = exp2v(f32x4.sub(v128.load(st + o), ls));
          v128.store(st + o, p);
          v128.store(dpt + o, f32x4.mul(f32x4.mul(p, f32x4.sub(v128.load(dpt + o), dl)), sc));
        }
      }
      transpose(st, BC, BQ, pr);
      transpose(dpt, BC, BQ, dsr);
      // dV[BC][Dvp] += Pᵀ·dO, dK[BC][Dp] += dSᵀ·Q, dQ[BQ][Dp] += dS·K
      mmBand(BC, Dvp, BQ, pr, BC * 4, dop + <usize>(i0 * Dvp) * 4, Dvp * 4, dva, Dvp * 4, j0, i0, false);
      mmBand(BC, Dp, BQ, dsr, BC * 4, qp + <usize>(i0 * Dp) * 4, Dp * 4, dka, Dp * 4, j0, i0, false);
      mmBand(BQ, Dp, BC, dpt, BQ * 4, kp + <usize>(j0 * Dp) * 4, Dp * 4, dqa + <usize>(i0 * Dp) * 4, Dp * 4, i0, j0, true);
    }
    for (let jj = 0; jj < jn; jj++) {
      memory.copy(dk + <usize>((j0 + jj) * dkrs) * 4, dka + <usize>(jj * Dp) * 4, <usize>D * 4);
      memory.copy(dv + <usize>((j0 + jj) * dvrs) * 4, dva + <usize>(jj * Dvp) * 4, <usize>Dv * 4);
    }
  }
  for (let i = 0; i < Tq; i++) memory.copy(dq + <usize>(i * dqrs) * 4, dqa + <usize>(i * Dp) * 4, <usize>D * 4);
}
