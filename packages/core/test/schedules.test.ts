import { describe, expect, it } from "vitest";
import { AttnError, learningRate, lrMultiplier, makeSchedule, validateSchedule, type LrSchedule } from "../src/index.js";

const at = (s: LrSchedule, steps: number[]) => steps.map((k) => lrMultiplier(s, k));

describe("learning-rate schedules (HF get_*_schedule_with_warmup multipliers)", () => {
  it("constant is 1 at every step", () => {
    expect(at({ kind: "constant" }, [0, 1, 1000])).toEqual([1, 1, 1]);
  });

  it("warmup rises linearly from 0 over W steps, then stays at 1", () => {
    expect(at({ kind: "warmup", warmupSteps: 4 }, [0, 1, 2, 3, 4, 5, 100])).toEqual([0, 0.25, 0.5, 0.75, 1, 1, 1]);
    expect(at({ kind: "warmup", warmupSteps: 0 }, [0, 3])).toEqual([1, 1]);
  });

  it("linear warms up, then decays to 0 at T and stays there", () => {
    const s: LrSchedule = { kind: "linear", warmupSteps: 2, totalSteps: 10 };
    // (T − step) / (T − W) = (10 − step) / 8 after warm-up
    expect(at(s, [0, 1, 2, 4, 6, 9, 10, 12])).toEqual([0, 0.5, 1, 0.75, 0.5, 0.125, 0, 0]);
    expect(at({ kind: "linear", totalSteps: 4 }, [0, 1, 3, 4])).toEqual([1, 0.75, 0.25, 0]);
  });

  it("cosine warms up, then follows half a cosine from 1 to 0 over T − W steps", () => {
    const s: LrSchedule = { kind: "cosine", warmupSteps: 2, totalSteps: 10 };
    const v = at(s, [0, 1, 2, 4, 6, 8, 10]);
    const want = [0, 0.5, 1, 0.5 * (1 + Math.cos(Math.PI / 4)), 0.5, 0.5 * (1 + Math.cos((3 * Math.PI) / 4)), 0];
    v.forEach((x, i) => expect(x).toBeCloseTo(want[i], 12));
    expect(lrMultiplier(s, 4)).toBeCloseTo(0.8535533905932737, 12);
    // HF's formula keeps following the cosine after T (progress > 1): with half a cycle it rises again
    expect(lrMultiplier(s, 14)).toBeCloseTo(0.5, 12);
  });

  it("cosine with a whole cycle goes down and back up", () => {
    const s: LrSchedule = { kind: "cosine", totalSteps: 4, cycles: 1 };
    const v = at(s, [0, 1, 2, 3, 4]);
    [1, 0.5, 0, 0.5, 1].forEach((w, i) => expect(v[i]).toBeCloseTo(w, 12));
  });

  it("learningRate scales the base rate; makeSchedule gives a step function", () => {
    expect(learningRate(0.1, { kind: "linear", warmupSteps: 2, totalSteps: 10 }, 6)).toBeCloseTo(0.05, 15);
    const f = makeSchedule({ kind: "warmup", warmupSteps: 10 });
    expect([f(0), f(5), f(10)]).toEqual([0, 0.5, 1]);
  });

  it("rejects bad numbers and unknown kinds", () => {
    expect(() => validateSchedule({ kind: "warmup", warmupSteps: -1 })).toThrow(AttnError);
    expect(() => makeSchedule({ kind: "linear", warmupSteps: 1.5, totalSteps: 10 })).toThrow(/warmupSteps/);
    expect(() => validateSchedule({ kind: "cosine", totalSteps: 10, cycles: Number.NaN })).toThrow(/cycles/);
    expect(() => validateSchedule({ kind: "step" } as unknown as LrSchedule)).toThrow(/unknown learning-rate schedule "step"/);
    expect(() => lrMultiplier({ kind: "constant" }, -1)).toThrow(/step/);
  });
});
