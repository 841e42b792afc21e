import { describe, expect, it } from "vitest";
import { ShapeError, Tensor, accuracy, binaryAccuracy, mergeAccuracy, tokenAccuracy } from "../src/index.js";

const ints = (v: number[], shape?: number[]) => Tensor.from(v, { dtype: "int32", shape: shape ?? [v.length] });

describe("classification metrics", () => {
  const logits = Tensor.from([
    [0.1, 2, -1], // 1
    [3, 3, 0], // tie: first index, 0
    [-1, -2, -0.5], // 2
    [0, Number.NaN, 5], // NaN counts as the maximum (as the argmax op): 1
  ]);

  it("accuracy compares the argmax of the last axis with int32 targets", () => {
    expect(accuracy(logits, ints([1, 0, 0, 1]))).toEqual({ correct: 3, total: 4, accuracy: 0.75 });
    expect(accuracy(logits, ints([1, 1, 2, 2]))).toEqual({ correct: 2, total: 4, accuracy: 0.5 });
  });

  it("accuracy skips ignore_index targets", () => {
    expect(accuracy(logits, ints([1, -1, 0, -1]), { ignoreIndex: -1 })).toEqual({ correct: 1, total: 2, accuracy: 0.5 });
    expect(accuracy(logits, ints([-1, -1, -1, -1]), { ignoreIndex: -1 })).toEqual({ correct: 0, total: 0, accuracy: 0 });
  });

  it("token accuracy on [B, T, V] ignores −100 padding by default", () => {
    // B=2, T=3, V=2; predictions: [[0, 1, 1], [0, 0, 1]]
    const x = Tensor.from([[[2, 1], [0, 1], [-1, 3]], [[5, 4], [1, 1], [0, 0.5]]]);
    const t = ints([0, 1, -100, 1, 0, -100], [2, 3]);
    expect(tokenAccuracy(x, t)).toEqual({ correct: 3, total: 4, accuracy: 0.75 });
    expect(tokenAccuracy(x, ints([0, 1, 1, 0, 0, 0], [2, 3]), { ignoreIndex: 0 })).toEqual({ correct: 2, total: 2, accuracy: 1 });
  });

  it("binary accuracy thresholds logits at 0 (or a given threshold) against targets ≥ 0.5", () => {
    const x = Tensor.from([2, -1, 0.3, -0.2]);
    expect(binaryAccuracy(x, Tensor.from([1, 0, 0, 0]))).toEqual({ correct: 3, total: 4, accuracy: 0.75 });
    expect(binaryAccuracy(x, Tensor.from([1, 0, 0, 0]), { threshold: 0.5 }).correct).toBe(4);
  });

  it("mergeAccuracy sums the counts of batches", () => {
    expect(mergeAccuracy([{ correct: 3, total: 4, accuracy: 0.75 }, { correct: 1, total: 4, accuracy: 0.25 }])).toEqual({ correct: 4, total: 8, accuracy: 0.5 });
    expect(mergeAccuracy([]).accuracy).toBe(0);
  });

  it("rejects shape and dtype mismatches", () => {
    expect(() => accuracy(logits, ints([1, 0, 0]))).toThrow(ShapeError);
    expect(() => accuracy(logits, Tensor.from([1, 0, 0, 1]))).toThrow(/int32/);
    expect(() => tokenAccuracy(Tensor.from([[[1, 2]]]), ints([0], [1]))).toThrow(/without its last \(class\) dim/);
    expect(() => binaryAccuracy(Tensor.from([1, 2]), Tensor.from([1]))).toThrow(ShapeError);
  });
});
