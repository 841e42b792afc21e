import type { Graph, Node, ValueId } from "@attn/core";
import type { Kernel } from "../kernel.js";
import { interleavedAttentionGradKernel, interleavedAttentionKernel } from "../kernels/attention-interleaved.js";
import { matmulKernelFor } from "../kernels/matmul.js";
import { isAxisSwap, type AxisSwap } from "../util/axis-swap.js";

/**
 * Folding transposes into the kernels that read or write the transposed value, a rewrite private to the
 * cpu backend's plan (the graph itself, and every other backend, never see it).
 *
 * A transpose is a full copy. Some kernels can instead read the untransposed array through strides:
 * matmul (the GEMM takes any row and column stride of either operand), and attention / attention_grad on
 * the fused WebAssembly kernel (it loads a head's rows with any row stride, and writes its results the
 * same way), for the head split and merge of multi-head attention, [B, S, H, D] ↔ [B, H, S, D]. So:
 *
 * - an input fold: a node reading a transpose's output in such a slot reads the transpose's input instead
 *   (the transpose still runs if anything else reads its output; else the liveness pass drops it);
 * - an output fold: an attention result whose only reader is the head transpose back (and which is not a
 *   requested output) is written by the kernel directly in the transposed layout, as the transpose's output.
 *
 * The folded kernels give the same results, bit for bit, as the transpose followed by the ordinary kernel.
 */

/** Options of `foldTransposes`. */
export interface FoldOptions {
  /** Fold head transposes into attention and attention_grad (on kernel paths with the fused wasm kernel). */
  readonly attention: boolean;
}

/** A graph whose nodes may read and write transposed operands, and the kernels of those nodes. */
export interface FoldedGraph {
  readonly graph: Graph;
  readonly kernels: ReadonlyMap<Node, Kernel>;
  /** Which operands (by slot name: matmul's `a` and `b`, attention's `q`, `out`, …) each rewritten node reads or writes untransposed. */
  readonly folded: ReadonlyMap<Node, Readonly<Record<string, boolean>>>;
}

/** How one node can absorb transposes: the swap, the slots (by operand name), the kernel for a set of them. */
interface Folding {
  readonly swap: AxisSwap;
  readonly inputs: ReadonlyMap<number, string>;
  readonly outputs: ReadonlyMap<number, string>;
  kernel(folded: Readonly<Record<string, boolean>>): Kernel;
}

/** Softmax selection (the default): the only one the fused attention kernel runs. */
function softmax(node: Node): boolean {
  const s = node.attrs.select;
  return s === undefined || s === "softmax";
}

/** How `node` can absorb transposes, or null when it cannot. */
function foldingOf(node: Node, opts: FoldOptions): Folding | null {
  switch (node.op) {
    case "matmul":
      return {
        swap: "matrix",
        inputs: new Map([[0, "a"], [1, "b"]]),
        outputs: new Map(),
        kernel: (f) => matmulKernelFor(f.a === true, f.b === true),
      };
    case "attention":
      if (!opts.attention || !softmax(node) || node.attrs.weights === true) return null;
      return {
        swap: "heads",
        inputs: new Map([[0, "q"], [1, "k"], [2, "v"]]),
        outputs: new Map([[0, "out"]]),
        kernel: (f) => interleavedAttentionKernel(f),
      };
    case "attention_grad":
      if (!opts.attention || !softmax(node) || (node.inputs[5] ?? null) !== null) return null;
      return {
        swap: "heads",
        inputs: new Map([[0, "q"], [1, "k"], [2, "v"], [4, "dOut"]]),
        outputs: new Map([[0, "dq"], [1, "dk"], [2, "dv"]]),
        kernel: (f) => interleavedAttentionGradKernel(f),
      };
    default:
      return null;
  }
}

/** Whether `node` is a transpose doing exactly `swap`. */
function isSwapTranspose(node: Node, swap: AxisSwap): boolean {
  const perm = node.attrs.perm;
  return node.op === "transpose" && Array.isArray(perm) && isAxisSwap(perm as number[], swap);
}

/**
 * `graph` with the transposes folded that can be, for a run computing `outputs` (value ids, which must
 * stay materialised). Returns the graph itself when nothing folds.
 */
export function foldTransposes(graph: Graph, outputs: readonly ValueId[], opts: FoldOptions): FoldedGraph {
  const producer = new Map<ValueId, Node>();
  for (const n of graph.nodes) if (n.op === "transpose") producer.set(n.outputs[0], n);
  interface Rewrite {
    readonly folding: Folding;
    readonly inputs: (ValueId | null)[];
    readonly outputs: ValueId[];
    readonly folded: Record<string, boolean>;
  }
  // Input folds.
  const rewrites = new Map<Node, Rewrite>();
  for (const n of graph.nodes) {
    const folding = foldingOf(n, opts);
    if (!folding) continue;
    const rw: Rewrite = { folding, inputs: [...n.inputs], outputs: [...n.outputs], folded: {} };
    for (const [slot, name] of folding.inputs) {
      const id = n.inputs[slot] ?? null;
      const t = id === null ? undefined : producer.get(id);
      if (!t || !isSwapTranspose(t, folding.swap)) continue;
      rw.inputs[slot] = t.inputs[0];
      rw.folded[name] = true;
    }
    rewrites.set(n, rw);
  }
  // Output folds, counting readers as the input folds left them.
  const readers = new Map<ValueId, Node[]>();
  for (const n of graph.nodes) {
    for (const id of rewrites.get(n)?.inputs ?? n.inputs) {
      if (id === null) continue;
      const rs = readers.get(id);
      if (rs) rs.push(n);
      else readers.set(id, [n]);
    }
  }
  const pinned = new Set(outputs);
  const dropped = new Set<Node>();
  for (const [n, rw] of rewrites) {
    for (const [slot, name] of rw.folding.outputs) {
      const o = n.outputs[slot];
      const rs = readers.get(o) ?? [];
      if (o === undefined || pinned.has(o) || rs.length !== 1 || !isSwapTranspose(rs[0], rw.folding.swap)) continue;
      rw.outputs[slot] = rs[0].outputs[0];
      rw.folded[name] = true;
      dropped.add(rs[0]);
    }
  }
  const kernels = new Map<Node, Kernel>();
  const folded = new Map<Node, Readonly<Record<string, boolean>>>();
  const nodes: Node[] = [];
  for (const n of graph.nodes) {
    if (dropped.has(n)) continue;
    const rw = rewrites.get(n);
    if (!rw || Object.keys(rw.folded).length === 0) {
      nodes.push(n);
      continue;
    }
    const node: Node = { ...n, inputs: rw.inputs, outputs: rw.outputs };
    kernels.set(node, rw.folding.kernel(rw.folded));
    folded.set(node, rw.folded);
    nodes.push(node);
  }
  return kernels.size === 0 ? { graph, kernels, folded } : { graph: { ...graph, nodes }, kernels, folded };
}
