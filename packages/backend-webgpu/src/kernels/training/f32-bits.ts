/**
 * Float attributes travel to WGSL in the u32 uniform words as their float32 bit pattern (read back with
 * `bitcast<f32>(u(k))`); this is the host half of that round trip.
 */
const F = new Float32Array(1);
const W = new Uint32Array(F.buffer);

/** The float32 bit pattern of `x` (rounded to float32 first), as a u32 uniform word. */
export function f32Bits(x: number): number {
  F[0] = x;
  return W[0];
}
