// GEMM for backend-cpu in WebAssembly SIMD128 (AssemblyScript, compiled with `--runtime stub`: no GC,
// no allocator; every pointer here is a byte offset into linear memory that the JS side laid out).
//
//   C[M, N] = A[M, K] · B[K, N] (+ bias[N])
//
// A and B are read through element strides (row stride, column stride), so a transposed operand (linear's
// Wᵀ) costs nothing extra: packing reads it in whatever order it lies. C is row-major with row stride ldc.
//
// Structure (the GotoBLAS / BLIS loop nest): N is cut into NC-wide blocks, K into KC-deep blocks, M into
// MC-tall blocks. For each (NC, KC) block, B is packed into NR-wide column panels ([kc][NR], zero-padded);
// for each MC block under it, A is packed into MR-tall row panels ([kc][MR], zero-padded). The
// microkernel then multiplies one A panel by one B panel into an MR×NR tile held in f32x4 registers.
//
// Accumulation is float32 (one f32x4 multiply and one add per term; wasm has no fused multiply-add
// without relaxed SIMD). Each KC block is summed in registers and added to C once, so partial sums run
// over at most KC terms.

/** Tile width (two f32x4 per row). */
const NR: i32 = 8;
/**
 * Tile height. 4×8 (8 accumulators) measured faster on this machine (Node 20, x64) than 6×8 (12
 * accumulators, plus 2 B vectors, the broadcast A and a product temporary: every xmm register V8
 * allocates) and than 5×8, and than 4×8 with k unrolled by 2: ~30 vs ~22 GFLOP/s at 384³, best of 60.
 */
const MR: i32 = 4;

// Cache blocking (elements). KC×NR×4 B (8 KiB) stays in L1 while the A panels stream; MC×KC×4 A (72 KiB)
// sits in L2 with the KC×NC B block (1 MiB).
let KC: i32 = 256;
let MC: i32 = 72;
let NC: i32 = 1024;

/** Sets the cache blocking (for tuning). MC is rounded up to a multiple of MR, NC of NR. */
export function setBlocking(mc: i32, kc: i32, nc: i32): void {
  MC = ((max(mc, 1) + MR - 1) / MR) * MR;
  KC = max(kc, 1);
  NC = ((max(nc, 1) + NR - 1) / NR) * NR;
}

/** Bytes of scratch `gemm` needs at `work` for these sizes (tile, packed A block, packed B block). */
export function workBytes(M: i32, N: i32, K: i32): i32 {
  const mc = min(MC, ((M + MR - 1) / MR) * MR);
  const kc = min(KC, max(K, 1));
  const nc = min(NC, ((N + NR - 1) / NR) * NR);
  return 256 + mc * kc * 4 + kc * nc * 4 + 64;
}

/**
 * C = A·B (+ bias). Strides are in elements; pointers in bytes (16-byte alignment is not required, but
 * helps). `bias` is 0 for none. `work` must hold `workBytes(M, N, K)` bytes and not overlap the operands.
 */
export function gemm(
  M: i32, N: i32, K: i32,
  a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, csb: i32,
  c: usize, ldc: i32,
  bias: usize, work: usize,
): void {
  blocks(M, N, K, a, rsa, csa, b, rsb, csb, 0, c, ldc, bias, work);
}

/** Bytes `packB` writes for a K×N B: every NC×KC block packed as `gemm` packs it, one after another. */
export function packedBBytes(N: i32, K: i32): i32 {
  return max(K, 0) * (((N + NR - 1) / NR) * NR) * 4;
}

/**
 * Packs all of B (K×N, strides rsb, csb) at `dst` (`packedBBytes(N, K)` bytes), block by block in the
 * order `gemm` visits them: the (column block jc, depth block pc) block at jc·K + pc·ncr floats, ncr being
 * the block's width rounded up to NR. Threads that each run several row blocks of one product pack B once
 * and then call `gemmPacked` per block, instead of packing all of B again in every `gemm` call.
 */
