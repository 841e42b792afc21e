import { describe, expect, it } from "vitest";
import { readSafetensors, Tensor, writeSafetensors, WeightsError, ShapeError } from "../src/index.js";

describe("Tensor", () => {
  it("builds from nested arrays and checks sizes", () => {
    const t = Tensor.from([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.toNested()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(() => Tensor.from([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => new Tensor("float32", [2, 2], new Float32Array(3), "x")).toThrow(/x: shape \[2, 2\] needs 4 elements, got 3/);
    expect(() => Tensor.from([1.5], { dtype: "int32" })).toThrow(ShapeError);
    expect(Tensor.from([true, false], { dtype: "bool" }).toNested()).toEqual([true, false]);
  });
});

/** A safetensors file written by hand, byte by byte, as the format spec describes (independent of our writer). */
function handWritten(): Uint8Array {
  const header = JSON.stringify({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, i: { dtype: "I64", shape: [1], data_offsets: [8, 16] } });
  const h = new TextEncoder().encode(header);
  const buf = new Uint8Array(8 + h.length + 16);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, h.length, true);
  buf.set(h, 8);
  dv.setFloat32(8 + h.length, 1.5, true);
  dv.setFloat32(8 + h.length + 4, -2, true);
  dv.setInt32(8 + h.length + 8, 7, true);
  return buf;
}

describe("safetensors", () => {
  it("reads a file laid out per the spec, converting I64 to int32", () => {
    const f = readSafetensors(handWritten());
    expect(Array.from(f.tensors.get("w")!.data)).toEqual([1.5, -2]);
    expect(f.tensors.get("i")!.dtype).toBe("int32");
    expect(Array.from(f.tensors.get("i")!.data)).toEqual([7]);
  });
  it("round-trips float32, int32, bool with metadata", () => {
    const t = new Map([
      ["b.weight", Tensor.from([[1, -0.5], [3.25, 1e-8]])],
      ["a.ids", Tensor.from([1, 2, 3], { dtype: "int32" })],
      ["m", Tensor.from([true, false], { dtype: "bool" })],
    ]);
    const bytes = writeSafetensors(t, { format: "pt" });
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ format: "pt" });
    for (const [k, v] of t) {
      expect(back.tensors.get(k)!.shape).toEqual(v.shape);
      expect(Array.from(back.tensors.get(k)!.data)).toEqual(Array.from(v.data));
    }
    // header length is 8-byte aligned, as the reference implementation writes it
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
  });
  it("rejects truncated and malformed files with the file name", () => {
    const good = handWritten();
    expect(() => readSafetensors(good.subarray(0, good.length - 4), "m.safetensors")).toThrow(/m\.safetensors: tensor "i" ends at byte 16/);
    expect(() => readSafetensors(new Uint8Array(4), "x")).toThrow(WeightsError);
    const bad = good.slice();
    bad[8] = "[".charCodeAt(0);
    expect(() => readSafetensors(bad, "x")).toThrow(/header is not valid JSON|header must be a JSON object/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(0, 1_000_000, true);
    expect(() => readSafetensors(huge, "x")).toThrow(/does not fit/);
  });
});
