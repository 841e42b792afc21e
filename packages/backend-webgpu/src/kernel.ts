/// <reference types="webgpu" />
import { BackendError, inferNode, stridesOf, type Attrs, type DType, type Graph, type ShapeEnv } from "@attn/core";
import type { BufferPool, GpuTensor } from "./buffers.js";
import type { CheckHit, CheckSlot } from "./checks.js";

/**
 * Compute pipelines by key: op plus shape class (dtype, variant), never the concrete sizes (those are
 * uniforms). One cache per device, shared by every executable on it: compiling WGSL is the slow part of a
 * first run (SwiftShader takes 0.1–5 s per pipeline), and the same kernels serve every graph.
 */
export class PipelineCache {
  private static readonly byDevice = new WeakMap<GPUDevice, PipelineCache>();
  private readonly cache = new Map<string, GPUComputePipeline>();
  private constructor(private readonly device: GPUDevice) {}
  /** The cache of `device`. */
  static for(device: GPUDevice): PipelineCache {
    let c = PipelineCache.byDevice.get(device);
    if (!c) PipelineCache.byDevice.set(device, (c = new PipelineCache(device)));
    return c;
  }
  get(key: string, wgsl: () => string): GPUComputePipeline {
    let p = this.cache.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: wgsl(), label: key });
      p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" }, label: key });
      this.cache.set(key, p);
    }
    return p;
  }
  get size(): number {
    return this.cache.size;
  }
}

/** What a kernel may use while it records one node. */
export interface KernelContext {
  readonly op: string;
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  /** The run's command encoder: kernels record compute passes into it. */
  readonly encoder: GPUCommandEncoder;
  /** Symbol bindings of this run. */
  readonly env: ShapeEnv;
  /**
   * Scratch buffers of this run, handed to `BufferPool.releaseScratch` when it completes: pooled uniform
   * buffers go back to the pool, any other buffer is destroyed.
   */
  readonly scratch: GPUBuffer[];
  /** Device tensors of `constant` nodes, uploaded once at compile time, by attrs object. */
  readonly constants: ReadonlyMap<Attrs, GpuTensor>;
  /**
   * Whether output `i` of this node is read later in the run or requested (absent: assume every output
   * is). A kernel may return an empty placeholder for an output nobody reads, to skip expensive work
   * (attention skips its [Tq, Tk] weights).
   */
  readonly outputUsed?: (i: number) => boolean;
  /**
   * Records a subgraph (a scan body) on `inputs` into the same encoder; the inputs stay the caller's,
   * and each returned tensor is one new reference the caller must release. Set by the run's recorder.
   */
  readonly runGraph?: (body: Graph, inputs: readonly GpuTensor[]) => GpuTensor[];
  /** Names of the node's input values in the graph (messages name the tensor, as the cpu backend's do). */
  readonly inputNames?: readonly (string | null)[];
  /**
   * Registers a data check of this node (see checks.ts) and returns the status slot its dispatch writes:
   * after the run, a slot with a nonzero code fails the run with `describe(hit)`, located at this node's
   * `.attn` span. `name` tells apart the checks of one node; call once per check dispatch. Set by the
   * run's recorder (absent outside a run, where nothing can be reported).
   */
  readonly check?: (name: string, describe: (hit: CheckHit) => string) => CheckSlot;
}

/** The graph name of input `i` of the node, or `fallback` when the context does not know it. */
export function inputName(ctx: KernelContext, i: number, fallback: string): string {
  return ctx.inputNames?.[i] ?? fallback;
}

/** A flat index as a multi-index of `shape`, `[i, j, …]` (as the cpu backend's messages print positions). */
export function formatIndex(flat: number, shape: readonly number[]): string {
  const st = stridesOf(shape);
  return `[${st.map((s, k) => Math.floor(flat / s) % Math.max(shape[k], 1)).join(", ")}]`;
}

/** A kernel records the work of one node and returns one device tensor per node output. */
export type Kernel = (inputs: readonly (GpuTensor | null)[], attrs: Attrs, ctx: KernelContext) => GpuTensor[];

