/**
 * What every thread of the `"wasm-simd-threads"` path runs: the calling thread for its share, and each
 * worker as its whole program. `threadProgram` must stay **self-contained** (no reference to anything
 * outside its own body but globals): the pool starts a worker from its source text
 * (`threadProgram.toString()`: a `worker_threads` eval worker in Node, a Blob-URL Web Worker in browsers;
 * see host.ts), so the same code loads from the TypeScript sources (tests), from dist and from a bundle,
 * with no file to locate and no bundler step.
 *
 * Shared state (see pool.ts for the calling side):
 * - `ctl` (Int32Array on a SharedArrayBuffer): the claim word `(generation << 16) | next chunk`, the chunk
 *   count, the done counter, the error flag, the arena's size, the stop flag, the chunks workers ran, the
 *   workers started and the error text's length (slots below);
 * - `params` (Float64Array on a SharedArrayBuffer): the job (kind, sizes, arena offsets);
 * - the arena (a shared `WebAssembly.Memory`, used as plain shared bytes): operands in, results out. The
 *   calling thread grows it when a job needs more and records its size in `ctl`; a thread that sees a new
 *   size takes fresh views of the same memory. Growing a shared memory is seen by every thread with no
 *   message, which matters in browsers: a Web Worker cannot receive a message synchronously, and the
 *   workers never return to their event loop once they serve;
 * - `errText` (a Uint16Array on a SharedArrayBuffer): the first failing worker's message, as UTF-16 code
 *   units, for the calling thread to rethrow (no message port needed, for the same reason).
 * Each thread has its own instances of the GEMM and attention modules, built to import a shared memory
 * (scripts/build-wasm.mjs) and instantiated on the arena itself: a chunk reads its operands where the
 * calling thread put them and writes its results in place, through the kernels' strides. Below the
 * modules' heap base the arena holds their static data; each thread's scratch (packed operands, tiles) is
 * its own slot of the job's layout (params SCRATCH + index · SCRATCH_BYTES).
 */

/** The layout of the control block and of the job parameters (mirrored as constants in pool.ts). */
export const CTL = { CLAIM: 0, N: 1, DONE: 2, ERR: 3, ARENA: 4, STOP: 5, WORKER_CHUNKS: 6, READY: 7, ERR_LEN: 8, LOADED: 9, SIZE: 16 } as const;
/** Job kinds. */
export const JOB = { GEMM: 1, ATT_FWD: 2, ATT_BWD: 3, FAULT: 9 } as const;
/** Slots of `params`. */
export const P = {
  KIND: 0,
  SERIAL: 1,
  // GEMM
  M: 2, N: 3, K: 4, A: 5, RSA: 6, CSA: 7, B: 8, RSB: 9, CSB: 10, BIAS: 11, C: 12, COUNT: 13, AOFFS: 14, BOFFS: 15,
  COLS: 16, PARTS: 17, BLOCK: 18,
  // attention
  TQ: 2, TK: 3, D: 4, DV: 5, SCALE: 6, CAUSAL: 7, WINDOW: 8, MASK_BYTES: 9, MASK_ROW: 10, MASK: 11, Q: 12, KK: 13,
  V: 14, DO: 15, OUT: 16, W: 17, LSE: 18, QSPLIT: 19, DQ: 20, DK: 21, DVV: 22,
  // the operands' head layout (flash/layout.ts): heads per group, and a bit per interleaved operand (FLASH_BITS)
  PER_GROUP: 23, INTERLEAVED: 24,
  // forward chunks: heads before TAIL run whole, each later head in QSPLIT query ranges (pool.ts: forwardBatch)
  TAIL: 25,
  // every job: each thread's scratch in the arena (bytes): thread i's at SCRATCH + i · SCRATCH_BYTES
  SCRATCH: 26, SCRATCH_BYTES: 27,
  // every job but FAULT: where chunk i leaves the job's serial once its results are in the arena (Int32 slot FLAGS + i)
  FLAGS: 28,
  // fault (tests)
  FAULT_CHUNK: 2,
  SIZE: 32,
} as const;

/** The bit of each flash operand in `params[P.INTERLEAVED]` (set: the operand is stored [..., T, H, W]). */
export const FLASH_BITS = { q: 1, k: 2, v: 4, out: 8, dOut: 16, dq: 32, dk: 64, dv: 128 } as const;

