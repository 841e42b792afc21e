import type { Graph, Node, ValueId } from "@attn/core";
import type { Kernel } from "../kernel.js";
import { matmulBatchSumKernel } from "../kernels/matmul.js";
import type { FoldedGraph } from "./fold-transposes.js";

/**
 * Folding a sum over the batch into the matmul it reduces, a rewrite private to the cpu backend's plan
 * (run after fold-transposes.ts, on its result).
 *
 * The gradient of a matmul whose right operand is shared by the batch (x [B, T, K] · W [K, N]) is
 * dW = Σ_b x_bᵀ · dy_b: core's autodiff emits matmul(xᵀ, dy) [B, K, N] and a reduce_sum over the batch
 * axes. That runs B small products (each packing its own operands) and materialises B·K·N floats only
 * to add them up. The same sum is one product over the batch and time rows together,
 * [K, B·T] · [B·T, N], when both operands lie in memory with their summed index contiguous across the
 * batch (xᵀ read through the transpose fold, dy as stored): so a matmul whose only reader is a
 * `reduce_sum` over exactly its batch axes (not a requested output) becomes one node computing the sum
 * (`matmulBatchSumKernel`: one GEMM with K = B·T where the layout allows, else the product and the sum as
 * before). Sums are reassociated (one GEMM's accumulation instead of per-product results added in
 * double), within float32 rounding of the unfused result.
 */
export function foldBatchSums(folded: FoldedGraph, outputs: readonly ValueId[]): FoldedGraph {
  const { graph } = folded;
  const readers = new Map<ValueId, Node[]>();
  for (const n of graph.nodes) {
    for (const id of n.inputs) {
      if (id === null) continue;
      const rs = readers.get(id);
      if (rs) rs.push(n);
      else readers.set(id, [n]);
    }
  }
  const pinned = new Set(outputs);
  const fused = new Map<Node, Node>(); // matmul → its reduce_sum
  for (const n of graph.nodes) {
    if (n.op !== "matmul") continue;
    const o = n.outputs[0];
    const rs = readers.get(o) ?? [];
    if (pinned.has(o) || rs.length !== 1 || rs[0].op !== "reduce_sum" || rs[0].inputs[0] !== o) continue;
    const rank = graph.values[o]?.type.shape.length ?? 0;
    if (rank < 3 || !batchAxes(rs[0].attrs.axes, rank)) continue;
    fused.set(n, rs[0]);
  }
  if (fused.size === 0) return folded;
  const dropped = new Set(fused.values());
  const kernels = new Map<Node, Kernel>(folded.kernels);
  const flags = new Map(folded.folded);
  const nodes: Node[] = [];
  for (const n of graph.nodes) {
    if (dropped.has(n)) continue;
    const r = fused.get(n);
    if (!r) {
      nodes.push(n);
      continue;
    }
    const f = folded.folded.get(n) ?? {};
    const node: Node = { ...n, outputs: [r.outputs[0]] };
    kernels.set(node, matmulBatchSumKernel(f.a === true, f.b === true, r.attrs.keepdims === true));
    flags.set(node, f);
    nodes.push(node);
  }
  const g: Graph = { ...graph, nodes };
  return { graph: g, kernels, folded: flags };
}

/** Whether reduce_sum's `axes` attribute names exactly the batch axes 0 … rank − 3 of a matmul result. */
function batchAxes(axes: unknown, rank: number): boolean {
  if (!Array.isArray(axes) || axes.length !== rank - 2) return false;
  const norm = new Set(axes.map((a) => (typeof a === "number" && a < 0 ? a + rank : a)));
  for (let i = 0; i < rank - 2; i++) if (!norm.has(i)) return false;
  return norm.size === rank - 2;
}
