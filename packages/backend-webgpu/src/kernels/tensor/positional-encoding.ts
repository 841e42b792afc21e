/**
 * positional_encoding: x [B, S, D] + PE[S, D], the sinusoidal table of Vaswani et al.:
 * PE[pos, 2i] = sin(pos·ω_i), PE[pos, 2i+1] = cos(pos·ω_i), ω_i = exp(2i · (−ln 10000 / D)).
 *
 * The table is built on the host in double precision and rounded once, like the cpu backend, then the
 * WGSL kernel adds it (one thread per element, broadcast over B). Building it in the shader would need
 * f32 sin/cos of angles up to S radians: f32 rounding of pos·ω alone is ~S·6e-8 rad, and GPU sin/cos are
 * not correctly rounded for large arguments, which breaks the 1e-5 tolerance for long sequences. The
 * table lives in a per-run scratch buffer (destroyed with the run's uniforms), never in the pool, because
 * the host write lands before the whole command buffer and a pooled buffer may still be in use by an
 * earlier dispatch of the same run.
 */
import { GpuTensor, Storage, USAGE_STORAGE } from "../../buffers.js";
import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_UNIFORMS, type Kernel } from "../../kernel.js";

const ADD_TABLE = `${WGSL_UNIFORMS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> PE: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  Y[i] = X[i] + PE[i % u(1u)];
}`;

const LN_10000 = Math.log(10000);

/** The [S, D] sinusoidal table in double, rounded to float32 (an odd D works too). */
function sinusoidalTable(S: number, D: number): Float32Array {
  const pe = new Float32Array(S * D);
  for (let j = 0; j < D; j++) {
    const freq = Math.exp(2 * (j >> 1) * (-LN_10000 / D));
    for (let pos = 0; pos < S; pos++) pe[pos * D + j] = j % 2 === 0 ? Math.sin(pos * freq) : Math.cos(pos * freq);
  }
  return pe;
}

/** positional_encoding: x + PE broadcast over the batch. */
export const positionalEncodingKernel: Kernel = (inputs, attrs, ctx) => {
  const { outputs } = inferOutputs(ctx, inputs, attrs);
  const x = inputs[0]!;
  const [, S, D] = x.shape;
  const y = ctx.pool.tensor("float32", outputs[0].shape);
  if (y.size === 0) return [y];
  const table = sinusoidalTable(S, D);
  const buf = ctx.device.createBuffer({ size: table.byteLength, usage: USAGE_STORAGE, mappedAtCreation: true });
  new Float32Array(buf.getMappedRange()).set(table);
  buf.unmap();
  ctx.scratch.push(buf);
  const pe = new GpuTensor("float32", [S, D], new Storage(buf, true));
  dispatch(ctx, "tensor:positional_encoding", () => ADD_TABLE, [x, pe, y], [y.size, S * D], groupsFor(y.size));
  return [y];
};
