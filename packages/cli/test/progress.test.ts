import { describe, expect, it } from "vitest";
import { ProgressBar } from "../src/progress.js";

describe("ProgressBar", () => {
  it("prints one line per epoch off a terminal, its clock going on from a resumed run's earlier time", () => {
    const lines: string[] = [];
    const bar = new ProgressBar((s) => lines.push(s), false, 20, 200, 90, 3725);
    bar.update({ type: "epoch", epoch: 9, trainLoss: 0.86031, metrics: { valid_wer: 36.233 } });
    expect(lines).toEqual(["epoch 10/20  train_loss 0.8603  valid_wer 36.2330  (1:02:05)\n"]);
  });

  it("starts its clock at 0:00 on a fresh run", () => {
    const lines: string[] = [];
    new ProgressBar((s) => lines.push(s), false, 2, 20, 0).update({ type: "epoch", epoch: 0, trainLoss: 1, metrics: {} });
    expect(lines).toEqual(["epoch 1/2  train_loss 1.0000  (0:00)\n"]);
  });
});
