import { WeightsError } from "../errors.js";
import { Tensor, sizeOf } from "../tensor.js";
import type { DType } from "../dtype.js";

/**
 * safetensors read/write (https://github.com/huggingface/safetensors format): an 8-byte little-endian
 * header length, a JSON header `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {} }`,
 * then the raw little-endian bytes. PyTorch state_dicts saved with `safetensors.torch.save_file` load as is.
 *
 * Reading converts F64/F16/BF16 to float32 and I64/I16/I8/U8 to int32 (with a range check), BOOL to bool.
 */

const ELEMENT_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const MAX_HEADER = 100 * 1024 * 1024;

export interface SafetensorsFile {
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
}

/** Parses safetensors bytes. `source` names the file in errors. */
export function readSafetensors(bytes: Uint8Array, source = "weights"): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new WeightsError(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`too short to be a safetensors file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.length) {
    fail(`header length ${headerLen} does not fit in a ${bytes.length}-byte file (is this a safetensors file?)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    return fail(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) fail("header must be a JSON object");
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!info || typeof info !== "object") fail(`entry "${name}" is not an object`);
    const dtype = info.dtype;
    if (typeof dtype !== "string" || !(dtype in ELEMENT_BYTES)) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    const off = info.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLen) fail(`tensor "${name}" ends at byte ${end} but the data section has ${dataLen} bytes (truncated file?)`);
    const n = sizeOf(shape as number[]);
    const width = ELEMENT_BYTES[dtype as string];
    if (end - begin !== n * width) fail(`tensor "${name}" (${dtype}, shape [${(shape as number[]).join(", ")}]) needs ${n * width} bytes, has ${end - begin}`);
    ranges.push([begin, end, name]);
    tensors.set(name, decode(bytes, dataStart + begin, n, dtype as string, shape as number[], name, fail));
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) fail(`tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap`);
  }
  return { tensors, metadata };
}

function decode(bytes: Uint8Array, start: number, n: number, dtype: string, shape: number[], name: string, fail: (m: string) => never): Tensor {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, n * ELEMENT_BYTES[dtype]);
  let out: DType;
  let data: Float32Array | Int32Array | Uint8Array;
  const toInt = (v: number | bigint, i: number) => {
    const x = Number(v);
    if (x > 2147483647 || x < -2147483648) fail(`tensor "${name}" element ${i} (${x}) does not fit in int32`);
    return x;
  };
  switch (dtype) {
    case "F32": case "F64": case "F16": case "BF16": {
      out = "float32";
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        f[i] = dtype === "F32" ? dv.getFloat32(i * 4, true) : dtype === "F64" ? dv.getFloat64(i * 8, true)
          : dtype === "F16" ? halfToFloat(dv.getUint16(i * 2, true)) : bf16ToFloat(dv.getUint16(i * 2, true));
      }
      data = f;
      break;
    }
    case "BOOL": {
      out = "bool";
      data = Uint8Array.from(bytes.subarray(start, start + n), (b) => (b ? 1 : 0));
      break;
    }
    default: {
      out = "int32";
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        a[i] = dtype === "I32" ? dv.getInt32(i * 4, true) : dtype === "I64" ? toInt(dv.getBigInt64(i * 8, true), i)
          : dtype === "I16" ? dv.getInt16(i * 2, true) : dtype === "I8" ? dv.getInt8(i) : dv.getUint8(i);
      }
      data = a;
    }
  }
  return new Tensor(out, shape, data, name);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function bf16ToFloat(b: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, b << 16);
  return buf.getFloat32(0);
}

const WRITE_DTYPE: Record<string, string> = { float32: "F32", int32: "I32", bool: "BOOL" };

/** Serialises tensors (sorted by name, 8-byte aligned header) with optional string metadata. */
export function writeSafetensors(tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const nbytes = t.data.byteLength;
    header[name] = { dtype: WRITE_DTYPE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  while ((8 + enc.encode(json).length) % 8 !== 0) json += " ";
  const hbytes = enc.encode(json);
  const out = new Uint8Array(8 + hbytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.length;
  for (const [, t] of entries) {
    // Typed arrays are little-endian on every platform JS runs on that we target; DataView keeps it explicit.
    const dv = new DataView(out.buffer, pos, t.data.byteLength);
    if (t.dtype === "float32") (t.data as Float32Array).forEach((v, i) => dv.setFloat32(i * 4, v, true));
    else if (t.dtype === "int32") (t.data as Int32Array).forEach((v, i) => dv.setInt32(i * 4, v, true));
    else out.set(t.data as Uint8Array, pos);
    pos += t.data.byteLength;
  }
  return out;
}
