import type { KernelContext } from "../kernel.js";
import { compileModule, decodeModule, instantiate, type WasmMemory } from "../util/wasm-api.js";
import { GRU_WASM } from "../wasm/gru.js";

/** The exports of assembly/gru.ts. */
interface GruExports {
  readonly memory: WasmMemory;
  heapBase(): number;
  gruGatesForward(gi: number, giStride: number, gh: number, ghStride: number, h: number, out: number, B: number, H: number): void;
  gruGatesBackward(
    gi: number, giStride: number, gh: number, ghStride: number, h: number, hStride: number, dh: number, back: number, dy: number, dyStride: number,
    dgi: number, dgiStride: number, dgh: number, dghStride: number, B: number, H: number,
  ): void;
  columnSums(x: number, rows: number, cols: number, out: number): void;
}

const PAGE = 65536;
/** Above this many bytes a workspace is refused (the GRU kernels then run their JavaScript loops). */
const MAX_BYTES = 2 ** 31 - PAGE;

/**
 * Regions of the GRU module's memory and its gate loops (assembly/gru.ts), which read and write them by
 * byte offset (strides in floats): the formulas of `gatesForward` and `gatesBackward` in
 * kernels/gru-gemm.ts, in double.
 */
export interface GruWorkspace {
  /** Byte offset of each region. */
  readonly at: readonly number[];
  /** Region i as `n` float32s / float64s (a view into wasm memory, valid until the next `workspace`). */
  f32(i: number, n: number): Float32Array;
  f64(i: number, n: number): Float64Array;
  /** The gate loops, called as exported (byte offsets into the workspace's memory). */
  readonly forward: GruExports["gruGatesForward"];
  /** `back` (f32 [B, H]) and `dy` (f32, rows at b·dyStride) are added into dh first where nonzero. */
  readonly backward: GruExports["gruGatesBackward"];
  /** The column sums (double, rows in order) of region i as [rows, cols] float32, into region `out` (f64). */
  columnSums(i: number, rows: number, cols: number, out: number): void;
}

let module: object | null = null;

/**
 * The GRU gate loops in one WebAssembly instance (assembly/gru.ts). A kernel call lays out its workspace
 * (`workspace`: regions from the heap base, memory grown as needed and never shrunk), copies its operands
 * in, runs the loops step by step and reads the results back through views.
 */
export class WasmGruGates {
  private readonly x: GruExports;
  private readonly base: number;

  constructor() {
    module ??= compileModule("wasm gru", decodeModule("wasm gru", GRU_WASM));
    this.x = instantiate("wasm gru", module) as GruExports;
    this.base = this.x.heapBase();
  }

  /** A workspace of regions of `bytes[i]` bytes each (64-byte aligned), or null past wasm32 memory. */
  workspace(bytes: readonly number[]): GruWorkspace | null {
    let top = this.base;
    const at: number[] = [];
    for (const n of bytes) {
      at.push(top);
      top += Math.ceil(n / 64) * 64;
    }
    if (top > MAX_BYTES) return null;
    const x = this.x;
    const mem = x.memory;
    if (mem.buffer.byteLength < top) mem.grow(Math.ceil((top - mem.buffer.byteLength) / PAGE));
    return {
      at,
      f32: (i, n) => new Float32Array(mem.buffer, at[i], n),
      f64: (i, n) => new Float64Array(mem.buffer, at[i], n),
      forward: x.gruGatesForward,
      backward: x.gruGatesBackward,
      columnSums: (i, rows, cols, out) => x.columnSums(at[i], rows, cols, at[out]),
    };
  }
}

let shared: WasmGruGates | null | undefined;

/**
 * The shared GRU gate instance on a wasm kernel path (the threaded one too: the gate loops stay on the
 * calling thread), or null on `"js"`, and where the module cannot be compiled here (older Chromium refuses a
 * synchronous compile of more than 4 KiB on a page's main thread): the GRU kernels then run their
 * JavaScript gate loops.
 */
export function wasmGruGatesFor(ctx: KernelContext): WasmGruGates | null {
  if (ctx.gemm.path === "js") return null;
  if (shared === undefined) {
    try {
      shared = new WasmGruGates();
    } catch {
      shared = null;
    }
  }
  return shared;
}
