import { describe, expect, it } from "vitest";
import { BackendError, GraphBuilder, ShapeError, Tensor, clipGradNorm } from "@attn/core";
import { backend, expectClose, runOp } from "./helpers.js";

const scalar = (v: number) => Tensor.from([v], { shape: [] });

// The fixture-driven checks (three torch.optim updates per case, clip_grad_norm_) run in the shared
// conformance suite (packages/conformance/src/optimizers.ts), so every backend is held to them.
describe("clipGradNorm edge cases", () => {
  it("returns a zero norm and nothing to clip for an empty list", async () => {
    const b = new GraphBuilder("empty");
    const { clipped, norm, coef } = clipGradNorm(b, [], 1);
    b.output("norm", norm);
    b.output("coef", coef);
    expect(clipped).toEqual([]);
    const res = await (await backend.compile(b.build(), { params: new Map() })).run({});
    expect(res.norm.data[0]).toBe(0);
    expect(res.coef.data[0]).toBe(1);
  });

  it("rejects a negative max_norm", () => {
    expect(() => clipGradNorm(new GraphBuilder("x"), [], -1)).toThrow(/max_norm/);
  });
});

describe("optimizer ops: semantics and validation", () => {
  const p = Tensor.from([1, -2, 3]);
  const g = Tensor.from([0.5, 0.25, -1]);
  const zeros = () => new Tensor("float32", [3]);

  it("sgd without momentum is param − lr·(grad + wd·param) and passes the buffer through", async () => {
    const buf = Tensor.from([7, 8, 9]);
    const [np, nb] = await runOp("sgd_update", [p, g, buf, scalar(5), scalar(0.1)], { weight_decay: 0.5 });
    expectClose(np, [1 - 0.1 * (0.5 + 0.5), -2 - 0.1 * (0.25 - 1), 3 - 0.1 * (-1 + 1.5)]);
    expect(Array.from(nb.data)).toEqual([7, 8, 9]);
  });

  it("sgd momentum starts the buffer at the gradient on step 0 and ignores the incoming buffer", async () => {
    const [np, nb] = await runOp("sgd_update", [p, g, Tensor.from([100, 100, 100]), scalar(0), scalar(1)], { momentum: 0.9, dampening: 0.5 });
    expectClose(nb, [0.5, 0.25, -1]);
    expectClose(np, [0.5, -2.25, 4]);
    const [, nb2] = await runOp("sgd_update", [p, g, nb, scalar(1), scalar(1)], { momentum: 0.9, dampening: 0.5 });
    expectClose(nb2, [0.9 * 0.5 + 0.5 * 0.5, 0.9 * 0.25 + 0.5 * 0.25, -0.9 - 0.5]);
  });

  it("adam's first step moves each weight by about lr·sign(grad)", async () => {
    const [np, m, v] = await runOp("adam_update", [p, g, zeros(), zeros(), scalar(0), scalar(0.01)]);
    expectClose(np, [0.99, -2.01, 3.01], { atol: 1e-6 });
    expectClose(m, [0.05, 0.025, -0.1]);
    expectClose(v, [0.001 * 0.25, 0.001 * 0.0625, 0.001]);
  });

  it("adamw decays the weights by lr·wd before the update; a zero gradient leaves only the decay", async () => {
    const [np] = await runOp("adam_update", [p, zeros(), zeros(), zeros(), scalar(0), scalar(0.1)], { weight_decay: 0.5, decoupled: true });
    expectClose(np, [0.95, -1.9, 2.85]);
  });

  it("amsgrad takes and returns max_exp_avg_sq", async () => {
    const outs = await runOp("adam_update", [p, g, zeros(), zeros(), scalar(0), scalar(0.01), Tensor.from([1, 0, 0])], { amsgrad: true });
    expect(outs).toHaveLength(4);
    expectClose(outs[3], [1, 0.001 * 0.0625, 0.001]);
    // normalised by sqrt(1)/sqrt(0.001) for the first weight: a much smaller step than plain Adam
    expect(Math.abs(outs[0].data[0] - 1)).toBeLessThan(1e-3);
  });

  it("validates step, attributes and inputs", async () => {
    await expect(runOp("sgd_update", [p, g, zeros(), scalar(0.5), scalar(0.1)])).rejects.toThrow(BackendError);
    await expect(runOp("adam_update", [p, g, zeros(), zeros(), scalar(-1), scalar(0.1)])).rejects.toThrow(/steps already taken/);
    await expect(runOp("sgd_update", [p, g, zeros(), scalar(0), scalar(0.1)], { nesterov: true })).rejects.toThrow(/nesterov/);
    await expect(runOp("adam_update", [p, g, zeros(), zeros(), scalar(0), scalar(0.1)], { amsgrad: true })).rejects.toThrow(/max_exp_avg_sq/);
    await expect(runOp("adam_update", [p, g, zeros(), zeros(), scalar(0), scalar(0.1)], { beta2: 1 })).rejects.toThrow(/beta2/);
    await expect(runOp("adam_update", [p, g, Tensor.from([1, 2]), zeros(), scalar(0), scalar(0.1)])).rejects.toThrow(ShapeError);
    await expect(runOp("sgd_update", [p, g, zeros(), Tensor.from([0]), scalar(0.1)])).rejects.toThrow(/scalar/);
  });
});
