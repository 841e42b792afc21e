import type { FlashKernel } from "../gemm/types.js";
import { compileModule, decodeModule, instantiate, type WasmMemory } from "../util/wasm-api.js";
import { ATTENTION_WASM } from "../wasm/attention.js";
import { DENSE_LAYOUT, headStrides, type FlashLayout } from "./layout.js";

/** The exports of assembly/attention.ts. */
interface FlashExports {
  readonly memory: WasmMemory;
  configure(tq: number, tk: number, d: number, dv: number, scale: number, causal: number, window: number, mask: number, maskRow: number): void;
  rowStrides(q: number, k: number, v: number, o: number, dO: number, dq: number, dk: number, dv: number): void;
  workBytes(backward: number): number;
  heapBase(): number;
  forward(q: number, k: number, v: number, out: number, w: number, lse: number, work: number): void;
  backward(q: number, k: number, v: number, dO: number, dq: number, dk: number, dv: number, work: number): void;
}

const PAGE = 65536;
/** Above this many bytes of wasm memory a call is refused (the caller runs the portable kernel). */
export const FLASH_MAX_BYTES = 2 ** 31 - PAGE;

/**
 * The per-head problem of a flash-attention call: sizes, attributes, and how to fill the mask bytes of
 * one head (`maskRow` 0: one byte per key shared by every query; Tk: one byte per query and key).
 */
export interface FlashProblem {
  readonly heads: number;
  readonly Tq: number;
  readonly Tk: number;
  readonly D: number;
  readonly Dv: number;
  readonly scale: number;
  readonly causal: boolean;
  readonly window: number | null;
  /** Mask bytes per head (0: no mask): Tk (key padding) or Tq·Tk. */
  readonly maskBytes: number;
  /** Writes head h's mask bytes into `dst` (length `maskBytes`, 1 = masked out). */
  readonly fillMask?: (h: number, dst: Uint8Array) => void;
  /** How the operands' heads lie in their arrays (absent: dense, [heads, T, W]). */
  readonly layout?: FlashLayout;
}

let bytes: Uint8Array | null = null;
/** The module's bytes, decoded from the generated base64 once. */
function flashWasmBytes(): Uint8Array {
  return (bytes ??= decodeModule("wasm attention", ATTENTION_WASM));
}
let module: object | null = null;

/**
 * Fused attention in one WebAssembly instance (assembly/attention.ts): one group of heads at a time (one
 * head, unless `p.layout` groups them), its operands copied into linear memory (grown as needed, never
 * shrunk), so wasm memory is O(perGroup·(Tq + Tk)·(D + Dv)) plus a head's weights when they are asked for.
 * A group is contiguous in every operand whatever its layout, so each operand moves with one copy per group
 * and the kernel reads (and writes) the heads' rows in place through row strides. Methods return null when
 * the memory would pass FLASH_MAX_BYTES (the caller then runs the portable kernel).
 */
export class WasmFlash implements FlashKernel {
  private readonly x: FlashExports;
  private readonly base: number;
  private f32: Float32Array;
  private u8: Uint8Array;

  constructor() {
    module ??= compileModule("wasm attention", flashWasmBytes());
    this.x = instantiate("wasm attention", module) as FlashExports;
    this.base = this.x.heapBase();
    this.f32 = new Float32Array(this.x.memory.buffer);
    this.u8 = new Uint8Array(this.x.memory.buffer);
  }

