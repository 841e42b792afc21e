import type { Gemm, GemmArgs } from "./types.js";

/**
 * The portable GEMM: plain JavaScript, every dot product accumulated in double and rounded once on store.
 * A row-major B (`csb` 1, matmul; A in any layout) runs i-k-j (B and C read along rows, one double
 * accumulator row); any other B (linear's Wᵀ: `rsb` 1) runs one dot product per output (both operands read
 * along rows when A is row-major). Both sum each output's terms in k order from 0. Results are the same as the kernels' loops before the GEMM core existed, bit for bit.
 */
export const jsGemm: Gemm = {
  path: "js",
  gemm(p: GemmArgs): Float32Array {
    const { M, N } = p;
    const count = p.count ?? 1;
    const c = new Float32Array(count * M * N);
    const acc = new Float64Array(N);
    for (let t = 0; t < count; t++) {
      const ao = p.aOff ? p.aOff[t] : 0;
      const bo = p.bOff ? p.bOff[t] : 0;
      if (p.csb === 1 && !p.bias) rowsIKJ(p, ao, bo, c, t * M * N, acc);
      else dots(p, ao, bo, c, t * M * N);
    }
    return c;
  },
};

/** C rows by i-k-j over a row-major B (double accumulator row); A through its strides. */
function rowsIKJ(p: GemmArgs, ao: number, bo: number, c: Float32Array, co: number, acc: Float64Array): void {
  const { M, N, K, a, b, rsa, csa, rsb } = p;
  for (let i = 0; i < M; i++) {
    acc.fill(0, 0, N);
    const ai = ao + i * rsa;
    for (let k = 0; k < K; k++) {
      const aik = a[ai + k * csa];
      const bk = bo + k * rsb;
      for (let j = 0; j < N; j++) acc[j] += aik * b[bk + j];
    }
    const ci = co + i * N;
    for (let j = 0; j < N; j++) c[ci + j] = acc[j];
  }
}

/** C by one double dot product per element (any strides), plus the bias. */
function dots(p: GemmArgs, ao: number, bo: number, c: Float32Array, co: number): void {
  const { M, N, K, a, b, rsa, csa, rsb, csb } = p;
  const bias = p.bias ?? null;
  for (let i = 0; i < M; i++) {
    const ai = ao + i * rsa;
    const ci = co + i * N;
    for (let j = 0; j < N; j++) {
      const bj = bo + j * csb;
      let s = 0;
      for (let k = 0; k < K; k++) s += a[ai + k * csa] * b[bj + k * rsb];
      c[ci + j] = bias ? s + bias[j] : s;
    }
  }
}
