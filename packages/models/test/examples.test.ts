import { describe, expect, it } from "vitest";
import { Session, ShapeEnv, dimSymbols } from "@attn/core";
import { compileFile } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";
import { exampleInputs, listExamples } from "../src/index.js";

describe("example models", () => {
  it("include one file per mechanism and the complete models the docs promise", () => {
    const names = listExamples().map((e) => e.name);
    for (const n of ["dot", "general", "concat", "additive", "scaled_dot", "multihead_self", "multihead_cross", "causal_self", "hard_argmax", "hard_topk", "local", "seq2seq_bahdanau", "transformer_classifier", "image_attention_pool", "tutorial"]) {
      expect(names).toContain(n);
    }
  });

  for (const ex of listExamples()) {
    it(`${ex.name} compiles and runs on backend-cpu with declared output shapes and valid attention weights`, async () => {
      const { graph, diagnostics } = await compileFile(ex.path);
      expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
      const session = await Session.create(graph!, createCpuBackend(), { seed: 5 });
      const feeds = exampleInputs(graph!, { size: ex.name.startsWith("image") ? 28 : 5 });
      const out = await session.run(feeds);
      session.dispose();
      const env = new ShapeEnv();
      for (const id of graph!.inputs) {
        const v = graph!.values[id];
        v.type.shape.forEach((d, i) => dimSymbols(d).length && env.unify(d, feeds[v.name].shape[i], v.name));
      }
      for (const o of graph!.outputs) {
        const t = out[o.name];
        expect(t.shape, o.name).toEqual(env.resolveShape(graph!.values[o.value].type.shape));
        expect(Array.from(t.data).every(Number.isFinite), `${o.name} is finite`).toBe(true);
        if (o.role === "attention") {
          // every row of attention weights is a distribution (or all zeros when fully masked)
          const n = t.shape[t.shape.length - 1];
          for (let r = 0; r < t.size / n; r++) {
            const s = Array.from(t.data.subarray(r * n, (r + 1) * n)).reduce((a, b) => a + b, 0);
            expect(Math.abs(s - 1) < 1e-5 || s === 0, `${o.name} row ${r} sums to ${s}`).toBe(true);
          }
        }
      }
    });
  }
});