/** What a thread is given. */
export interface ThreadInit {
  /** The shared-memory builds of the GEMM and attention modules (they import the arena as env.memory). */
  readonly gemmModule: object;
  readonly flashModule: object;
  /** This thread's index: 0 for the calling thread, 1… for the workers (its scratch slot). */
  readonly index: number;
  readonly ctl: Int32Array;
  readonly params: Float64Array;
  /** The shared arena memory (its size in bytes is `ctl[CTL.ARENA]`): a shared `WebAssembly.Memory`. */
  readonly arena: { readonly buffer: ArrayBufferLike };
  /** Where a failing worker writes its message (UTF-16 code units; the length goes to `ctl[CTL.ERR_LEN]`). */
  readonly errText: Uint16Array;
}

/** A thread's runner. */
export interface ThreadRunner {
  /** Runs chunk `idx` of the current job (errors propagate). */
  chunk(idx: number): void;
  /** Claims and runs chunks of the current job until none is left (errors go to `onError`). */
  drain(onError: (e: unknown) => void): void;
  /** Where a job's layout may start in the arena (bytes): past both modules' static data, 64-aligned. */
  readonly heapBase: number;
  /** Scratch bytes one thread needs for a GEMM chunk of Mc×Nc×K (`packed`: plus all of a K×N B, packed). */
  gemmScratch(Mc: number, Nc: number, K: number, packed: boolean): number;
  /** Scratch bytes one thread needs for an attention head of this shape, forward (plus Tq floats of log-sum-exp) or backward. */
  flashScratch(Tq: number, Tk: number, D: number, Dv: number, backward: boolean): number;
  /** The worker loop: waits for jobs (blocking in `Atomics.wait`) and runs chunks until the stop flag is set. */
  serve(): void;
}