/** A concrete output type. */
export interface OutputType {
  readonly dtype: DType;
  readonly shape: number[];
}

/** Core's shape function on the concrete input types: normalised attributes and concrete output types. */
export function inferOutputs<A>(ctx: KernelContext, inputs: readonly (GpuTensor | null)[], attrs: Attrs): { attrs: A; outputs: OutputType[] } {
  const types = inputs.map((t) => (t === null ? null : { dtype: t.dtype, shape: t.shape }));
  const r = inferNode(ctx.env, ctx.op, types, attrs);
  const outputs = r.outputs.map((t, i) => ({
    dtype: t.dtype,
    shape: t.shape.map((d, k) => {
      const v = ctx.env.evaluate(d);
      if (v === undefined || v < 0) throw new BackendError(`${ctx.op}: dim ${k} of output ${i} is ${d}, which this run does not bind to a size`);
      return v;
    }),
  }));
  return { attrs: r.attrs as unknown as A, outputs };
}

/** Threads per workgroup of the elementwise kernels. */
export const WG = 64;
const MAX_GROUPS = 65535;

/** Workgroup counts covering `n` threads of `WG` (2-D past 65535 groups); the shader rebuilds the index. */
export function groupsFor(n: number): [number, number] {
  const g = Math.ceil(n / WG);
  if (g <= MAX_GROUPS) return [Math.max(g, 1), 1];
  const y = Math.ceil(g / MAX_GROUPS);
  return [MAX_GROUPS, y];
}

/** The flat thread index in a shader dispatched with {@link groupsFor}. */
export const FLAT_INDEX = `let i = gid.x + gid.y * ${MAX_GROUPS * WG}u;`;

/**
 * Records one dispatch: binding 0 is a uniform buffer holding `uniforms` (u32 words), bindings 1.. are
 * the given tensors' buffers in order (the shader declares their access).
 */
export function dispatch(
  ctx: KernelContext, key: string, wgsl: () => string, tensors: readonly GpuTensor[], uniforms: ArrayLike<number>, groups: readonly [number, number?, number?],
): void {
  const pipeline = ctx.pipelines.get(key, wgsl);
  const words = new Uint32Array(UNIFORM_WORDS);
  if (uniforms.length > UNIFORM_WORDS) throw new BackendError(`${ctx.op}: too many uniform words (${uniforms.length})`);
  for (let k = 0; k < uniforms.length; k++) words[k] = uniforms[k];
  // pooled: the run hands its uniform buffers back when it completes, so steady runs create none
  const ub = ctx.pool.uniform(words);
  ctx.scratch.push(ub);
  const bind = ctx.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: ub } }, ...tensors.map((t, k) => ({ binding: k + 1, resource: { buffer: t.buffer } }))],
  });
  const pass = ctx.encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
  pass.end();
}

/** WGSL element type of a dtype on the device. */
export function wgslType(dtype: DType): string {
  return dtype === "float32" ? "f32" : dtype === "int32" ? "i32" : "u32";
}

/**
 * WGSL helpers shared by kernels: a NaN test on the bits, and infinities / NaN built from bits at run
 * time (WGSL has no literals for them, and a constant bitcast to a non-finite f32 is a shader error).
 */
export const WGSL_FLOAT = `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn neg_inf() -> f32 { var b = 0xff800000u; return bitcast<f32>(b); }
fn pos_inf() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }
fn nan() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
`;

/** Every kernel's uniforms: 32 u32 words (8 vec4s), read in WGSL through `u(k)`. */
export const UNIFORM_WORDS = 32;

/** The WGSL uniform block declared by every kernel. */
export const WGSL_UNIFORMS = `
struct Params { w: array<vec4<u32>, ${UNIFORM_WORDS / 4}> }
@group(0) @binding(0) var<uniform> U: Params;
fn u(k: u32) -> u32 { return U.w[k / 4u][k % 4u]; }
`;

/** The largest rank the strided kernels (broadcasting, transpose) take: their shapes live in the uniforms. */
export const MAX_RANK = 8;