  /** Bytes of wasm memory in use (for tests and tooling). */
  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /**
   * out [heads, Tq, Dv] and, with `weights`, the weights [heads, Tq, Tk], from q [heads, Tq, D],
   * k [heads, Tk, D], v [heads, Tk, Dv] (q, k, v and out laid out as `p.layout` says; the weights and the
   * lse always dense). `lse` (optional, [heads, Tq]) receives each query's natural log-sum-exp (+inf where
   * a query sees no key).
   */
  forward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, weights: boolean, lse?: Float32Array): { out: Float32Array; weights: Float32Array | null } | null {
    const { heads, Tq, Tk, D, Dv } = p;
    const out = new Float32Array(heads * Tq * Dv);
    const w = weights ? new Float32Array(heads * Tq * Tk) : null;
    if (heads === 0 || Tq === 0) return { out, weights: w };
    const L = p.layout ?? DENSE_LAYOUT;
    const G = L.perGroup;
    const sq = headStrides(L, "q", Tq, D);
    const sk = headStrides(L, "k", Tk, D);
    const sv = headStrides(L, "v", Tk, Dv);
    const so = headStrides(L, "out", Tq, Dv);
    const lay = this.plan(p, false, [sq.group, sk.group, sv.group, so.group, weights ? Tq * Tk : 0, lse ? Tq : 0]);
    if (!lay) return null;
    this.x.rowStrides(sq.row, sk.row, sv.row, so.row, Dv, D, D, Dv);
    const [qAt, kAt, vAt, oAt, wAt, lAt] = lay.at;
    for (let g = 0; g * G < heads; g++) {
      const f = this.f32;
      f.set(q.subarray(g * sq.group, (g + 1) * sq.group), qAt >> 2);
      f.set(k.subarray(g * sk.group, (g + 1) * sk.group), kAt >> 2);
      f.set(v.subarray(g * sv.group, (g + 1) * sv.group), vAt >> 2);
      for (let j = 0; j < G; j++) {
        const h = g * G + j;
        this.loadHead(p, h, lay.maskAt);
        this.x.forward(qAt + 4 * j * sq.head, kAt + 4 * j * sk.head, vAt + 4 * j * sv.head, oAt + 4 * j * so.head, wAt, lAt, lay.work);
        if (w) w.set(f.subarray(wAt >> 2, (wAt >> 2) + Tq * Tk), h * Tq * Tk);
        if (lse) lse.set(f.subarray(lAt >> 2, (lAt >> 2) + Tq), h * Tq);
      }
      out.set(f.subarray(oAt >> 2, (oAt >> 2) + so.group), g * so.group);
    }
    return { out, weights: w };
  }

  /** dq, dk, dv of softmax attention given d_out [heads, Tq, Dv] (no d_weights), laid out as `p.layout` says. */
  backward(p: FlashProblem, q: Float32Array, k: Float32Array, v: Float32Array, dOut: Float32Array): { dq: Float32Array; dk: Float32Array; dv: Float32Array } | null {
    const { heads, Tq, Tk, D, Dv } = p;
    const dq = new Float32Array(heads * Tq * D);
    const dk = new Float32Array(heads * Tk * D);
    const dv = new Float32Array(heads * Tk * Dv);
    if (heads === 0 || Tq === 0 || Tk === 0) return { dq, dk, dv };
    const L = p.layout ?? DENSE_LAYOUT;
    const G = L.perGroup;
    const sq = headStrides(L, "q", Tq, D);
    const sk = headStrides(L, "k", Tk, D);
    const sv = headStrides(L, "v", Tk, Dv);
    const sg = headStrides(L, "dOut", Tq, Dv);
    const sdq = headStrides(L, "dq", Tq, D);
    const sdk = headStrides(L, "dk", Tk, D);
    const sdv = headStrides(L, "dv", Tk, Dv);
    const lay = this.plan(p, true, [sq.group, sk.group, sv.group, sg.group, sdq.group, sdk.group, sdv.group]);
    if (!lay) return null;
    this.x.rowStrides(sq.row, sk.row, sv.row, Dv, sg.row, sdq.row, sdk.row, sdv.row);
    const [qAt, kAt, vAt, gAt, dqAt, dkAt, dvAt] = lay.at;
    for (let g = 0; g * G < heads; g++) {
      const f = this.f32;
      f.set(q.subarray(g * sq.group, (g + 1) * sq.group), qAt >> 2);
      f.set(k.subarray(g * sk.group, (g + 1) * sk.group), kAt >> 2);
      f.set(v.subarray(g * sv.group, (g + 1) * sv.group), vAt >> 2);
      f.set(dOut.subarray(g * sg.group, (g + 1) * sg.group), gAt >> 2);
      for (let j = 0; j < G; j++) {
        this.loadHead(p, g * G + j, lay.maskAt);
        this.x.backward(
          qAt + 4 * j * sq.head, kAt + 4 * j * sk.head, vAt + 4 * j * sv.head, gAt + 4 * j * sg.head,
          dqAt + 4 * j * sdq.head, dkAt + 4 * j * sdk.head, dvAt + 4 * j * sdv.head, lay.work,
        );
      }
      dq.set(f.subarray(dqAt >> 2, (dqAt >> 2) + sdq.group), g * sdq.group);
      dk.set(f.subarray(dkAt >> 2, (dkAt >> 2) + sdk.group), g * sdk.group);
      dv.set(f.subarray(dvAt >> 2, (dvAt >> 2) + sdv.group), g * sdv.group);
    }
    return { dq, dk, dv };
  }

  /** Lays out the per-head buffers (float counts in `floats`), the mask and the work area; grows memory. */
  private plan(p: FlashProblem, backward: boolean, floats: number[]): { at: number[]; maskAt: number; work: number } | null {
    let top = this.base;
    const take = (n: number) => {
      const at = top;
      top = at + Math.ceil(n / 64) * 64;
      return at;
    };
    const at = floats.map((n) => (n > 0 ? take(n * 4) : 0));
    const maskAt = p.maskBytes > 0 ? take(p.maskBytes) : 0;
    const win = p.window === null ? -1 : Math.min(p.window, 0x3fffffff);
    this.x.configure(p.Tq, p.Tk, p.D, p.Dv, p.scale, p.causal ? 1 : 0, win, maskAt, p.maskBytes > p.Tk ? p.Tk : 0);
    const work = top;
    top += this.x.workBytes(backward ? 1 : 0);
    if (top > FLASH_MAX_BYTES) return null;
    const mem = this.x.memory;
    if (mem.buffer.byteLength < top) mem.grow(Math.ceil((top - mem.buffer.byteLength) / PAGE));
    if (this.f32.buffer !== mem.buffer) {
      this.f32 = new Float32Array(mem.buffer);
      this.u8 = new Uint8Array(mem.buffer);
    }
    return { at, maskAt, work };
  }

  private loadHead(p: FlashProblem, h: number, maskAt: number): void {
    if (p.maskBytes > 0 && p.fillMask) p.fillMask(h, this.u8.subarray(maskAt, maskAt + p.maskBytes));
  }
}

let shared: WasmFlash | null = null;
/** The shared instance (created on first use). */
export function wasmFlash(): WasmFlash {
  return (shared ??= new WasmFlash());
}
