import { describe, expect, it } from "vitest";
import { Tensor } from "@attn/core";
import { compareTensors, decodeTensor } from "../src/index.js";

describe("compareTensors", () => {
  it("accepts values within atol + rtol·|want| and rejects beyond", () => {
    const want = Tensor.from([1, 100, 0]);
    expect(compareTensors(Tensor.from([1 + 1e-5, 100 + 0.0095, 0]), want)).toBeUndefined();
    const msg = compareTensors(Tensor.from([1, 100.02, 0]), want);
    expect(msg).toMatch(/1 of 3 elements differ .* first at \[1\]: got 100\.0199/);
  });
  it("requires non-finite values to match exactly and shapes/dtypes to agree", () => {
    expect(compareTensors(Tensor.from([-Infinity, NaN]), Tensor.from([-Infinity, NaN]))).toBeUndefined();
    expect(compareTensors(Tensor.from([0, NaN]), Tensor.from([-Infinity, NaN]))).toMatch(/first at \[0\]/);
    expect(compareTensors(Tensor.from([[1, 2]]), Tensor.from([1, 2]))).toMatch(/shape \[1, 2\], expected \[2\]/);
    expect(compareTensors(Tensor.from([1], { dtype: "int32" }), Tensor.from([1]))).toMatch(/dtype int32/);
  });
  it("decodes fixture tensors with non-finite markers", () => {
    const t = decodeTensor({ dtype: "float32", shape: [3], data: [1, "-inf", "nan"] }, "t");
    expect(t.data[1]).toBe(-Infinity);
    expect(Number.isNaN(t.data[2])).toBe(true);
    expect(() => decodeTensor({ dtype: "float32", shape: [1], data: ["x"] }, "t")).toThrow(/t: element 0 is "x"/);
  });
});
