import { WGSL_FLOAT } from "../../kernel.js";

/**
 * WGSL shared by the optimizer kernels. `step` and `lr` are float32 scalars on the device (the trainer
 * keeps the step counter resident and feeds the rate), so they are read in the shader, not the uniforms.
 * A step that is not an integer ≥ 0, or a non-finite rate, makes every output NaN: the CPU backend raises
 * a BackendError there, but a device cannot stop mid-run, and NaN weights are caught by the trainer's
 * finite-loss check on the next step.
 */
export const WGSL_OPTIMIZER = `${WGSL_FLOAT}
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn bad_scalars(step: f32, lr: f32) -> bool {
  return !is_finite(step) || step < 0.0 || step != floor(step) || !is_finite(lr);
}
`;
