import type { Graph } from "../ir/graph.js";
import { constantFold, type NodeEvaluator } from "./constant-fold.js";
import { dce } from "./dce.js";
import { fuseAttention } from "./fuse-attention.js";
import { hoistScanInvariants } from "./hoist-scan-invariants.js";

export interface OptimizeOptions {
  /** Enables constant folding with this evaluator (a backend's). */
  evaluate?: NodeEvaluator;
  /** Fuse attention chains (default true). */
  fuseAttention?: boolean;
}

/** The standard pipeline: constant folding, loop-invariant hoisting, dead-code elimination, attention fusion, dead-code elimination. */
export function optimize(graph: Graph, opts: OptimizeOptions = {}): Graph {
  let g = graph;
  if (opts.evaluate) g = constantFold(g, opts.evaluate);
  g = hoistScanInvariants(g);
  // Dead code goes first too: an unread consumer of the attention weights (a lowered head-average nobody
  // outputs) would otherwise make the fused op keep its weights output and pay for an N×N matrix.
  if (opts.fuseAttention ?? true) g = fuseAttention(dce(g));
  return dce(g);
}
