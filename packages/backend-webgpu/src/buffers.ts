/// <reference types="webgpu" />
import { BackendError, Tensor, allocArray, sizeOf, type DType } from "@attn/core";

/**
 * Device storage: every element is one 32-bit word. float32 is f32, int32 is i32, and bool is u32 0/1
 * (the host keeps bool as one byte; uploads widen and readbacks narrow).
 */
export const WORD = 4;

/** GPUBufferUsage / GPUMapMode bits as numbers: in Node those globals exist only once the `webgpu` package loaded. */
export const USAGE_STORAGE = 0x80;
export const USAGE_UNIFORM = 0x40;
export const USAGE_COPY_SRC = 0x4;
export const USAGE_COPY_DST = 0x8;
export const USAGE_MAP_READ = 0x1;
const MAP_READ = 0x1;
const USAGE = USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST;

/** A GPU buffer shared by a tensor and its views; returned to the pool when the last holder lets go. */
export class Storage {
  refs = 1;
  constructor(
    readonly buffer: GPUBuffer,
    /** Parameters, feeds and constants are pinned: never returned to the pool by the run's releases. */
    readonly pinned: boolean,
  ) {}
}

/** A tensor resident on the device. */
export class GpuTensor {
  readonly size: number;
  constructor(
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly storage: Storage,
  ) {
    this.size = sizeOf(shape);
  }
  get buffer(): GPUBuffer {
    return this.storage.buffer;
  }
  /** The same storage under another shape (reshape, squeeze, unsqueeze, identity). */
  view(shape: readonly number[]): GpuTensor {
    this.storage.refs++;
    return new GpuTensor(this.dtype, shape, this.storage);
  }
}

/** The size class of a byte length: the next power of two, at least 256 bytes. */
export function sizeClass(bytes: number): number {
  let c = 256;
  while (c < bytes) c *= 2;
  return c;
}

/** The three kinds of buffer a pool hands out, each with its own usage flags and free lists. */
export type BufferKind = "storage" | "uniform" | "staging";

const USAGES: Readonly<Record<BufferKind, number>> = {
  storage: USAGE,
  // uniforms are written with queue.writeBuffer, so they need COPY_DST
  uniform: USAGE_UNIFORM | USAGE_COPY_DST,
  staging: USAGE_MAP_READ | USAGE_COPY_DST,
};

/**
 * What a pool holds, counted on every createBuffer and destroy (nothing estimated). A workload that
 * reuses its buffers keeps every figure flat from one run to the next once the pool is warm.
 */
export interface PoolStats {
  /** GPU buffers this pool ever created, of every kind. */
  readonly buffersCreated: number;
  /** The same, by kind: storage (tensors), uniform (kernel sizes), staging (readback). */
  readonly created: Readonly<Record<BufferKind, number>>;
  /** Bytes of every buffer this pool ever created (destroyed ones included). */
  readonly bytesAllocated: number;
  /** Buffers that exist now (created and not destroyed). */
  readonly buffersLive: number;
  /** Bytes of the buffers that exist now: in use plus pooled. */
  readonly bytesLive: number;
  /** Bytes held by tensors, uniforms or readbacks right now (parameters and constants included). */
  readonly bytesInUse: number;
  /** Bytes sitting in the free lists, ready for reuse. */
  readonly bytesPooled: number;
}

