import { Trainer, bindParams, type Backend, type Executable, type Tensor } from "@attn/core";
import { createCpuBackend, type CpuKernels } from "@attn/backend-cpu";
import { createOnnxBackend } from "@attn/backend-onnx";
import type { ImplSpec } from "../catalog.js";
import { attentionGraph, compileModel, gemmGraph, optimized, TRAIN_STEP_SOURCE } from "../graphs.js";
import { sampleOf, type Params, type Sample } from "../protocol.js";
import { attentionInputs, gemmInputs, trainStepData } from "./inputs.js";
import { bool, LossLog, num, UnsupportedWorkload, type Instance } from "./types.js";

function backendOf(spec: ImplSpec): Backend {
  switch (spec.backend) {
    case "cpu":
      return createCpuBackend({ kernels: spec.kernelPath as CpuKernels, ...(spec.kernelPath === "wasm-simd-threads" ? { threads: spec.threads } : {}) });
    case "onnx-node":
      return createOnnxBackend({ runtime: "node", numThreads: spec.threads });
    case "onnx-web":
      return createOnnxBackend({ runtime: "web", numThreads: spec.threads });
    default:
      throw new Error(`${spec.id}: no backend`);
  }
}

/** Runs one compiled graph on fixed feeds; samples output `out` of the first run. */
function forward(exe: Executable, feeds: Record<string, Tensor>, output: string, detail: string): Instance {
  let first: Sample | undefined;
  return {
    detail,
    async run() {
      const res = await exe.run(feeds, { outputs: [output] });
      if (!first) first = sampleOf(res[output].data as Float32Array);
    },
    sample: () => first,
    dispose: () => exe.dispose(),
  };
}

/** Training: each run is `steps` optimizer steps over `batches` in order; samples the first run's losses. */
function training(trainer: Trainer, batches: readonly Record<string, Tensor>[], detail: string): Instance {
  const log = new LossLog(batches.length);
  return {
    detail,
    async run() {
      for (const b of batches) log.add((await trainer.step(b)).loss);
    },
    sample: () => log.sample(),
    dispose: () => trainer.dispose(),
  };
}

export async function createAttnInstance(spec: ImplSpec, workload: string, params: Params): Promise<Instance> {
  const backend = backendOf(spec);
  const detail = spec.backend === "cpu" ? `backend-cpu, kernel path ${spec.kernelPath}` : `backend-onnx (${spec.backend}), ${spec.threads} thread(s)`;
  switch (workload) {
    case "attention": {
      const n = num(params, "n");
      const exe = await backend.compile(attentionGraph(n, bool(params, "causal")), { params: new Map() });
      return forward(exe, attentionInputs(n), "out", `${detail}, fused attention (online softmax)`);
    }
    case "gemm": {
      const size = num(params, "size");
      const exe = await backend.compile(gemmGraph(size, size, size), { params: new Map() });
      return forward(exe, gemmInputs(size, size, size), "out", detail);
    }
    case "train-step": {
      const model = await compileModel(TRAIN_STEP_SOURCE, "bench/train-step.attn");
      const { x, target, weights } = trainStepData();
      // The optimized graph (attention fused into one op with a fused backward), as a user after speed runs it.
      const trainer = await Trainer.create(optimized(model.graph), backend, { loss: model.loss, optimizer: model.optimizer, weights });
      return training(trainer, [{ x, target }], `${detail}, Trainer (fused attention + attention_grad), Adam`);
    }
    case "translation-infer": {
      const { translationBatches, translationSource } = await import("./translation-data.js");
      const src = translationSource();
      const model = await compileModel(src.text, src.file);
      const graph = optimized(model.graph);
      const exe = await backend.compile(graph, { params: bindParams(graph, new Map(), { seed: 0 }) });
      const [batch] = translationBatches(num(params, "batch"), num(params, "batch"));
      return forward(exe, { src: batch.src, tgt_in: batch.tgt_in }, "logits", `${detail}, forward of one batch`);
    }
    case "translation-epoch": {
      const { translationBatches, translationSource } = await import("./translation-data.js");
      const src = translationSource();
      const model = await compileModel(src.text, src.file);
      const trainer = await Trainer.create(optimized(model.graph), backend, {
        loss: model.loss,
        optimizer: model.optimizer,
        ...(model.clipNorm !== undefined ? { clipNorm: model.clipNorm } : {}),
        seed: 0,
      });
      const batches = translationBatches(num(params, "examples"), num(params, "batch")).map((b) => ({ ...b }));
      return training(trainer, batches, `${detail}, Trainer, one epoch = ${batches.length} steps`);
    }
    default:
      throw new UnsupportedWorkload(spec.id, workload);
  }
}