export function packB(N: i32, K: i32, b: usize, rsb: i32, csb: i32, dst: usize): void {
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      packBBlock(min(KC, K - pc), nc, b + (<usize>pc * rsb + <usize>jc * csb) * 4, rsb, csb, dst + packedAt(jc, pc, nc, K));
    }
  }
}

/** `gemm` with B already packed at `packed` by `packB` (same blocking, so the same bits). */
export function gemmPacked(
  M: i32, N: i32, K: i32,
  a: usize, rsa: i32, csa: i32,
  packed: usize,
  c: usize, ldc: i32,
  bias: usize, work: usize,
): void {
  blocks(M, N, K, a, rsa, csa, 0, 0, 0, packed, c, ldc, bias, work);
}

/** Byte offset of packed block (jc, pc) in `packB`'s output: earlier column blocks are all NC wide. */
// @ts-ignore: decorator
@inline function packedAt(jc: i32, pc: i32, nc: i32, K: i32): usize {
  return (<usize>jc * K + <usize>pc * (((nc + NR - 1) / NR) * NR)) * 4;
}

/** The loop nest of `gemm`; B is packed block by block from `b`, or read from `packed` (non-zero) as `packB` left it. */
function blocks(
  M: i32, N: i32, K: i32,
  a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, csb: i32, packed: usize,
  c: usize, ldc: i32,
  bias: usize, work: usize,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (let i = 0; i < M; i++) {
      const ci = c + <usize>(i * ldc) * 4;
      for (let j = 0; j < N; j++) store<f32>(ci + <usize>j * 4, bias ? load<f32>(bias + <usize>j * 4) : 0);
    }
    return;
  }
  const tile = (work + 63) & ~<usize>63;
  const mcMax = min(MC, ((M + MR - 1) / MR) * MR);
  const kcMax = min(KC, K);
  const pA = tile + 256;
  const pBWork = pA + <usize>(mcMax * kcMax) * 4;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      let pB = pBWork;
      if (packed) pB = packed + packedAt(jc, pc, nc, K);
      else packBBlock(kc, nc, b + (<usize>pc * rsb + <usize>jc * csb) * 4, rsb, csb, pB);
      const first = pc == 0;
      const bj = bias ? bias + <usize>jc * 4 : 0;
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(mc, kc, a + (<usize>ic * rsa + <usize>pc * csa) * 4, rsa, csa, pA);
        macro(mc, nc, kc, pA, pB, c + (<usize>ic * ldc + <usize>jc) * 4, ldc, first, bj, tile);
      }
    }
  }
}

/** Packs A[0:mc, 0:kc] (strides rsa, csa) into MR-row panels, each [kc][MR], rows past mc zeroed. */
function packA(mc: i32, kc: i32, a: usize, rsa: i32, csa: i32, dst: usize): void {
  const rs = <usize>rsa * 4;
  const cs = <usize>csa * 4;
  for (let i = 0; i < mc; i += MR) {
    const mr = min(MR, mc - i);
    const src = a + <usize>i * rs;
    if (mr == MR) {
      let s = src;
      for (let k = 0; k < kc; k++) {
        store<f32>(dst, load<f32>(s));
        store<f32>(dst, load<f32>(s + rs), 4);
        store<f32>(dst, load<f32>(s + 2 * rs), 8);
        store<f32>(dst, load<f32>(s + 3 * rs), 12);
        s += cs;
        dst += MR * 4;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const s = src + <usize>k * cs;
        for (let r = 0; r < MR; r++) store<f32>(dst + <usize>r * 4, r < mr ? load<f32>(s + <usize>r * rs) : 0);
        dst += MR * 4;
      }
    }
  }
}

