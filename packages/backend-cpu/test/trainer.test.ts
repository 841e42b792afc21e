import { describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, Trainer, type Dataset, type TrainerEvent } from "@attn/core";
import { createCpuBackend } from "../src/index.js";

function linearModel() {
  const b = new GraphBuilder("lin");
  const x = b.input("x", { dtype: "float32", shape: ["B", 2] });
  const w = b.param("fc.weight", { dtype: "float32", shape: [1, 2] }, { kind: "zeros" });
  b.output("y", b.add1("linear", [x, w, null]));
  return b.build();
}

const data: Dataset = {
  size: 8,
  batch: (idx) => ({
    x: Tensor.from(idx.map((i) => [i / 8, 1 - i / 8])),
    target: Tensor.from(idx.map((i) => [(2 * i) / 8 - (1 - i / 8)])),
  }),
};

describe("Trainer.fit", () => {
  it("stops early when the watched metric has not improved for `patience` epochs", async () => {
    const trainer = await Trainer.create(linearModel(), createCpuBackend(), { loss: { kind: "mse", output: "y" }, optimizer: { kind: "sgd", lr: 0.1 } });
    const metric = [5, 4, 4.5, 4.2, 3, 2]; // best at epoch 2 (index 1), then two epochs without improvement
    const events: TrainerEvent[] = [];
    const end = await trainer.fit(data, {
      epochs: 6,
      batchSize: 4,
      evaluate: async (t) => ({ score: metric[t.state.epoch] }),
      earlyStopping: { metric: "score", mode: "min", patience: 2 },
      onEvent: (e) => events.push(e),
    });
    expect(end.epoch).toBe(4);
    expect(events.filter((e) => e.type === "epoch")).toHaveLength(4);
    expect(events.at(-1)).toEqual({ type: "early_stop", epoch: 3, best: 4 });
  });

  it("takes an epoch's batches from `batchOrder` when given (seeded by the run's seed and the epoch)", async () => {
    const trainer = await Trainer.create(linearModel(), createCpuBackend(), { loss: { kind: "mse", output: "y" }, optimizer: { kind: "sgd", lr: 0.1 }, seed: 9 });
    const asked: [number, number][] = [];
    const sizes: number[] = [];
    await trainer.fit(data, {
      epochs: 2,
      batchSize: 4,
      batchOrder: (epoch, seed) => {
        asked.push([epoch, seed]);
        return [[7], [0, 1, 2], [3, 4, 5, 6]];
      },
      onEvent: (e) => e.type === "step" && sizes.push(e.examples),
    });
    expect(asked).toEqual([[0, 9], [1, 9]]);
    expect(sizes).toEqual([1, 3, 4, 1, 3, 4]);
  });

  it("reports steps with epoch/batch positions and learns a linear map", async () => {
    const trainer = await Trainer.create(linearModel(), createCpuBackend(), { loss: { kind: "mse", output: "y" }, optimizer: { kind: "sgd", lr: 0.5, momentum: 0.9 } });
    const steps: TrainerEvent[] = [];
    await trainer.fit(data, { epochs: 60, batchSize: 4, onEvent: (e) => e.type === "step" && steps.push(e) });
    expect(steps).toHaveLength(120);
    expect(steps[0]).toMatchObject({ type: "step", epoch: 0, batch: 1, batches: 2, examples: 4, step: 1 });
    const w = (await trainer.weights()).get("fc.weight")!.data;
    expect(w[0]).toBeCloseTo(2, 2);
    expect(w[1]).toBeCloseTo(-1, 2);
    expect(await trainer.evaluateLoss(data, 8)).toBeLessThan(1e-5);
  });

  it("rejects a run where everything is frozen and a loss that became NaN", async () => {
    await expect(Trainer.create(linearModel(), createCpuBackend(), { loss: { kind: "mse", output: "y" }, optimizer: { kind: "sgd", lr: 1 }, freeze: ["*"] })).rejects.toThrow(/every parameter of lin is frozen/);
    const trainer = await Trainer.create(linearModel(), createCpuBackend(), { loss: { kind: "mse", output: "y" }, optimizer: { kind: "sgd", lr: 1e30 } });
    await trainer.step(data.batch([0, 7]));
    await expect(trainer.step(data.batch([0, 7]))).rejects.toThrow(/the loss became (Infinity|NaN) at step 1/);
  });
});
