import { GraphBuilder, optimize, type Graph, type Tensor } from "@attn/core";
import type { LossSpec, OptimizerSpec } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";

/** Attention workload: q, k, v float32 [1, heads, N, d]. */
export const ATTN_HEADS = 8;
export const ATTN_DIM = 64;

/** One fused `attention` node over q, k, v [1, 8, N, 64], scale 1/√64, causal or not. */
export function attentionGraph(n: number, causal: boolean): Graph {
  const g = new GraphBuilder(causal ? "causal_attention" : "attention");
  const type = { dtype: "float32" as const, shape: [1, ATTN_HEADS, n, ATTN_DIM] };
  const q = g.input("q", type);
  const k = g.input("k", type);
  const v = g.input("v", type);
  const out = g.add1("attention", [q, k, v], { scale: 1 / Math.sqrt(ATTN_DIM), causal }, { name: "out" });
  g.output("out", out);
  return g.build();
}

/** One `matmul` node: a [m, k] × b [k, n]. */
export function gemmGraph(m: number, k: number, n: number): Graph {
  const g = new GraphBuilder("gemm");
  const a = g.input("a", { dtype: "float32", shape: [m, k] });
  const b = g.input("b", { dtype: "float32", shape: [k, n] });
  g.output("out", g.add1("matmul", [a, b], {}, { name: "out" }));
  return g.build();
}

/** The training-step workload: one multi-head self-attention block, MSE loss, Adam. */
export const TRAIN_STEP = { dModel: 128, heads: 4, seq: 64, batch: 16, lr: 1e-3 } as const;

export const TRAIN_STEP_SOURCE = `# pnpm bench: one multi-head self-attention block (PyTorch nn.MultiheadAttention parameters)
model Block(d = ${TRAIN_STEP.dModel}, heads = ${TRAIN_STEP.heads}) {
  input  x: float32[B, S, d]
  output y: float32[B, S, d]
  y = attention multihead(x, x, x, heads: heads) as mha
  train {
    loss: mse(y)
    optimizer: adam(lr: ${TRAIN_STEP.lr})
  }
}
`;

export interface CompiledModel {
  readonly graph: Graph;
  readonly loss: LossSpec;
  readonly optimizer: OptimizerSpec;
  readonly clipNorm?: number;
}

/** Compiles `.attn` text; throws with the diagnostics when it does not compile. */
export async function compileModel(text: string, file: string): Promise<CompiledModel> {
  // Loaded on demand: children that only time a hand-built graph do not pay for the language front end.
  const { compileSource } = await import("@attn/dsl");
  const r = await compileSource(text, { file });
  if (!r.graph || !r.train) throw new Error(`${file}: ${r.diagnostics.map((d) => d.message).join("; ") || "no train section"}`);
  return { graph: r.graph, loss: r.train.loss, optimizer: r.train.optimizer, ...(r.train.clipNorm !== undefined ? { clipNorm: r.train.clipNorm } : {}) };
}

/** Core's passes (attention fusion, constant folding, DCE), as `attn graph --optimized` applies them. */
export function optimized(graph: Graph): Graph {
  const cpu = createCpuBackend();
  return optimize(graph, { evaluate: cpu.evaluateNode.bind(cpu) });
}

export type Feeds = Record<string, Tensor>;
