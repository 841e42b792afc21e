import { exportModel, loadOrt } from "@attn/backend-onnx";
import type { Graph, Tensor } from "@attn/core";
import type { ImplSpec } from "../catalog.js";
import { attentionGraph, gemmGraph } from "../graphs.js";
import { sampleOf, type Params, type Sample } from "../protocol.js";
import { attentionInputs, gemmInputs } from "./inputs.js";
import { bool, num, UnsupportedWorkload, type Instance } from "./types.js";

/**
 * ONNX Runtime as a peer: the same IR graph, exported by attn's exporter (opset 17: decomposed attention;
 * opset 23: the standard `Attention` op), run on a plain `InferenceSession` with input tensors created
 * once, so the timing is ORT's own.
 */
export async function createOrtInstance(spec: ImplSpec, workload: string, params: Params): Promise<Instance> {
  let graph: Graph;
  let feeds: Record<string, Tensor>;
  if (workload === "attention") {
    const n = num(params, "n");
    graph = attentionGraph(n, bool(params, "causal"));
    feeds = attentionInputs(n);
  } else if (workload === "gemm") {
    const size = num(params, "size");
    graph = gemmGraph(size, size, size);
    feeds = gemmInputs(size, size, size);
  } else throw new UnsupportedWorkload(spec.id, workload);

  const { bytes, model } = exportModel(graph, { opset: spec.opset ?? 17, producer: "attn bench" });
  const ops = [...new Set((model.graph?.node ?? []).map((n) => n.opType))].join(", ");
  const ort = await loadOrt(spec.runtime ?? "node");
  if (spec.runtime === "web") ort.env.wasm.numThreads = spec.threads;
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [spec.runtime === "web" ? "wasm" : "cpu"],
    graphOptimizationLevel: "all",
    ...(spec.runtime === "node" ? { intraOpNumThreads: spec.threads, interOpNumThreads: 1 } : {}),
  });
  const ortFeeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor("float32", t.data as Float32Array, [...t.shape]);
  let first: Sample | undefined;
  return {
    detail: `${spec.runtime === "web" ? "onnxruntime-web wasm" : "onnxruntime-node cpu"}, ${spec.threads} thread(s), opset ${spec.opset}: ${ops}`,
    async run() {
      const res = await session.run(ortFeeds);
      const out = res.out;
      if (!first) first = sampleOf(out.data as Float32Array);
      for (const t of Object.values(res)) t.dispose();
    },
    sample: () => first,
    dispose: () => void session.release(),
  };
}
