import { Session, Tensor, Rng } from "@attn/core";
import { compileFile } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";
import { listExamples } from "@attn/models";
import { summarize } from "./check.js";
import { heatmap } from "../heatmap.js";
import { formatTensor } from "../format.js";

/**
 * `attn demo`: checks every example model, then runs the tutorial model (GRU → additive self-attention →
 * linear head) on the CPU backend and draws its attention weights.
 */
export async function demo(out: (s: string) => void): Promise<number> {
  out("attn demo: checking every example model\n");
  let failed = 0;
  for (const ex of listExamples()) {
    const r = await compileFile(ex.path);
    if (r.graph && !r.diagnostics.some((d) => d.severity === "error")) out(`  ${ex.name.padEnd(28)} ${summarize(r.graph).replace(/^ok: /, "")}`);
    else {
      failed++;
      out(`  ${ex.name.padEnd(28)} FAILED: ${r.diagnostics[0]?.message}`);
    }
  }
  const tutorial = listExamples().find((e) => e.name === "tutorial")!;
  const { graph } = await compileFile(tutorial.path);
  const session = await Session.create(graph!, createCpuBackend(), { seed: 0 });
  const rng = new Rng(42);
  const S = 10;
  const x = Tensor.from(Array.from({ length: S * 8 }, (_, i) => Math.sin(i / 3) + 0.1 * rng.normal()), { shape: [1, S, 8] });
  const res = await session.run({ x });
  session.dispose();
  out(`\nrunning ${tutorial.name} (${tutorial.path}) on a 10-step sine input with seeded weights:`);
  out(`y = ${formatTensor(res.y)}`);
  out(`attention weights [query step × key step]:`);
  const labels = Array.from({ length: S }, (_, i) => `t${i}`);
  out(heatmap(res.weights, labels));
  return failed ? 1 : 0;
}
