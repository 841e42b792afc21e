import { describe, expect, it } from "vitest";
import { loadCases, readCaseFile, runCase, type ConformanceCase, type TensorJson } from "@attn/conformance";
import { createCpuBackend } from "../src/index.js";

/** The gradient half of the conformance harness: what it checks and how it reports a wrong gradient. */

const backend = createCpuBackend();
const cases = await loadCases();
const byName = (name: string) => cases.find((c) => c.name === name)!;

/** `t` with its first element moved by 1 (a wrong gradient the harness must catch). */
const nudged = (t: TensorJson): TensorJson => ({ ...t, data: [(t.data[0] as number) + 1, ...t.data.slice(1)] });

describe("conformance gradients", () => {
  it("are checked for every case that has them, in both forms of a model", async () => {
    const op = await runCase(backend, byName("layer_norm/affine"));
    expect(op).toEqual({ name: "layer_norm/affine", failures: [], gradientsChecked: 3 });
    const model = await runCase(backend, byName("model/tutorial_gru_additive"), readCaseFile);
    const c = byName("model/tutorial_gru_additive");
    expect(model.gradientsChecked).toBe(2 * (Object.keys(c.kind === "model" ? { ...c.grad!.params, ...c.grad!.inputs } : {}).length));
    expect((await runCase(backend, byName("argmax/ties_last"))).gradientsChecked).toBe(0);
  });
  it("report a wrong gradient by its name, and only when gradients are checked", async () => {
    const c = byName("softmax/last_axis");
    if (c.kind !== "op") throw new Error("op case expected");
    const bad: ConformanceCase = { ...c, grad: { ...c.grad!, inputs: [nudged(c.grad!.inputs[0]!)] } };
    const res = await runCase(backend, bad);
    expect(res.failures).toHaveLength(1);
    expect(res.failures[0]).toMatch(/^grad:in0: 1 of \d+ elements differ/);
    expect((await runCase(backend, bad, undefined, { gradients: false })).failures).toEqual([]);

    const m = byName("model/luong_dot_seq");
    if (m.kind !== "model") throw new Error("model case expected");
    const badModel: ConformanceCase = { ...m, grad: { ...m.grad!, inputs: { ...m.grad!.inputs, q: nudged(m.grad!.inputs!.q) } } };
    const mres = await runCase(backend, badModel);
    expect(mres.failures.map((f) => f.split(":")[0] + ":" + f.split(":")[1])).toEqual(["(as lowered) grad:q", "(optimised) grad:q"]);
  });
});
