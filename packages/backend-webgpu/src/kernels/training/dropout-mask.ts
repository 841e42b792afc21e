import type { GpuTensor } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";
import { f32Bits } from "./f32-bits.js";

/**
 * `dropout_mask(x, step)`: 1/(1 − p) where core's counter-based draw `dropoutUniform(step, salt, i)` keeps
 * element i, else 0 (core/src/init/dropout-hash.ts). The draw must be bit-identical to the CPU backend's,
 * so a model trains the same on both: the murmur3 finaliser is the same u32 arithmetic in WGSL (`*` on
 * u32 wraps exactly like Math.imul, and `+` like the host's implicit mod 2³² in fmix32), and the test
 * `h / 2³² ≥ p` is done on integers, `h ≥ ceil(p·2³²)` (exact: p·2³² is exact in double), since h / 2³²
 * is not representable in f32. The keep value 1/(1 − p) is computed on the host in double and rounded
 * once, as the CPU's Float32Array store does. `step` (int32 scalar) stays on the device: the trainer feeds
 * it each step.
 *
 * Uniforms: n, salt (u32), threshold ceil(p·2³²) (u32), whether that threshold is 2³² (nothing kept),
 * keep (f32 bits).
 */

const SHADER = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> STEP: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
fn fmix32(h0: u32) -> u32 {
  var h = h0;
  h ^= h >> 16u;
  h *= 0x85ebca6bu;
  h ^= h >> 13u;
  h *= 0xc2b2ae35u;
  h ^= h >> 16u;
  return h;
}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0u)) { return; }
  let key = fmix32((STEP[0] * 0x9e3779b9u) ^ (u(1u) * 0x85ebca6bu));
  let h = fmix32((key ^ (i * 0xc2b2ae35u)) + 0x27d4eb2fu);
  let kept = u(3u) == 0u && h >= u(2u);
  Y[i] = select(0.0, bitcast<f32>(u(4u)), kept);
}`;

/** dropout_mask(x, step) → float32 mask shaped like x (x's values are not read, only its shape). */
export const dropoutMaskKernel: Kernel = (inputs, attrs, ctx) => {
  const { attrs: a, outputs } = inferOutputs<{ p: number; salt: number }>(ctx, inputs, attrs);
  const step = inputs[1] as GpuTensor;
  const y = ctx.pool.tensor("float32", outputs[0].shape);
  if (y.size === 0) return [y];
  const threshold = Math.ceil(a.p * 2 ** 32);
  const none = threshold >= 2 ** 32 ? 1 : 0;
  dispatch(ctx, "dropout_mask", () => SHADER, [step, y], [y.size, a.salt >>> 0, none ? 0 : threshold, none, f32Bits(1 / (1 - a.p))], groupsFor(y.size));
  return [y];
};
