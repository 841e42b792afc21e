// Bulk elementwise loops for backend-cpu in WebAssembly SIMD128 (AssemblyScript, `--runtime stub`: every
// pointer is a byte offset into linear memory that the JS side laid out).
//
// Why they exist: in a JavaScript loop over typed arrays passed as arguments, V8 (Node 20) reloads and
// checks each array's map, length and data pointer on every iteration (the loop's interrupt check may
// move an on-heap array), so the optimizers' and losses' loops over 10⁵ elements cost 1–8 ns per element;
// here they run at close to memory speed, the operands copied in and the results out with memcpy.
//
// Each function performs exactly the operations of the portable JS kernel, in the same order and
// precision (f64 where the JS computes in double, rounding once to f32 on store), so results are the
// same, bit for bit, on every kernel path. Two f64 lanes are two independent elements.

import { columnSums, load2, store2 } from "./lib/simd";

/** Where JS may start laying out operands. */
export function heapBase(): usize {
  return (__heap_base + 63) & ~<usize>63;
}

/**
 * Plain Adam (no weight decay, no amsgrad) over n elements, as kernels/training/optimizers.ts:
 *   g = sign·grad; m = β1·m0 + (1 − β1)·g; v = β2·v0 + (1 − β2)·g·g;
 *   p' = p − (stepSize·m) / (sqrt(v) / bc2Sqrt + eps).
 */
export function adam(
  p: usize, g: usize, m0: usize, v0: usize, outP: usize, outM: usize, outV: usize, n: i32,
  beta1: f64, beta2: f64, stepSize: f64, bc2Sqrt: f64, eps: f64, sign: f64,
): void {
  const b1 = f64x2.splat(beta1);
  const c1 = f64x2.splat(1 - beta1);
  const b2 = f64x2.splat(beta2);
  const c2 = f64x2.splat(1 - beta2);
  const ss = f64x2.splat(stepSize);
  const bc = f64x2.splat(bc2Sqrt);
  const ep = f64x2.splat(eps);
  const sg = f64x2.splat(sign);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * 4;
    const gi = f64x2.mul(sg, load2(g + o));
    const m = f64x2.add(f64x2.mul(b1, load2(m0 + o)), f64x2.mul(c1, gi));
    const v = f64x2.add(f64x2.mul(b2, load2(v0 + o)), f64x2.mul(f64x2.mul(c2, gi), gi));
    const den = f64x2.add(f64x2.div(f64x2.sqrt(v), bc), ep);
    store2(outP + o, f64x2.sub(load2(p + o), f64x2.div(f64x2.mul(ss, m), den)));
    store2(outM + o, m);
    store2(outV + o, v);
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const gi = sign * <f64>load<f32>(g + o);
    const m = beta1 * <f64>load<f32>(m0 + o) + (1 - beta1) * gi;
    const v = beta2 * <f64>load<f32>(v0 + o) + (1 - beta2) * gi * gi;
    store<f32>(outP + o, <f32>(<f64>load<f32>(p + o) - (stepSize * m) / (Math.sqrt(v) / bc2Sqrt + eps)));
    store<f32>(outM + o, <f32>m);
    store<f32>(outV + o, <f32>v);
  }
}

/**
 * Σ (x − t)² over n elements in double, in four interleaved partial sums (element i adds to sum i mod 4),
 * combined as (s0 + s1) + (s2 + s3): the order of the JS loop in kernels/training/elementwise-losses.ts.
 */
export function sumSquaredDiff(x: usize, t: usize, n: i32): f64 {
  let a = f64x2.splat(0); // s0, s1
  let b = f64x2.splat(0); // s2, s3
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    const e0 = f64x2.sub(load2(x + o), load2(t + o));
    const e1 = f64x2.sub(load2(x + o + 8), load2(t + o + 8));
    a = f64x2.add(a, f64x2.mul(e0, e0));
    b = f64x2.add(b, f64x2.mul(e1, e1));
  }
  let s0 = f64x2.extract_lane(a, 0);
  let s1 = f64x2.extract_lane(a, 1);
  let s2 = f64x2.extract_lane(b, 0);
  for (; i < n; i++) {
    const e = <f64>load<f32>(x + <usize>i * 4) - <f64>load<f32>(t + <usize>i * 4);
    const k = i & 3;
    if (k == 0) s0 += e * e;
    else if (k == 1) s1 += e * e;
    else s2 += e * e;
  }
  return s0 + s1 + (s2 + f64x2.extract_lane(b, 1));
}

/** dx = w·(2(x − t)), dt = w·(−2(x − t)) over n elements (mse_loss_grad with a scalar weight w). */
export function mseGrad(x: usize, t: usize, dx: usize, dt: usize, n: i32, w: f64): void {
  const wv = f64x2.splat(w);
  const two = f64x2.splat(2);
  const mtwo = f64x2.splat(-2);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * 4;
    const e = f64x2.sub(load2(x + o), load2(t + o));
    store2(dx + o, f64x2.mul(wv, f64x2.mul(two, e)));
    store2(dt + o, f64x2.mul(wv, f64x2.mul(mtwo, e)));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const e = <f64>load<f32>(x + o) - <f64>load<f32>(t + o);
    store<f32>(dx + o, <f32>(w * (2 * e)));
    store<f32>(dt + o, <f32>(w * (-2 * e)));
  }
}

export { columnSums };

/** out = a + b over n float32 elements. */
export function add(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}
