import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, Trainer, buildTrainingGraph, dropoutUniform, withTrainingDropout, type Graph } from "@attn/core";
import { createCpuBackend } from "../src/index.js";

function model(p: number): Graph {
  const b = new GraphBuilder("m");
  const x = b.input("x", { dtype: "float32", shape: ["B", 64] });
  const w = b.param("fc.weight", { dtype: "float32", shape: [1, 64] }, { kind: "uniform", bound: 0.1 });
  b.output("y", b.add1("linear", [b.add1("dropout", [x], { p }), w, null]));
  return b.build();
}

describe("training-mode dropout", () => {
  it("draws a deterministic, correctly scaled mask per (step, node, element)", async () => {
    const g = withTrainingDropout(model(0.25));
    const maskNode = g.nodes.find((n) => n.op === "dropout_mask")!;
    expect(maskNode.attrs).toMatchObject({ p: 0.25, salt: 0 });
    const exe = await createCpuBackend().compile(g, { params: new Map([["fc.weight", Tensor.from([Array(64).fill(1)])]]) });
    const x = Tensor.from(Array.from({ length: 1000 * 64 }, () => 1), { shape: [1000, 64] });
    const run = async (step: number) => (await exe.run({ x, dropout_step: Tensor.scalar(step, "int32") })).y.data;
    const a = await run(3);
    expect(Array.from(await run(3))).toEqual(Array.from(a));
    expect(Array.from(await run(4))).not.toEqual(Array.from(a));
    // y = Σ mask over 64 inputs; each mask entry is 0 or 4/3 with keep probability 3/4, so E[y] = 64
    const mean = Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean - 64)).toBeLessThan(0.5);
    // the values are exact multiples of 1/(1 − p) and match the reference draw
    const kept = Array.from({ length: 64 }, (_, i): number => (dropoutUniform(3, 0, i) >= 0.25 ? 1 : 0)).reduce((s, v) => s + v, 0);
    expect(a[0]).toBeCloseTo((kept * 4) / 3, 4);
  });

  it("trains through the mask (its gradient is the same mask) and evaluates without it", async () => {
    const g = model(0.5);
    const plan = buildTrainingGraph(g, { loss: { kind: "mse", output: "y" }, optimizer: { kind: "sgd", lr: 0.1 } });
    expect(plan.dropoutInput).toBe("dropout_step");
    expect(plan.lossGraph.nodes.some((n) => n.op === "dropout_mask")).toBe(false);
    const w0 = Tensor.from([Array.from({ length: 64 }, (_, i) => (i % 7) / 10)]);
    const trainer = await Trainer.create(g, createCpuBackend(), { loss: { kind: "mse", output: "y" }, optimizer: { kind: "sgd", lr: 0.1 }, weights: new Map([["fc.weight", w0]]) });
    const x = Tensor.from([Array.from({ length: 64 }, (_, i) => (i % 5) - 2)]);
    await trainer.step({ x, target: Tensor.from([[0]]) });
    const w1 = (await trainer.weights()).get("fc.weight")!.data;
    // SGD on MSE: w1 = w0 − lr · 2 (y − t) · (x ⊙ mask), so dropped inputs keep their weight exactly
    let changed = 0;
    for (let i = 0; i < 64; i++) {
      const dropped = dropoutUniform(0, 0, i) < 0.5;
      if (dropped || x.data[i] === 0) expect(w1[i]).toBe(w0.data[i]);
      else if (w1[i] !== w0.data[i]) changed++;
    }
    expect(changed).toBeGreaterThan(10);
    // evaluation uses the loss graph, where dropout is the identity
    const mse = await trainer.evaluateLoss({ size: 1, batch: () => ({ x, target: Tensor.from([[0]]) }) }, 1);
    const y = Array.from(w1).reduce((s, w, i) => s + w * x.data[i], 0);
    expect(mse).toBeCloseTo(y * y, 3);
  });
});
