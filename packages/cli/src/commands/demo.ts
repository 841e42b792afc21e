import { relative } from "node:path";
import { Session, Tensor, Rng, type Graph } from "@attn/core";
import { compileFile } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";
import { listExamples } from "@attn/models";
import { summarize } from "./check.js";
import { heatmap } from "../heatmap.js";
import { formatTensor } from "../format.js";

async function example(name: string): Promise<{ graph: Graph; path: string }> {
  const ex = listExamples().find((e) => e.name === name)!;
  const { graph } = await compileFile(ex.path);
  return { graph: graph!, path: relative(process.cwd(), ex.path) };
}

/**
 * `attn demo`: checks every example model; shows Luong dot attention aligning each query with its
 * matching key (the queries are the keys in reverse order, so the weights form the anti-diagonal); then
 * runs the tutorial model (GRU → additive self-attention → linear head) with seeded weights.
 */
export async function demo(out: (s: string) => void): Promise<number> {
  out("attn demo: checking every example model\n");
  let failed = 0;
  for (const ex of listExamples()) {
    const r = await compileFile(ex.path);
    if (r.graph && !r.diagnostics.some((d) => d.severity === "error")) out(`  ${ex.name.padEnd(22)} ${summarize(r.graph).replace(/^ok: /, "")}`);
    else {
      failed++;
      out(`  ${ex.name.padEnd(22)} FAILED: ${r.diagnostics[0]?.message}`);
    }
  }
  const backend = createCpuBackend();
  const rng = new Rng(7);
  const S = 8;
  const d = 16;

  // Keys are random directions; query i is key S-1-i (scaled), so dot attention should find it.
  const dot = await example("dot");
  const keys = Array.from({ length: S }, () => {
    const v = Array.from({ length: d }, () => rng.normal());
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  const memory = Tensor.from([keys]);
  const query = Tensor.from([keys.map((_, i) => keys[S - 1 - i].map((x) => 6 * x))]);
  const pad = Tensor.from([Array.from({ length: S }, () => false)], { dtype: "bool" });
  const s1 = await Session.create(dot.graph, backend);
  const r1 = await s1.run({ query, memory, pad });
  s1.dispose();
  const tokens = "sequence".split("");
  out(`\nLuong dot attention (${dot.path}): query i is key ${S - 1}-i, so each row should pick the mirrored key:`);
  out(heatmap(r1.weights, [...tokens].reverse(), tokens));
  const hits = Array.from({ length: S }, (_, i) => r1.weights.data[i * S + (S - 1 - i)]);
  out(`weight on the mirrored key: min ${Math.min(...hits).toFixed(3)}, mean ${(hits.reduce((a, b) => a + b, 0) / S).toFixed(3)}`);

  const tutorial = await example("tutorial");
  const s2 = await Session.create(tutorial.graph, backend, { seed: 0 });
  const x = Tensor.from(Array.from({ length: 10 * 8 }, (_, i) => Math.sin(i / 3) + 0.1 * rng.normal()), { shape: [1, 10, 8] });
  const r2 = await s2.run({ x });
  s2.dispose();
  out(`\nthe tutorial model (${tutorial.path}), untrained, seeded weights, on a 10-step sine input:`);
  const w = Array.from(r2.weights.data);
  out(`y = ${formatTensor(r2.y)}; before training its attention is near uniform: weights ${Math.min(...w).toFixed(3)} … ${Math.max(...w).toFixed(3)} (uniform = ${(1 / 10).toFixed(3)})`);
  return failed ? 1 : 0;
}
