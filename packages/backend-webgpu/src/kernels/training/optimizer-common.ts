import type { GpuTensor } from "../../buffers.js";
import { valueFromBits } from "../../checks.js";
import { inputName, WGSL_FLOAT, type KernelContext } from "../../kernel.js";
import { checkOptimizerScalars } from "../validate.js";

/**
 * WGSL shared by the optimizer kernels. `step` and `lr` are float32 scalars on the device (the trainer
 * keeps the step counter resident and feeds the rate), so they are read in the shader, not the uniforms.
 * A step that is not an integer ≥ 0, or a non-finite rate, fails the run with the cpu backend's error
 * (see {@link checkScalars}); the shaders still write NaN outputs then, which the failed run neither
 * returns nor copies into the parameters (the run applies its updates only after its checks passed).
 */
export const WGSL_OPTIMIZER = `${WGSL_FLOAT}
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn bad_scalars(step: f32, lr: f32) -> bool {
  return !is_finite(step) || step < 0.0 || step != floor(step) || !is_finite(lr);
}
`;

/**
 * Records the check of an optimizer's `step` (input `stepIndex`, an integer ≥ 0) and `lr` (the next input,
 * finite), with the cpu backend's messages.
 */
export function checkScalars(ctx: KernelContext, step: GpuTensor, lr: GpuTensor, stepIndex: number): void {
  checkOptimizerScalars(ctx, step, lr, (h) =>
    h.code === 1
      ? `${ctx.op}: "${inputName(ctx, stepIndex, "step")}" must hold the number of steps already taken (an integer ≥ 0), got ${valueFromBits(h.bits, step.dtype)}`
      : `${ctx.op}: the learning rate "${inputName(ctx, stepIndex + 1, "lr")}" is ${valueFromBits(h.bits, lr.dtype)}`);
}
