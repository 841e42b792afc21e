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

/** Storage buffers pooled by size class and reused across nodes and runs. */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly all = new Set<GPUBuffer>();
  /** Buffers created (not reused) so far; tests read it to check reuse. */
  created = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` bytes (contents undefined). */
  acquire(bytes: number): GPUBuffer {
    const c = sizeClass(bytes);
    const b = this.free.get(c)?.pop();
    if (b) return b;
    this.created++;
    const buf = this.device.createBuffer({ size: c, usage: USAGE });
    this.all.add(buf);
    return buf;
  }

  /** A new device tensor of `dtype` and `shape` with pooled storage. */
  tensor(dtype: DType, shape: readonly number[], pinned = false): GpuTensor {
    return new GpuTensor(dtype, shape, new Storage(this.acquire(sizeOf(shape) * WORD), pinned));
  }

  /** Drops one reference to `t`'s storage; the buffer goes back to the pool at zero (never when pinned). */
  release(t: GpuTensor): void {
    const s = t.storage;
    if (s.pinned || --s.refs > 0) return;
    const list = this.free.get(s.buffer.size) ?? [];
    list.push(s.buffer);
    this.free.set(s.buffer.size, list);
  }

  /** Destroys every buffer this pool created. */
  destroy(): void {
    for (const b of this.all) b.destroy();
    this.all.clear();
    this.free.clear();
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

/** Reads device tensors back to host tensors (one submit, one staging buffer each). */
export async function readback(device: GPUDevice, ts: readonly GpuTensor[]): Promise<Tensor[]> {
  const enc = device.createCommandEncoder();
  const staging = ts.map((t) => {
    const bytes = Math.max(t.size * WORD, WORD);
    const s = device.createBuffer({ size: bytes, usage: USAGE_MAP_READ | USAGE_COPY_DST });
    if (t.size > 0) enc.copyBufferToBuffer(t.buffer, 0, s, 0, t.size * WORD);
    return s;
  });
  device.queue.submit([enc.finish()]);
  const out: Tensor[] = [];
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    const s = staging[i];
    await s.mapAsync(MAP_READ);
    const raw = s.getMappedRange().slice(0, t.size * WORD);
    s.unmap();
    s.destroy();
    const data = allocArray(t.dtype, t.size);
    if (t.dtype === "bool") {
      const u = new Uint32Array(raw);
      for (let k = 0; k < u.length; k++) data[k] = u[k] ? 1 : 0;
    } else data.set(t.dtype === "int32" ? new Int32Array(raw) : new Float32Array(raw));
    out.push(new Tensor(t.dtype, t.shape, data));
  }
  return out;
}