export function threadProgram(init: ThreadInit): ThreadRunner {
  // Constants repeated here on purpose: this function's text is all a worker gets.
  const CLAIM = 0, NCH = 1, DONE = 2, ERR = 3, ARENA = 4, STOP = 5, WORKER_CHUNKS = 6, READY = 7, ERR_LEN = 8, LOADED = 9;
  const GEMM = 1, ATT_FWD = 2, ATT_BWD = 3, FAULT = 9;
  const BQ = 64;
  // How long an idle worker polls for the next job before it sleeps in Atomics.wait: a job that follows
  // soon (the next node of a graph, the next call of a loop) then starts without a futex wake-up, which
  // on a busy or virtualised machine can cost more than a small job's whole run.
  const SPIN_MS = 2;

  interface GemmX {
    gemm(M: number, N: number, K: number, a: number, rsa: number, csa: number, b: number, rsb: number, csb: number, c: number, ldc: number, bias: number, work: number): void;
    gemmPacked(M: number, N: number, K: number, a: number, rsa: number, csa: number, packed: number, c: number, ldc: number, bias: number, work: number): void;
    packB(N: number, K: number, b: number, rsb: number, csb: number, dst: number): void;
    packedBBytes(N: number, K: number): number;
    workBytes(M: number, N: number, K: number): number;
    heapBase(): number;
  }
  interface FlashX {
    configure(tq: number, tk: number, d: number, dv: number, scale: number, causal: number, window: number, mask: number, maskRow: number): void;
    rowStrides(q: number, k: number, v: number, o: number, dO: number, dq: number, dk: number, dv: number): void;
    workBytes(backward: number): number;
    heapBase(): number;
    forwardRange(q: number, k: number, v: number, out: number, w: number, lse: number, work: number, b0: number, b1: number, packKV: number): void;
    backward(q: number, k: number, v: number, dO: number, dq: number, dk: number, dv: number, work: number): void;
  }
  interface Wa { Instance: new (m: object, imports: object) => { readonly exports: unknown } }
  const wa = (globalThis as unknown as { WebAssembly: Wa }).WebAssembly;
  const imports = (what: string) => ({ env: { memory: init.arena, abort: () => { throw new Error(`${what}: abort`); } } });
  const gx = new wa.Instance(init.gemmModule, imports("wasm gemm")).exports as GemmX;
  const fx = new wa.Instance(init.flashModule, imports("wasm attention")).exports as FlashX;
  const heapBase = Math.max(gx.heapBase(), fx.heapBase());
  const ctl = init.ctl;
  const prm = init.params;
  let au8 = new Uint8Array(init.arena.buffer);
  let af64 = new Float64Array(au8.buffer);
  let ai32 = new Int32Array(au8.buffer);
  // The packed B in this thread's scratch (row chunks of one product share it): job serial and product.
  let bSerial = -1;
  let bProduct = -1;
  // The head whose keys and values lie packed in this thread's scratch (flash `packKV`): job serial and head.
  let fSerial = -1;
  let fHead = -1;

  /** Takes fresh views of the arena when the calling thread has grown it (one load when it has not). */
  function syncArena(): void {
    const bytes = Atomics.load(ctl, ARENA);
    if (au8.byteLength === bytes) return;
    const buf = init.arena.buffer;
    if (buf.byteLength < bytes) throw new Error(`the arena grew to ${bytes} bytes, but this thread sees ${buf.byteLength}`);
    au8 = new Uint8Array(buf, 0, bytes);
    af64 = new Float64Array(buf, 0, bytes >> 3);
    ai32 = new Int32Array(buf, 0, bytes >> 2);
  }

  /** This thread's scratch in the arena (bytes, 64-aligned). */
  const scratch = (): number => prm[26] + init.index * prm[27];
  const up64 = (n: number) => Math.ceil(n / 64) * 64;

  function gemmScratch(Mc: number, Nc: number, K: number, packed: boolean): number {
    return (packed ? up64(gx.packedBBytes(Nc, K)) : 0) + up64(gx.workBytes(Mc, Nc, K));
  }

  function gemmChunk(idx: number): void {
    const M = prm[2], N = prm[3], K = prm[4], a = prm[5], rsa = prm[6], csa = prm[7], b = prm[8], rsb = prm[9], csb = prm[10];
    const bias = prm[11], c = prm[12], aOffs = prm[14], bOffs = prm[15], cols = prm[16] !== 0, parts = prm[17], block = prm[18];
    const serial = prm[1];
    const t = Math.floor(idx / parts);
    const part = idx - t * parts;
    const ao = aOffs >= 0 ? af64[aOffs + t] : 0;
    const bo = bOffs >= 0 ? af64[bOffs + t] : 0;
    const m0 = cols ? 0 : part * block;
    const Mc = cols ? M : Math.min(M, m0 + block) - m0;
    const n0 = cols ? part * block : 0;
    const Nc = cols ? Math.min(N, n0 + block) - n0 : N;
    if (Mc <= 0 || Nc <= 0) return;
    // Element offsets in the arena of this chunk's A rows, B columns and C block; footprint ends for `loaded`.
    const aStart = a + ao + m0 * rsa;
    const bStart = b + bo + n0 * csb;
    const aEnd = K > 0 ? aStart + (Mc - 1) * rsa + (K - 1) * csa + 1 : 0;
    const bEnd = K > 0 ? bStart + (K - 1) * rsb + (Nc - 1) * csb + 1 : 0;
    loaded(Math.max(aEnd, bEnd));
    const cAt = c + t * M * N + m0 * N + n0;
    const biasAt = bias >= 0 ? 4 * (bias + n0) : 0;
    // Row blocks share their product's B: it is packed once per thread into its scratch (packB) and read
    // from there by the thread's later row blocks of the same product. Column blocks each have their own B.
    const at = scratch();
    if (cols) {
      gx.gemm(Mc, Nc, K, 4 * aStart, rsa, csa, 4 * bStart, rsb, csb, 4 * cAt, N, biasAt, at);
      return;
    }
    const work = at + up64(gx.packedBBytes(N, K));
    if (serial !== bSerial || t !== bProduct) {
      gx.packB(N, K, 4 * bStart, rsb, csb, at);
      bSerial = serial;
      bProduct = t;
    }
    gx.gemmPacked(Mc, Nc, K, 4 * aStart, rsa, csa, at, 4 * cAt, N, biasAt, work);
  }

  function flashScratch(Tq: number, Tk: number, D: number, Dv: number, backward: boolean): number {
    fx.configure(Tq, Tk, D, Dv, 1, 0, -1, 0, 0); // workBytes depends on the sizes only
    return up64(fx.workBytes(backward ? 1 : 0)) + (backward ? 0 : up64(4 * Tq));
  }

  /** Configures the attention instance for head h of the job: sizes, attributes, its mask in the arena. */
  function configure(h: number): void {
    const mb = prm[9];
    fx.configure(prm[2], prm[3], prm[4], prm[5], prm[6], prm[7], prm[8], mb > 0 ? prm[11] + h * mb : 0, prm[10]);
  }

  /**
   * One flash operand's strides (floats) within its group of `G` heads (flash/layout.ts, repeated here):
   * dense [G, T, W] or, when its bit is set in params[P.INTERLEAVED], interleaved [T, G, W].
   */
  function strides(bit: number, T: number, W: number): { group: number; head: number; row: number } {
    const G = prm[23];
    return (prm[24] & bit) !== 0 ? { group: G * T * W, head: W, row: G * W } : { group: G * T * W, head: T * W, row: W };
  }

  /**
   * Forward chunk `idx` → head h and query blocks b0 ≤ b < b1: heads before `tail` are one chunk each, later
   * heads `parts` chunks each, cut where the tiles visited (causal / window) are split evenly, so the small
   * last chunks let a thread that finishes early take over the end instead of waiting on a whole head.
   */
  function forwardPart(idx: number, tail: number, parts: number, Tq: number, Tk: number, causal: boolean, win: number): { h: number; b0: number; b1: number } {
    const nQ = Math.ceil(Tq / BQ);
    if (idx < tail) return { h: idx, b0: 0, b1: nQ };
    const h = tail + Math.floor((idx - tail) / parts);
    const part = idx - tail - (h - tail) * parts;
    if (parts === 1) return { h, b0: 0, b1: nQ };
    // tiles of each query block (the kernel's keyLo / keyHi), at least one: every block has a fixed cost
    const cost = (b: number): number => {
      const i0 = b * BQ;
      const last = Math.min(Tq, i0 + BQ) - 1;
      const lo = win >= 0 ? Math.max(0, i0 - win) : 0;
      const hi = causal ? Math.min(Tk, last + 1) : win >= 0 ? Math.min(Tk, last + win + 1) : Tk;
      return Math.max(1, Math.ceil(hi / BQ) - Math.floor(lo / BQ));
    };
    let total = 0;
    for (let b = 0; b < nQ; b++) total += cost(b);
    // block boundaries: the first block whose cumulative cost reaches part/parts of the total
    const edge = (p: number): number => {
      if (p <= 0) return 0;
      if (p >= parts) return nQ;
      let acc = 0;
      for (let b = 0; b < nQ; b++) {
        if (acc * parts >= p * total) return b;
        acc += cost(b);
      }
      return nQ;
    };
    return { h, b0: edge(part), b1: edge(part + 1) };
  }

  // A chunk runs its head in place: the operands' rows are read from the arena and the results written there,
  // through the row strides of their layout.
  function forwardChunk(idx: number): void {
    const Tq = prm[2], Tk = prm[3], D = prm[4], Dv = prm[5], qs = prm[19], G = prm[23];
    const q = prm[12], k = prm[13], v = prm[14], out = prm[16], w = prm[17], lse = prm[18];
    const { h, b0, b1 } = forwardPart(idx, prm[25], qs, Tq, Tk, prm[7] !== 0, prm[8]);
    if (b1 <= b0) return;
    loaded(Math.floor(h / G) + 1);
    const g = Math.floor(h / G);
    const j = h - g * G;
    const sq = strides(1, Tq, D), sk = strides(2, Tk, D), sv = strides(4, Tk, Dv), so = strides(8, Tq, Dv);
    const at = (base: number, s: { group: number; head: number }) => 4 * (base + g * s.group + j * s.head);
    configure(h);
    fx.rowStrides(sq.row, sk.row, sv.row, so.row, Dv, D, D, Dv);
    // The keys and values stay packed in the scratch from this thread's last chunk of the same head.
    const packKV = fSerial === prm[1] && fHead === h ? 0 : 1;
    fSerial = prm[1];
    fHead = h;
    fx.forwardRange(at(q, sq), at(k, sk), at(v, sv), at(out, so), w >= 0 ? 4 * (w + h * Tq * Tk) : 0, lse >= 0 ? 4 * (lse + h * Tq) : 0, scratch(), b0, b1, packKV);
  }

  function backwardChunk(h: number): void {
    const Tq = prm[2], Tk = prm[3], D = prm[4], Dv = prm[5], G = prm[23];
    const q = prm[12], k = prm[13], v = prm[14], dO = prm[15], dq = prm[20], dk = prm[21], dv = prm[22];
    const g = Math.floor(h / G);
    const j = h - g * G;
    loaded(g + 1);
    const sq = strides(1, Tq, D), sk = strides(2, Tk, D), sv = strides(4, Tk, Dv), sg = strides(16, Tq, Dv);
    const sdq = strides(32, Tq, D), sdk = strides(64, Tk, D), sdv = strides(128, Tk, Dv);
    const at = (base: number, s: { group: number; head: number }) => 4 * (base + g * s.group + j * s.head);
    configure(h);
    fx.rowStrides(sq.row, sk.row, sv.row, Dv, sg.row, sdq.row, sdk.row, sdv.row);
    fSerial = -1; // the backward's layout of the scratch overwrites the forward's packed keys and values
    fx.backward(at(q, sq), at(k, sk), at(v, sv), at(dO, sg), at(dq, sdq), at(dk, sdk), at(dv, sdv), scratch());
  }

  /**
   * Waits until the calling thread has copied enough of the job's operands into the arena: it publishes a
   * job first and copies its operands while the workers start. `ctl[LOADED]` counts what is in: the head
   * groups copied (attention), or the arena offset (floats) below which every operand is in (GEMM, whose
   * operands are laid out in the order they are copied); a job with nothing to copy sets it to its maximum.
   * Only workers ever wait here.
   */
  function loaded(upTo: number): void {
    for (let spins = 0; ; spins++) {
      const l = Atomics.load(ctl, LOADED);
      if (l >= upTo) return;
      if (spins > 1000) Atomics.wait(ctl, LOADED, l, 1);
    }
  }

  function chunk(idx: number): void {
    const kind = prm[0];
    if (kind === GEMM) gemmChunk(idx);
    else if (kind === ATT_FWD) forwardChunk(idx);
    else if (kind === ATT_BWD) backwardChunk(idx);
    else if (kind === FAULT) {
      if (idx === prm[2]) throw new Error(`injected fault in chunk ${idx}`);
      return;
    } else throw new Error(`unknown job kind ${kind}`);
    // The chunk's results are in the arena: the calling thread may copy them out before the job ends.
    Atomics.store(ai32, prm[28] + idx, prm[1]);
  }

  /** Claims the next chunk of the current job: its index, or -1 when none is left (`w` out: the claim word seen). */
  function claim(seen: { w: number }): number {
    for (;;) {
      const w = Atomics.load(ctl, CLAIM);
      seen.w = w;
      const n = Atomics.load(ctl, NCH);
      const idx = w & 0xffff;
      if (idx >= n) return -1;
      if (Atomics.compareExchange(ctl, CLAIM, w, w + 1) === w) return idx;
    }
  }

  function finish(): void {
    if (Atomics.add(ctl, DONE, 1) + 1 >= Atomics.load(ctl, NCH)) Atomics.notify(ctl, DONE);
  }

  const seen = { w: 0 };
  function drain(onError: (e: unknown) => void): void {
    try {
      syncArena();
    } catch (e) {
      Atomics.store(ctl, ERR, 1);
      onError(e);
    }
    for (;;) {
      const idx = claim(seen);
      if (idx < 0) return;
      try {
        if (Atomics.load(ctl, ERR) === 0) chunk(idx);
      } catch (e) {
        Atomics.store(ctl, ERR, 1);
        onError(e);
      }
      finish();
    }
  }

  function serve(): void {
    // The first error of a job claims the flag and leaves its message; later ones only count.
    const report = (e: unknown) => {
      if (Atomics.compareExchange(ctl, ERR, 0, 1) !== 0) return;
      const err = e as { message?: unknown } | null;
      const text = String(err?.message ?? e);
      const n = Math.min(text.length, init.errText.length);
      for (let i = 0; i < n; i++) init.errText[i] = text.charCodeAt(i);
      Atomics.store(ctl, ERR_LEN, n);
    };
    Atomics.add(ctl, READY, 1);
    for (;;) {
      if (Atomics.load(ctl, STOP) !== 0) return;
      const idx = claim(seen);
      if (idx < 0) {
        const until = performance.now() + SPIN_MS;
        while (Atomics.load(ctl, CLAIM) === seen.w && Atomics.load(ctl, STOP) === 0 && performance.now() < until);
        Atomics.wait(ctl, CLAIM, seen.w);
        continue;
      }
      try {
        syncArena();
        if (Atomics.load(ctl, ERR) === 0) chunk(idx);
      } catch (e) {
        report(e);
      }
      Atomics.add(ctl, WORKER_CHUNKS, 1);
      finish();
    }
  }

  return { chunk, drain, heapBase: Math.ceil(heapBase / 64) * 64, gemmScratch, flashScratch, serve };
}
