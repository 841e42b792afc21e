import { describe, it } from "vitest";
import { Tensor } from "@attn/core";
import { requireWebGpu } from "./helpers.js";
import { agreeAll, f32, outShape } from "./image-norm-agree.js";

const conv = (stride: number[], padding: number[], dilation: number[], groups: number) => ({ stride, padding, dilation, groups });

if (await requireWebGpu("webgpu image kernels")) {
  describe("conv2d and conv2d_grad match the cpu backend", () => {
    const cases: [string, number[], number[], boolean, ReturnType<typeof conv>][] = [
      // more output channels and taps than one 16×16 tile, so the GEMM walks several tiles each way
      ["multi-tile", [2, 5, 9, 8], [19, 5, 3, 3], true, conv([1, 1], [1, 1], [1, 1], 1)],
      ["depthwise (groups = C)", [2, 6, 7, 7], [12, 1, 3, 3], true, conv([1, 1], [1, 1], [1, 1], 6)],
      ["three groups, stride and dilation", [1, 6, 11, 10], [9, 2, 3, 2], false, conv([2, 3], [2, 1], [2, 2], 3)],
      // stride larger than the kernel: some input pixels feed no output and get dx = 0
      ["stride beyond the kernel", [2, 3, 10, 9], [4, 3, 2, 2], true, conv([3, 4], [0, 0], [1, 1], 1)],
      ["1×1 kernel, padding only", [1, 4, 3, 5], [5, 4, 1, 1], true, conv([1, 1], [2, 1], [1, 1], 1)],
    ];
    for (const [name, xs, ws, bias, a] of cases) {
      it(name, async () => {
        const x = f32(xs, 1);
        const w = f32(ws, 2, -1, 1);
        await agreeAll("conv2d", [x, w, bias ? f32([ws[0]], 3) : null], a);
        await agreeAll("conv2d_grad", [x, w, f32(outShape("conv2d", [xs, ws, null], a), 4)], a);
      });
    }
    it("weight gradient over a long batch × positions reduction", async () => {
      const a = conv([1, 1], [1, 1], [1, 1], 1);
      await agreeAll("conv2d_grad", [f32([4, 2, 24, 24], 5), f32([3, 2, 3, 3], 6), f32([4, 3, 24, 24], 7)], a);
    });
  });

  describe("pooling", () => {
    it("max and avg with overlapping windows and padding, forward and gradient", async () => {
      for (const a of [{ kernel: [3, 3], stride: [1, 1], padding: [1, 1] }, { kernel: [3, 2], stride: [2, 1], padding: [1, 0] }, { kernel: [2, 2], stride: [3, 3], padding: [0, 0] }]) {
        const x = f32([2, 3, 7, 8], 8);
        for (const op of ["max_pool2d", "avg_pool2d"]) {
          await agreeAll(op, [x], a);
          await agreeAll(`${op}_grad`, [x, f32(outShape(op, [[2, 3, 7, 8]], a), 9)], a);
        }
      }
    });
    it("max pooling: ties go to the first maximum, NaN wins, −inf windows", async () => {
      const d = new Float32Array([
        1, 1, 2, 2,
        1, 1, 2, 2,
        5, NaN, -Infinity, -Infinity,
        5, 5, -Infinity, -Infinity,
      ]);
      const x = new Tensor("float32", [1, 1, 4, 4], d);
      const a = { kernel: [2, 2], stride: [1, 1], padding: [0, 0] };
      await agreeAll("max_pool2d", [x], a);
      await agreeAll("max_pool2d_grad", [x, f32([1, 1, 3, 3], 10)], a);
    });
  });

  describe("patches", () => {
    it("patches and patches_grad round-trip a larger image", async () => {
      const x = f32([2, 3, 12, 8], 11);
      await agreeAll("patches", [x], { size: 4 });
      await agreeAll("patches_grad", [x, f32([2, 6, 48], 12)], { size: 4 });
    });
  });
}
