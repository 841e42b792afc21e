import { consumers, producers, type Graph, type Node, type ValueId } from "../ir/graph.js";
import { topoSort } from "../ir/topo.js";
import type { ConstantValue } from "../ops/constant.js";
import type { AttentionSelect } from "../ops/attention.js";
import { ShapeEnv } from "../shape-env.js";
import { inferGraph } from "../ir/infer.js";
import { AttnError } from "../errors.js";

/**
 * Rewrites `matmul(q, transpose(k)) → [mul by a scalar constant] → [attention_mask] → softmax | hardmax |
 * topk_softmax → matmul(·, v)` into one `attention` node, so backends can run a fused kernel (online
 * softmax, no N×N matrix). The weights stay available when something else reads them.
 */
export function fuseAttention(graph: Graph): Graph {
  let g = graph;
  for (;;) {
    const next = fuseOnce(g);
    if (!next) return g;
    g = next;
  }
}

function scalarConstant(node: Node | undefined): number | undefined {
  if (!node || node.op !== "constant") return undefined;
  const v = node.attrs.value as unknown as ConstantValue;
  return v.data.length === 1 ? v.data[0] : undefined;
}

function fuseOnce(graph: Graph): Graph | undefined {
  const prod = producers(graph);
  const cons = consumers(graph);
  const outputs = new Set([...graph.outputs.map((o) => o.value), ...(graph.updates ?? []).map((u) => u.value)]);
  // An intermediate can be absorbed only if the chain is its sole reader and it is not a graph output.
  const private1 = (v: ValueId) => !outputs.has(v) && (cons.get(v)?.length ?? 0) === 1;
  const rank = (v: ValueId) => graph.values[v].type.shape.length;

  for (const out of graph.nodes) {
    if (out.op !== "matmul") continue;
    const [wv, v] = out.inputs as ValueId[];
    const sel = prod.get(wv);
    if (!sel || !["softmax", "hardmax", "topk_softmax"].includes(sel.op)) continue;
    const selAxis = sel.attrs.axis as number;
    if (selAxis !== -1 && selAxis !== rank(wv) - 1) continue;
    const removed: Node[] = [sel];
    let cur = sel.inputs[0]!;
    let mask: ValueId | null = null;
    let causal = false;
    let window: number | null = null;
    let scale = 1;
    let n = prod.get(cur);
    if (n?.op === "attention_mask" && private1(cur)) {
      mask = n.inputs[1] ?? null;
      causal = n.attrs.causal as boolean;
      window = n.attrs.window as number | null;
      removed.push(n);
      cur = n.inputs[0]!;
      n = prod.get(cur);
    }
    if ((n?.op === "mul" || n?.op === "div") && private1(cur)) {
      const [a, b] = n.inputs as ValueId[];
      const cb = scalarConstant(prod.get(b));
      const ca = n.op === "mul" ? scalarConstant(prod.get(a)) : undefined;
      if (cb !== undefined || ca !== undefined) {
        scale = n.op === "div" ? 1 / cb! : (cb ?? ca)!;
        removed.push(n);
        cur = cb !== undefined ? a : b;
        n = prod.get(cur);
      }
    }
    if (n?.op !== "matmul" || !private1(cur)) continue;
    const [q, kt] = n.inputs as ValueId[];
    const tr = prod.get(kt);
    const r = rank(q);
    if (!tr || tr.op !== "transpose" || !private1(kt) || rank(kt) !== r || r < 2) continue;
    const perm = tr.attrs.perm as number[];
    const swapsLast = perm.every((p, i) => (i < r - 2 ? p === i : i === r - 2 ? p === r - 1 : p === r - 2));
    if (!swapsLast || rank(v) !== r) continue;
    removed.push(n, tr);
    const k = tr.inputs[0]!;
    const keepWeights = outputs.has(wv) || (cons.get(wv)?.length ?? 0) > 1;
    const select: AttentionSelect = sel.op === "softmax" ? "softmax" : sel.op === "hardmax" ? "argmax" : { topk: sel.attrs.k as number };
    const fused: Node = {
      id: out.id,
      op: "attention",
      inputs: [q, k, v, mask],
      outputs: keepWeights ? [out.outputs[0], wv] : [out.outputs[0]],
      attrs: { scale, causal, window, select: select as never, weights: keepWeights },
      ...(out.span ? { span: out.span } : {}),
    };
    const gone = new Set([...removed, out]);
    const nodes = topoSort(graph, [...graph.nodes.filter((x) => !gone.has(x)), fused]);
    const candidate = { ...graph, nodes };
    try {
      inferGraph(candidate, new ShapeEnv());
    } catch (e) {
      // A chain that matches structurally but not in shapes (e.g. broadcasting batch dims) stays unfused.
      if (e instanceof AttnError) continue;
      throw e;
    }
    return candidate;
  }
  return undefined;
}
