import onnxProto from "onnx-proto";
import type { onnx as OnnxNs } from "onnx-proto";
import type { DType } from "@attn/core";

/** The compiled ONNX schema (protobufjs static code from `onnx-proto`, ONNX 1.10). */
export const onnx: typeof OnnxNs = (onnxProto as unknown as { onnx: typeof OnnxNs }).onnx;
export type { OnnxNs };

/** TensorProto.DataType codes used by the exporter. */
export const ELEM = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

/** The ONNX element type of an IR dtype. */
export function elemType(dtype: DType): number {
  return dtype === "float32" ? ELEM.FLOAT : dtype === "int32" ? ELEM.INT32 : ELEM.BOOL;
}

/** Little-endian bytes of a typed array (copied, so the proto never aliases caller memory). */
export function rawBytes(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
}
