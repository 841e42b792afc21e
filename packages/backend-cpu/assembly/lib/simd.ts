// Helpers shared by the WebAssembly modules (assembly/*.ts import them; this folder is not a module of its
// own): f32 ↔ f64x2 loads and stores, so loops compute in double and round once to float32 on store.

/** Two f32 at p, as an f64x2. */
// @ts-ignore: decorator
@inline export function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** The f64x2 v, rounded to two f32 at p. */
// @ts-ignore: decorator
@inline export function store2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

/** One f32 at p, in lane 0 of an f64x2 (lane 1 zero). */
// @ts-ignore: decorator
@inline export function load1(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load32_zero(p));
}

/** Lane 0 of v, rounded to one f32 at p. */
// @ts-ignore: decorator
@inline export function store1(p: usize, v: v128): void {
  v128.store32_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

/**
 * out[j] = Σ_r x[r·cols + j] in double, r ascending from 0 (a reduction over leading axes; the GRU's bias
 * gradients), into f64 out: the order of the JS loops (kernels/reduce.ts, kernels/gru-gemm.ts `columnSums`).
 */
export function columnSums(x: usize, rows: i32, cols: i32, out: usize): void {
  const rs = <usize>cols * 4;
  let j = 0;
  // Eight columns at a time in four f64x2 accumulators, down every row.
  for (; j + 8 <= cols; j += 8) {
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    let s = x + <usize>j * 4;
    for (let r = 0; r < rows; r++) {
      a0 = f64x2.add(a0, load2(s));
      a1 = f64x2.add(a1, load2(s + 8));
      a2 = f64x2.add(a2, load2(s + 16));
      a3 = f64x2.add(a3, load2(s + 24));
      s += rs;
    }
    const d = out + <usize>j * 8;
    v128.store(d, a0);
    v128.store(d, a1, 16);
    v128.store(d, a2, 32);
    v128.store(d, a3, 48);
  }
  for (; j < cols; j++) {
    let acc: f64 = 0;
    for (let r = 0; r < rows; r++) acc += <f64>load<f32>(x + <usize>r * rs + <usize>j * 4);
    store<f64>(out + <usize>j * 8, acc);
  }
}
