import { compileModule, decodeModule, instantiate, webAssembly, type WasmMemory } from "../util/wasm-api.js";
import { GEMM_WASM } from "../wasm/gemm.js";
import { jsGemm } from "./js.js";
import type { Gemm, GemmArgs } from "./types.js";

/** The exports of assembly/gemm.ts. */
interface GemmExports {
  readonly memory: WasmMemory;
  gemm(
    M: number, N: number, K: number, a: number, rsa: number, csa: number, b: number, rsb: number, csb: number,
    c: number, ldc: number, bias: number, work: number,
  ): void;
  workBytes(M: number, N: number, K: number): number;
  setBlocking(mc: number, kc: number, nc: number): void;
  heapBase(): number;
}

const PAGE = 65536;
/** Above this many bytes of operands and scratch, a call runs on the portable path instead (wasm32 memory). */
const MAX_BYTES = 2 ** 31;

let bytes: Uint8Array | null = null;
/** The module's bytes, decoded from the generated base64 once (`atob` exists in browsers and Node ≥ 16). */
function gemmWasmBytes(): Uint8Array {
  return (bytes ??= decodeModule("wasm gemm", GEMM_WASM));
}

let simd: boolean | undefined;
/** Whether this runtime can run the WebAssembly SIMD kernels (it validates the module itself). */
export function wasmSimdSupported(): boolean {
  if (simd === undefined) {
    try {
      simd = webAssembly()?.validate(gemmWasmBytes()) ?? false;
    } catch {
      simd = false;
    }
  }
  return simd === true;
}

let module: object | null = null;

/**
 * A GEMM running in one WebAssembly instance: operands are copied into its linear memory (grown as needed,
 * never shrunk), laid out by a bump allocator that is reset on every call, then packed and multiplied by
 * the SIMD microkernel in assembly/gemm.ts. Accumulates in float32, in K blocks of at most 256 terms.
 */
export class WasmGemm implements Gemm {
  readonly path = "wasm-simd" as const;
  private readonly x: GemmExports;
  private readonly base: number;
  private f32: Float32Array;

  constructor() {
    module ??= compileModule("wasm gemm", gemmWasmBytes());
    this.x = instantiate("wasm gemm", module) as GemmExports;
    this.base = this.x.heapBase();
    this.f32 = new Float32Array(this.x.memory.buffer);
  }

  /** Sets the cache blocking of this instance (for tuning; the defaults suit L1 48 KiB / L2 ≥ 1 MiB). */
  setBlocking(mc: number, kc: number, nc: number): void {
    this.x.setBlocking(mc, kc, nc);
  }

  gemm(p: GemmArgs): Float32Array {
    const { M, N, K } = p;
    const count = p.count ?? 1;
    const cLen = count * M * N;
    if (cLen === 0) return new Float32Array(0);
    // Bump allocation, 64-byte aligned: A | B | bias | C | work.
    let top = this.base;
    const alloc = (n: number) => {
      const at = top;
      top = at + Math.ceil((n * 4) / 64) * 64;
      return at;
    };
    const aAt = alloc(p.a.length);
    const bAt = alloc(p.b.length);
    const biasAt = p.bias ? alloc(p.bias.length) : 0;
    const cAt = alloc(cLen);
    const workAt = top;
    top += this.x.workBytes(M, N, K) + 64;
    if (top > MAX_BYTES) return jsGemm.gemm(p);
    this.reserve(top);
    const f = this.f32;
    f.set(p.a, aAt >> 2);
    f.set(p.b, bAt >> 2);
    if (p.bias) f.set(p.bias, biasAt >> 2);
    for (let t = 0; t < count; t++) {
      const ao = p.aOff ? p.aOff[t] : 0;
      const bo = p.bOff ? p.bOff[t] : 0;
      this.x.gemm(M, N, K, aAt + ao * 4, p.rsa, p.csa, bAt + bo * 4, p.rsb, p.csb, cAt + t * M * N * 4, N, biasAt, workAt);
    }
    return f.slice(cAt >> 2, (cAt >> 2) + cLen);
  }

  /** Grows the memory to at least `n` bytes (refreshing the view, which growth detaches). */
  private reserve(n: number): void {
    const mem = this.x.memory;
    if (mem.buffer.byteLength < n) mem.grow(Math.ceil((n - mem.buffer.byteLength) / PAGE));
    if (this.f32.buffer !== mem.buffer) this.f32 = new Float32Array(mem.buffer);
  }
}
