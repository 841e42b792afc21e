import { describe, expect, it } from "vitest";
import { Session } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import {
  FASHION_MNIST_SLICE_DIR, compileZooModel, evaluateFashion, hasPretrained, loadFashionMnist, readWeights, zooModel,
} from "../src/index.js";

// The weights that ship in weights/ are the product: these tests check what they do on held-out data.

describe("shipped Fashion-MNIST weights", () => {
  // 500 images (the committed slice; the cards give the full 10,000): the floor is the 91% for the
  // attention classifier, a few points under each variant's measured slice accuracy for the others.
  for (const [name, floor] of [["fashion-attention-pool", 91], ["fashion-hard-attention", 89]] as const) {
    it(`${name} classifies the 500 shipped test images with at least ${floor}% accuracy`, async () => {
      const model = zooModel(name);
      expect(hasPretrained(model)).toBe(true);
      const { graph } = await compileZooModel(model);
      const session = await Session.create(graph, createCpuBackend(), { weights: readWeights(model.weights) });
      const r = await evaluateFashion(session, loadFashionMnist("test", FASHION_MNIST_SLICE_DIR));
      session.dispose();
      expect(r.accuracy).toBeGreaterThanOrEqual(floor);
    });
  }
});
