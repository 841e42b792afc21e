import type { KernelContext } from "../kernel.js";
import { compileModule, decodeModule, instantiate, type WasmMemory } from "../util/wasm-api.js";
import { ELEMENTWISE_WASM } from "../wasm/elementwise.js";

/** The exports of assembly/elementwise.ts. */
interface ElementwiseExports {
  readonly memory: WasmMemory;
  heapBase(): number;
  adam(
    p: number, g: number, m0: number, v0: number, outP: number, outM: number, outV: number, n: number,
    beta1: number, beta2: number, stepSize: number, bc2Sqrt: number, eps: number, sign: number,
  ): void;
  sumSquaredDiff(x: number, t: number, n: number): number;
  mseGrad(x: number, t: number, dx: number, dt: number, n: number, w: number): void;
  columnSums(x: number, rows: number, cols: number, out: number): void;
  add(a: number, b: number, out: number, n: number): void;
}

const PAGE = 65536;
/** Above this many bytes of operands a call is declined (the caller runs its JS loop). */
const MAX_BYTES = 2 ** 31 - PAGE;

/** Adam's scalars for `WasmElementwise.adam` (see kernels/training/optimizers.ts). */
export interface AdamScalars {
  readonly beta1: number;
  readonly beta2: number;
  readonly stepSize: number;
  readonly bc2Sqrt: number;
  readonly eps: number;
  readonly sign: number;
}

let module: object | null = null;

/**
 * The bulk elementwise loops of assembly/elementwise.ts in one WebAssembly instance: each call copies its
 * operands into linear memory (grown as needed, never shrunk; a bump layout reset on every call), runs,
 * and copies the results out. Results are the same, bit for bit, as the JS kernels' loops. Methods return
 * null when the operands would not fit in wasm32 memory (the caller then runs its own loop).
 */
export class WasmElementwise {
  private readonly x: ElementwiseExports;
  private readonly base: number;
  private f32: Float32Array;
  private f64: Float64Array;

  constructor() {
    module ??= compileModule("wasm elementwise", decodeModule("wasm elementwise", ELEMENTWISE_WASM));
    this.x = instantiate("wasm elementwise", module) as ElementwiseExports;
    this.base = this.x.heapBase();
    this.f32 = new Float32Array(this.x.memory.buffer);
    this.f64 = new Float64Array(this.x.memory.buffer);
  }

  /**
   * Copies `inputs` into memory after one another and reserves `outBytes` more regions; returns the byte
   * offset of each input, then of each output region (64-byte aligned), or null when it would not fit.
   */
  private layout(inputs: readonly Float32Array[], outBytes: readonly number[]): number[] | null {
    let top = this.base;
    const at: number[] = [];
    for (const n of [...inputs.map((a) => a.length * 4), ...outBytes]) {
      at.push(top);
      top += Math.ceil(n / 64) * 64;
    }
    if (top > MAX_BYTES) return null;
    const mem = this.x.memory;
    if (mem.buffer.byteLength < top) mem.grow(Math.ceil((top - mem.buffer.byteLength) / PAGE));
    if (this.f32.buffer !== mem.buffer) {
      this.f32 = new Float32Array(mem.buffer);
      this.f64 = new Float64Array(mem.buffer);
    }
    inputs.forEach((a, i) => this.f32.set(a, at[i] >> 2));
    return at;
  }

  /** The `n` floats at byte offset `at`, copied out. */
  private out(at: number, n: number): Float32Array {
    return this.f32.slice(at >> 2, (at >> 2) + n);
  }

  /** Plain Adam's new param, exp_avg and exp_avg_sq (the JS kernel's common-case loop). */
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, s: AdamScalars): [Float32Array, Float32Array, Float32Array] | null {
    const n = p.length;
    const at = this.layout([p, g, m, v], [n * 4, n * 4, n * 4]);
    if (!at) return null;
    this.x.adam(at[0], at[1], at[2], at[3], at[4], at[5], at[6], n, s.beta1, s.beta2, s.stepSize, s.bc2Sqrt, s.eps, s.sign);
    return [this.out(at[4], n), this.out(at[5], n), this.out(at[6], n)];
  }

  /** Σ (x − t)² in double, in the JS kernel's order (four interleaved partial sums). */
  sumSquaredDiff(x: Float32Array, t: Float32Array): number | null {
    const at = this.layout([x, t], []);
    return at ? this.x.sumSquaredDiff(at[0], at[1], x.length) : null;
  }

  /** mse_loss_grad with a scalar weight w: [w·2(x − t), w·(−2)(x − t)]. */
  mseGrad(x: Float32Array, t: Float32Array, w: number): [Float32Array, Float32Array] | null {
    const n = x.length;
    const at = this.layout([x, t], [n * 4, n * 4]);
    if (!at) return null;
    this.x.mseGrad(at[0], at[1], at[2], at[3], n, w);
    return [this.out(at[2], n), this.out(at[3], n)];
  }

  /** The column sums (double) of x viewed as [rows, cols]: a reduction over its leading axes. */
  columnSums(x: Float32Array, rows: number, cols: number): Float64Array | null {
    const at = this.layout([x], [cols * 8]);
    if (!at) return null;
    this.x.columnSums(at[0], rows, cols, at[1]);
    return this.f64.slice(at[1] >> 3, (at[1] >> 3) + cols);
  }

  /** a + b elementwise (same length). */
  add(a: Float32Array, b: Float32Array): Float32Array | null {
    const n = a.length;
    const at = this.layout([a, b], [n * 4]);
    if (!at) return null;
    this.x.add(at[0], at[1], at[2], n);
    return this.out(at[2], n);
  }
}

let shared: WasmElementwise | null = null;

/**
 * The shared elementwise instance on a wasm kernel path (the threaded one too: these loops are memory
 * bound and stay on the calling thread), or null on `"js"`, whose kernels run their own loops. Below
 * `minLength` elements a call is not worth the copies: null as well.
 */
export function wasmElementwiseFor(ctx: KernelContext, length: number, minLength = 1024): WasmElementwise | null {
  if (ctx.gemm.path === "js" || length < minLength) return null;
  return (shared ??= new WasmElementwise());
}