/**
 * Every GPU buffer an executable uses, pooled by kind and size class and reused across nodes and runs:
 * storage buffers for tensors, 128-byte uniform buffers for kernel sizes (one per dispatch, returned
 * when the run completes), and mappable staging buffers for readback. Nothing is created per run once
 * the pool is warm, and {@link BufferPool.destroy} releases everything.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly kinds = new Map<GPUBuffer, BufferKind>();
  private readonly createdBy: Record<BufferKind, number> = { storage: 0, uniform: 0, staging: 0 };
  private bytesEver = 0;
  private bytesNow = 0;
  private bytesFree = 0;
  /** Buffers sitting in the free lists: a second give of the same buffer is ignored instead of listing it twice. */
  private readonly idle = new Set<GPUBuffer>();
  /** While a run is open: the buffers it took that are not back yet (see {@link BufferPool.openRun}). */
  private ledger: Set<GPUBuffer> | null = null;

  constructor(private readonly device: GPUDevice) {}

  /** Buffers created (not reused) so far, of every kind; tests read it to check reuse. */
  get created(): number {
    return this.createdBy.storage + this.createdBy.uniform + this.createdBy.staging;
  }

  /** The pool's counters now. */
  stats(): PoolStats {
    return {
      buffersCreated: this.created,
      created: { ...this.createdBy },
      bytesAllocated: this.bytesEver,
      buffersLive: this.kinds.size,
      bytesLive: this.bytesNow,
      bytesInUse: this.bytesNow - this.bytesFree,
      bytesPooled: this.bytesFree,
    };
  }

  private take(kind: BufferKind, bytes: number): GPUBuffer {
    const c = sizeClass(bytes);
    const b = this.free.get(`${kind}:${c}`)?.pop();
    if (b) {
      this.bytesFree -= b.size;
      this.idle.delete(b);
      this.ledger?.add(b);
      return b;
    }
    const buf = this.device.createBuffer({ size: c, usage: USAGES[kind] });
    this.createdBy[kind]++;
    this.bytesEver += c;
    this.bytesNow += c;
    this.kinds.set(buf, kind);
    this.ledger?.add(buf);
    return buf;
  }

  private give(b: GPUBuffer): void {
    const kind = this.kinds.get(b);
    if (!kind) return; // destroyed with the pool, or never ours
    this.ledger?.delete(b);
    if (this.idle.has(b)) return;
    this.idle.add(b);
    const key = `${kind}:${b.size}`;
    const list = this.free.get(key) ?? [];
    list.push(b);
    this.free.set(key, list);
    this.bytesFree += b.size;
  }

  /** A storage buffer of at least `bytes` bytes (contents undefined). */
  acquire(bytes: number): GPUBuffer {
    return this.take("storage", bytes);
  }

  /** A new device tensor of `dtype` and `shape` with pooled storage. */
  tensor(dtype: DType, shape: readonly number[], pinned = false): GpuTensor {
    return new GpuTensor(dtype, shape, new Storage(this.acquire(sizeOf(shape) * WORD), pinned));
  }

  /** Drops one reference to `t`'s storage; the buffer goes back to the pool at zero (never when pinned). */
  release(t: GpuTensor): void {
    const s = t.storage;
    if (s.pinned || --s.refs > 0) return;
    this.give(s.buffer);
  }

  /**
   * A uniform buffer holding `words`, written through the queue (so it lands before any later submit).
   * It stays out of the pool until {@link BufferPool.releaseScratch} (the end of the run).
   */
  uniform(words: Uint32Array): GPUBuffer {
    const b = this.take("uniform", words.byteLength);
    this.device.queue.writeBuffer(b, 0, words);
    return b;
  }

  /**
   * Ends a run's scratch: the pool's uniform and staging buffers go back to the free lists; any other
   * buffer a kernel put there (created outside the pool) is destroyed, as before pooling.
   */
  releaseScratch(buffers: readonly GPUBuffer[]): void {
    for (const b of buffers) {
      if (this.kinds.has(b)) this.give(b);
      else b.destroy();
    }
  }

  /**
   * Starts a run's ledger: every buffer taken from now on is noted until it comes back, so that a run
   * failing partway (a kernel throwing while recording, a data error found after the readback) can hand
   * back everything it still holds through {@link BufferPool.closeRun}, whatever references its
   * half-recorded values kept. Runs are serialised, so one ledger at a time.
   */
  openRun(): void {
    this.ledger = new Set();
  }

  /**
   * Ends the run's ledger. With `reclaim`, every buffer the run took and did not give back returns to the
   * free lists (the run's encoder was either never submitted or has completed, so nothing on the device
   * still uses them), except a staging buffer with a map in flight (a lost device), which is left alone.
   * Returns how many buffers came back that way.
   */
  closeRun(reclaim: boolean): number {
    const out = this.ledger;
    this.ledger = null;
    if (!out || !reclaim) return 0;
    let n = 0;
    for (const b of out) {
      if (b.mapState !== "unmapped") continue;
      this.give(b);
      n++;
    }
    return n;
  }

  /** Reads device tensors back to host tensors: one submit, one pooled staging buffer each. */
  async readback(ts: readonly GpuTensor[]): Promise<Tensor[]> {
    const enc = this.device.createCommandEncoder();
    const staging = ts.map((t) => {
      const s = this.take("staging", Math.max(t.size * WORD, WORD));
      if (t.size > 0) enc.copyBufferToBuffer(t.buffer, 0, s, 0, t.size * WORD);
      return s;
    });
    this.device.queue.submit([enc.finish()]);
    try {
      // every map is requested at once: one wait for the submit, and no staging buffer sits "unmapped"
      // while still awaited (a run's ledger reclaims only unmapped buffers)
      const maps = await Promise.allSettled(staging.map((s) => s.mapAsync(MAP_READ)));
      const failed = maps.find((m) => m.status === "rejected");
      if (failed) {
        for (const s of staging) if (s.mapState === "mapped") s.unmap();
        throw failed.reason;
      }
      return ts.map((t, i) => {
        const s = staging[i];
        const raw = s.getMappedRange().slice(0, t.size * WORD);
        s.unmap();
        return hostTensor(t, raw);
      });
    } finally {
      // a failed map (lost device) leaves the buffer unmapped or pending; either way it can go back
      for (const s of staging) if (s.mapState === "unmapped") this.give(s);
    }
  }

  /** Destroys every buffer this pool created; the counters of live bytes drop to zero. */
  destroy(): void {
    for (const b of this.kinds.keys()) b.destroy();
    this.kinds.clear();
    this.free.clear();
    this.idle.clear();
    this.bytesNow = 0;
    this.bytesFree = 0;
  }
}

