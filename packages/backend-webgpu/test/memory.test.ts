import { describe, expect, it } from "vitest";
import { bindParams, optimize, validateGraph } from "@attn/core";
import { compileFile } from "@attn/dsl";
import { EXAMPLES_DIR, exampleInputs } from "@attn/models";
import { createWebGpuBackend, type PoolStats } from "../src/index.js";
import { requireWebGpu } from "./helpers.js";

/**
 * The example model (`packages/models/examples/<model>.attn`) the memory check runs, and whether it runs
 * the optimised graph (fused attention) or the graph as lowered: the transformer classifier (embedding,
 * positional encoding, multi-head self-attention, layer norm, GELU feed-forward, pooling) as deployed.
 */
export const MEMORY_CHECK = { model: "transformer_classifier", optimize: true } as const;

/** Consecutive runs, and how many of the first ones may still grow the pool (warm-up). */
const RUNS = 1000;
const WARMUP = 3;

const mib = (b: number) => `${(b / 2 ** 20).toFixed(3)} MiB`;
const show = (s: PoolStats) =>
  `${s.buffersCreated} buffers created (storage ${s.created.storage}, uniform ${s.created.uniform}, staging ${s.created.staging}), ` +
  `${mib(s.bytesAllocated)} allocated, ${s.buffersLive} live = ${mib(s.bytesLive)} (in use ${mib(s.bytesInUse)}, pooled ${mib(s.bytesPooled)})`;

if (await requireWebGpu("webgpu memory")) {
  describe(`memory: ${RUNS} runs of examples/${MEMORY_CHECK.model}.attn`, () => {
    it("leave the buffer pool flat after the first runs, and dispose releases every buffer", async () => {
      const { graph, diagnostics } = await compileFile(`${EXAMPLES_DIR}${MEMORY_CHECK.model}.attn`);
      expect(graph, diagnostics.map((d) => d.message).join("\n")).toBeDefined();
      validateGraph(graph!);
      const plan = MEMORY_CHECK.optimize ? optimize(graph!, {}) : graph!;
      const exe = await createWebGpuBackend().compile(plan, { params: bindParams(plan, undefined, { seed: 5 }) });
      const feeds = exampleInputs(graph!, { size: 5 });
      const afterCompile = exe.memory();
      const first = await exe.run(feeds);
      for (let k = 1; k < WARMUP; k++) await exe.run(feeds);
      const warm = exe.memory();
      const t0 = performance.now();
      let last = first;
      for (let k = WARMUP; k < RUNS; k++) {
        last = await exe.run(feeds);
        // every run hands back all it took: only parameters and constants stay in use between runs
        if (k % 100 === 0) expect(exe.memory().bytesInUse).toBe(afterCompile.bytesInUse);
      }
      const ms = (performance.now() - t0) / (RUNS - WARMUP);
      const end = exe.memory();
      console.log(
        `[memory] examples/${MEMORY_CHECK.model}.attn (${MEMORY_CHECK.optimize ? "optimised" : "as lowered"}, ${plan.nodes.length} nodes), ${RUNS} runs, ${ms.toFixed(2)} ms/run\n` +
          `  after compile: ${show(afterCompile)}\n  after run ${WARMUP}: ${show(warm)}\n  after run ${RUNS}: ${show(end)}`,
      );
      expect(end).toEqual(warm);
      expect(end.bytesInUse).toBe(afterCompile.bytesInUse);
      for (const [k, t] of Object.entries(first)) expect(Array.from(last[k].data), k).toEqual(Array.from(t.data));
      exe.dispose();
      const gone = exe.memory();
      console.log(`  after dispose: ${show(gone)}`);
      expect(gone.buffersLive).toBe(0);
      expect(gone.bytesLive).toBe(0);
    }, 600_000);
  });
}
