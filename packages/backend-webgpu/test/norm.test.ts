import { describe, it } from "vitest";
import { Tensor } from "@attn/core";
import { requireWebGpu } from "./helpers.js";
import { values } from "./helpers.js";
import { agreeAll, f32 } from "./image-norm-agree.js";

if (await requireWebGpu("webgpu norm kernels")) {
  describe("layer_norm and layer_norm_grad match the cpu backend", () => {
    const both = async (x: Tensor, w: Tensor | null, b: Tensor | null, eps = 1e-5) => {
      await agreeAll("layer_norm", [x, w, b], { eps });
      await agreeAll("layer_norm_grad", [x, w, f32([...x.shape], 99)], { eps });
    };
    it("rows longer than the 64-thread workgroup (several strides, ragged tail)", () => both(f32([3, 2, 200], 1), f32([200], 2), f32([200], 3)));
    it("weight only, bias only, neither", async () => {
      await both(f32([5, 70], 4), f32([70], 5), null, 1e-3);
      await both(f32([5, 70], 6), null, f32([70], 7));
      await both(f32([5, 70], 8), null, null);
    });
    it("a large mean does not cancel the variance (two-pass moments)", () => {
      const d = values(4 * 96, 9, -0.01, 0.01).map((v) => v + 1000);
      return both(new Tensor("float32", [4, 96], d), f32([96], 10), f32([96], 11));
    });
    it("weight and bias gradients summed over many rows", () => both(f32([1000, 7], 12), f32([7], 13), f32([7], 14)));
    it("no rows: empty dx, zero dweight and dbias", () => both(new Tensor("float32", [0, 4], new Float32Array(0)), f32([4], 18), null));
  });
}
