/**
 * The device-side error channel: how a recorded run reports bad input values.
 *
 * The cpu backend throws as soon as a kernel meets a bad value (an embedding index out of range, a target
 * that is not a class, a probability outside [0, 1], a bad optimizer step or rate, an int32 division by
 * zero). A WebGPU run is one command buffer recorded before any data exists on the host, so a kernel cannot
 * throw; instead the kernels that validate data write a code into a small status buffer, which is read
 * back with the run's results, and the run then throws the error the cpu backend would have thrown.
 *
 * Layout: status words live in pooled 256-byte chunks (the pool's smallest size class), cleared by the
 * encoder when the run first needs them, four words per check site:
 *
 *   [code, flat index, value bits, sequence]
 *
 * code 0 means clean; the check kernel decides what other codes mean and {@link CheckSite.describe} turns
 * them into a message. Only a slot whose code is still 0 is written, so the first failing dispatch of a
 * site wins. A site is one (check call, node, enclosing scan nodes) of the run: a node inside a scan body
 * is recorded once per step but keeps one slot, so the slot count is bounded by the graph and not by the
 * sequence length. The sequence word is the run-wide number of the dispatch that failed: with several
 * slots set, the earliest dispatch is reported, which is the error the cpu backend (executing in the
 * same order) meets first.
 */
import { BackendError, type DType, type Node } from "@attn/core";
import type { BufferPool, GpuTensor } from "./buffers.js";
import { locate } from "./record.js";

/** Words per check site. */
export const SLOT_WORDS = 4;
/** Words per status chunk: 64 u32 = 256 bytes, the pool's smallest buffer. */
export const CHUNK_WORDS = 64;

/** What a failing check recorded on the device. */
export interface CheckHit {
  /** The kernel's code (never 0). */
  readonly code: number;
  /** Flat index of the first offending element (0 for scalar checks). */
  readonly index: number;
  /** The offending element's 32 bits, as stored on the device. */
  readonly bits: number;
}

/** Where one check dispatch writes: bind `status` read_write and pass `word` and `seq` as uniforms. */
export interface CheckSlot {
  /** The status chunk holding this slot. */
  readonly status: GpuTensor;
  /** Index of the slot's first word in `status`. */
  readonly word: number;
  /** Run-wide number of this dispatch (written with a failure; 1-based so that 0 never appears). */
  readonly seq: number;
}

/** One registered check site. */
interface CheckSite {
  readonly slot: Omit<CheckSlot, "seq">;
  /** The message for a hit: the check names the op, the input and the problem, like the cpu backend. */
  readonly describe: (hit: CheckHit) => string;
  /** The node recorded when the check was registered, then its enclosing scan nodes, innermost first. */
  readonly nodes: readonly Node[];
}

/** Reinterprets 32 bits as a float32 (for messages that show the offending value as the cpu does). */
export function f32FromBits(bits: number): number {
  return new Float32Array(Uint32Array.of(bits).buffer)[0];
}

/** Reinterprets 32 bits as an int32. */
export function i32FromBits(bits: number): number {
  return bits | 0;
}

/** The host value of one device word of `dtype` (bool words are 0/1). */
export function valueFromBits(bits: number, dtype: DType): number {
  return dtype === "float32" ? f32FromBits(bits) : dtype === "int32" ? i32FromBits(bits) : bits >>> 0;
}

/** The check sites and status chunks of one run. */
export class CheckChannel {
  private readonly sites: CheckSite[] = [];
  private readonly byKey = new Map<string, CheckSite>();
  private readonly chunks: GpuTensor[] = [];
  private readonly nodeIds = new Map<Node, number>();
  private seq = 0;

  constructor(
    private readonly pool: BufferPool,
    private readonly encoder: GPUCommandEncoder,
  ) {}

  /** Status chunks to read back with the results (empty when nothing in the run validates). */
  get tensors(): readonly GpuTensor[] {
    return this.chunks;
  }

  /**
   * The slot of check `name` of `nodes[0]` (enclosed by `nodes[1..]`), registered on first use. Each call
   * is one dispatch: call once per check dispatch, also when a scan body records the node again.
   */
  slot(name: string, nodes: readonly Node[], describe: (hit: CheckHit) => string): CheckSlot {
    const key = `${nodes.map((n) => this.nodeId(n)).join("/")}:${name}`;
    let site = this.byKey.get(key);
    if (!site) {
      const k = this.sites.length * SLOT_WORDS;
      if (k % CHUNK_WORDS === 0) {
        const chunk = this.pool.tensor("int32", [CHUNK_WORDS]);
        // the pool hands out reused buffers: clear before any check of this run writes
        this.encoder.clearBuffer(chunk.buffer, 0, CHUNK_WORDS * 4);
        this.chunks.push(chunk);
      }
      site = { slot: { status: this.chunks[this.chunks.length - 1], word: k % CHUNK_WORDS }, describe, nodes };
      this.sites.push(site);
      this.byKey.set(key, site);
    }
    return { ...site.slot, seq: ++this.seq };
  }

  /**
   * The error for the earliest failing dispatch, given the chunks read back (in {@link tensors} order),
   * with the failing node's `.attn` span and op as the cpu backend reports them; null when all is clean.
   */
  verdict(words: readonly ArrayLike<number>[]): Error | null {
    let first: { site: CheckSite; hit: CheckHit; seq: number } | null = null;
    this.sites.forEach((site, s) => {
      const chunk = words[Math.floor((s * SLOT_WORDS) / CHUNK_WORDS)];
      const w = site.slot.word;
      const code = chunk[w] >>> 0;
      if (code === 0) return;
      const seq = chunk[w + 3] >>> 0;
      if (!first || seq < first.seq) first = { site, seq, hit: { code, index: chunk[w + 1] >>> 0, bits: chunk[w + 2] >>> 0 } };
    });
    if (!first) return null;
    const { site, hit } = first as { site: CheckSite; hit: CheckHit };
    // located as the cpu backend's recorder does: at the failing node, then out through each scan
    let err: Error = new BackendError(site.describe(hit));
    for (const n of site.nodes) err = locate(err, n);
    return err;
  }

  private nodeId(n: Node): number {
    let id = this.nodeIds.get(n);
    if (id === undefined) this.nodeIds.set(n, (id = this.nodeIds.size));
    return id;
  }
}