/** Packs B[0:kc, 0:nc] (strides rsb, csb) into NR-column panels, each [kc][NR], columns past nc zeroed. */
function packBBlock(kc: i32, nc: i32, b: usize, rsb: i32, csb: i32, dst: usize): void {
  const rs = <usize>rsb * 4;
  const cs = <usize>csb * 4;
  for (let j = 0; j < nc; j += NR) {
    const nr = min(NR, nc - j);
    const src = b + <usize>j * cs;
    if (nr == NR && csb == 1) {
      let s = src;
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(s));
        v128.store(dst, v128.load(s, 16), 16);
        s += rs;
        dst += NR * 4;
      }
    } else if (nr == NR && rsb == 1) {
      // B is a transposed row-major matrix (linear's Wᵀ): each panel column is a contiguous row of W.
      for (let k = 0; k < kc; k++) {
        const s = src + <usize>k * 4;
        store<f32>(dst, load<f32>(s));
        store<f32>(dst, load<f32>(s + cs), 4);
        store<f32>(dst, load<f32>(s + 2 * cs), 8);
        store<f32>(dst, load<f32>(s + 3 * cs), 12);
        store<f32>(dst, load<f32>(s + 4 * cs), 16);
        store<f32>(dst, load<f32>(s + 5 * cs), 20);
        store<f32>(dst, load<f32>(s + 6 * cs), 24);
        store<f32>(dst, load<f32>(s + 7 * cs), 28);
        dst += NR * 4;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const s = src + <usize>k * rs;
        for (let q = 0; q < NR; q++) store<f32>(dst + <usize>q * 4, q < nr ? load<f32>(s + <usize>q * cs) : 0);
        dst += NR * 4;
      }
    }
  }
}

/** One MC×NC block: every (A panel, B panel) pair through the microkernel; edge tiles go through `tile`. */
function macro(mc: i32, nc: i32, kc: i32, pA: usize, pB: usize, c: usize, ldc: i32, first: bool, bias: usize, tile: usize): void {
  const ldcb = <usize>ldc * 4;
  for (let j = 0; j < nc; j += NR) {
    const nr = min(NR, nc - j);
    const pb = pB + <usize>(j * kc) * 4;
    const bj = bias ? bias + <usize>j * 4 : 0;
    for (let i = 0; i < mc; i += MR) {
      const mr = min(MR, mc - i);
      const pa = pA + <usize>(i * kc) * 4;
      const cij = c + <usize>i * ldcb + <usize>j * 4;
      if (mr == MR && nr == NR) {
        kernel(kc, pa, pb, cij, ldcb, first, bj);
      } else {
        kernel(kc, pa, pb, tile, NR * 4, true, 0);
        for (let r = 0; r < mr; r++) {
          const cr = cij + <usize>r * ldcb;
          const tr = tile + <usize>(r * NR) * 4;
          for (let q = 0; q < nr; q++) {
            const o = <usize>q * 4;
            let v = load<f32>(tr + o);
            if (!first) v += load<f32>(cr + o);
            else if (bj) v += load<f32>(bj + o);
            store<f32>(cr + o, v);
          }
        }
      }
    }
  }
}

/** Writes one tile row (two vectors) to C: overwrite (+ bias) on the first K block, else accumulate. */
// @ts-ignore: decorator
@inline function storeRow(c: usize, x0: v128, x1: v128, first: bool, bias: usize): void {
  if (first) {
    if (bias) {
      x0 = f32x4.add(x0, v128.load(bias));
      x1 = f32x4.add(x1, v128.load(bias, 16));
    }
  } else {
    x0 = f32x4.add(x0, v128.load(c));
    x1 = f32x4.add(x1, v128.load(c, 16));
  }
  v128.store(c, x0);
  v128.store(c, x1, 16);
}

/** The 4×8 microkernel: tile(4×8) = Apanel[kc][4] · Bpanel[kc][8], in 8 f32x4 accumulators. */
function kernel(kc: i32, pa: usize, pb: usize, c: usize, ldcb: usize, first: bool, bias: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += MR * 4;
    pb += NR * 4;
  }
  storeRow(c, c00, c01, first, bias);
  storeRow(c + ldcb, c10, c11, first, bias);
  storeRow(c + 2 * ldcb, c20, c21, first, bias);
  storeRow(c + 3 * ldcb, c30, c31, first, bias);
}

/** Where JS may start laying out operands (past any static data). */
export function heapBase(): usize {
  return (__heap_base + 63) & ~<usize>63;
}