/** The 32-bit words of a host tensor, as the device stores them. */
function words(t: Tensor): ArrayBuffer {
  const n = t.size;
  if (t.dtype === "float32") return Float32Array.from(t.data as Float32Array).buffer;
  if (t.dtype === "int32") return Int32Array.from(t.data as Int32Array).buffer;
  if (t.dtype === "bool") {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = t.data[i] ? 1 : 0;
    return out.buffer;
  }
  throw new BackendError(`the webgpu backend stores float32, int32 and bool tensors, not ${t.dtype}`);
}

/** Uploads a host tensor into a new device tensor (copied first: Dawn rejects SharedArrayBuffer views). */
export function upload(device: GPUDevice, pool: BufferPool, t: Tensor, pinned: boolean): GpuTensor {
  const g = pool.tensor(t.dtype, t.shape, pinned);
  writeTensor(device, g, t);
  return g;
}

/** Overwrites a device tensor with a host tensor of the same size. */
export function writeTensor(device: GPUDevice, g: GpuTensor, t: Tensor): void {
  if (t.size > 0) device.queue.writeBuffer(g.buffer, 0, words(t));
}

/** A host tensor of `t`'s dtype and shape from its raw 32-bit words (bool narrows to one byte). */
function hostTensor(t: GpuTensor, raw: ArrayBuffer): Tensor {
  const data = allocArray(t.dtype, t.size);
  if (t.dtype === "bool") {
    const u = new Uint32Array(raw);
    for (let k = 0; k < u.length; k++) data[k] = u[k] ? 1 : 0;
  } else data.set(t.dtype === "int32" ? new Int32Array(raw) : new Float32Array(raw));
  return new Tensor(t.dtype, t.shape, data);
}

/**
 * Reads device tensors back to host tensors. Given a pool, through its pooled staging buffers (counted,
 * see {@link BufferPool.readback}); given a bare device, through throwaway staging buffers destroyed
 * after the copy (for callers without a pool).
 */
export async function readback(from: BufferPool | GPUDevice, ts: readonly GpuTensor[]): Promise<Tensor[]> {
  if (from instanceof BufferPool) return from.readback(ts);
  const pool = new BufferPool(from);
  try {
    return await pool.readback(ts);
  } finally {
    pool.destroy();
  }
}
