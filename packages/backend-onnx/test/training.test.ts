import { describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendError, Tensor, Trainer, bindParams, buildTrainingGraph, dce, hoistScanInvariants, type Backend, type Graph } from "@attn/core";
import { compileSource } from "@attn/dsl";
import { decodeTensor, loadTrainingCases, runTrainingCase, type TrainingCase } from "@attn/conformance";
import { createCpuBackend } from "@attn/backend-cpu";
import { createOnnxBackend, exportModel, loadOrt, updatedName } from "../src/index.js";
import { checkOnnxFile, useOnnxChecker } from "./checker.js";
import { runtimeAvailable } from "./helpers.js";

const tutorial = (await loadTrainingCases()).find((c) => c.name === "training/tutorial_adam")!;

async function tutorialModel(c: TrainingCase): Promise<Graph> {
  const { graph, diagnostics } = await compileSource(c.source, { file: "tutorial.attn", model: c.model, hyper: c.hyper });
  if (!graph) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return graph;
}

const weightsOf = (c: TrainingCase) => new Map(Object.entries(c.initialWeights).map(([k, t]) => [k, decodeTensor(t, k)]));
const batchOf = (c: TrainingCase): Record<string, Tensor> => ({ x: decodeTensor(c.inputs.x, "x"), target: decodeTensor(c.target, "target") });
const OPTS = { loss: { kind: "mse", output: "y" }, optimizer: { kind: "adam", lr: 0.01 } } as const;

async function lossCurve(backend: Backend, steps: number): Promise<number[]> {
  const trainer = await Trainer.create(await tutorialModel(tutorial), backend, { ...OPTS, weights: weightsOf(tutorial) });
  try {
    const losses: number[] = [];
    for (let k = 0; k < steps; k++) losses.push((await trainer.step(batchOf(tutorial))).loss);
    return losses;
  } finally {
    trainer.dispose();
  }
}

for (const runtime of ["node", "web"] as const) {
  const available = await runtimeAvailable(runtime);
  describe.skipIf(!available)(`training on onnxruntime-${runtime}`, () => {
    it("trains the tutorial model through the Trainer with backend-cpu's loss curve (20 Adam steps, within 1e-4)", async () => {
      const cpu = await lossCurve(createCpuBackend(), 20);
      const onnx = await lossCurve(createOnnxBackend({ runtime, numThreads: 1 }), 20);
      const maxDelta = Math.max(...cpu.map((l, k) => Math.abs(l - onnx[k])));
      console.log(`[training:${runtime}] tutorial curve, max |Δloss| vs backend-cpu: ${maxDelta.toExponential(2)}`);
      expect(maxDelta).toBeLessThanOrEqual(1e-4);
      expect(onnx[19]).toBeLessThan(onnx[0]);
    });

    it("follows PyTorch's recorded curve and final weights (runTrainingCase)", async () => {
      const res = await runTrainingCase(createOnnxBackend({ runtime, numThreads: 1 }), tutorial);
      console.log(`[training:${runtime}] tutorial curve, max |Δloss| vs PyTorch: ${res.maxLossError.toExponential(2)}`);
      expect(res.failures).toEqual([]);
    });
  });
}

describe.skipIf(!(await runtimeAvailable("node")))("training-step executables", () => {
  async function plan() {
    const model = await tutorialModel(tutorial);
    const p = buildTrainingGraph(dce(hoistScanInvariants(model)), OPTS);
    return { graph: p.graph, params: bindParams(p.graph, weightsOf(tutorial)) };
  }

  it("keeps parameters and optimizer state resident; run returns only the requested outputs; readParams/writeParams work", async () => {
    const { graph, params } = await plan();
    const onnx = await createOnnxBackend().compile(graph, { params });
    const cpu = await createCpuBackend().compile(graph, { params });
    try {
      const feeds = { ...batchOf(tutorial), lr: Tensor.scalar(0.01) };
      for (let k = 0; k < 3; k++) {
        const [a, b] = [await onnx.run(feeds, { outputs: ["loss"] }), await cpu.run(feeds, { outputs: ["loss"] })];
        expect(Object.keys(a)).toEqual(["loss"]);
        expect(Math.abs(a.loss.data[0] - b.loss.data[0])).toBeLessThan(1e-5);
      }
      const [pa, pb] = [await onnx.readParams(), await cpu.readParams()];
      expect([...pa.keys()].sort()).toEqual([...pb.keys()].sort());
      expect(pa.get("optimizer.step")!.data[0]).toBe(3);
      for (const [k, t] of pb) {
        const u = pa.get(k)!;
        expect(u.shape).toEqual(t.shape);
        for (let i = 0; i < t.size; i++) expect(Math.abs(u.data[i] - t.data[i])).toBeLessThan(1e-5);
      }
      // rewinding to the initial weights and state replays the first step
      await onnx.writeParams(params);
      const first = (await createCpuBackend().compile(graph, { params })).run(feeds, { outputs: ["loss"] });
      expect(Math.abs((await onnx.run(feeds, { outputs: ["loss"] })).loss.data[0] - (await first).loss.data[0])).toBeLessThan(1e-6);
      await expect(onnx.writeParams(new Map([["head.bias", new Tensor("float32", [3])]]))).rejects.toThrow(BackendError);
    } finally {
      onnx.dispose();
      cpu.dispose();
    }
  });

  it("exports a standalone training step: weights, optimizer state and batch in; loss and updated:<param> out", async () => {
    const { graph, params } = await plan();
    const res = exportModel(graph, { opset: 17 });
    expect(res.inputNames).toEqual(["x", "target", "lr", ...graph.params.map((p) => p.name)]);
    expect(res.updates).toEqual(graph.updates!.map((u) => ({ param: u.param, output: updatedName(u.param) })));
    expect(res.model.graph!.initializer!.some((t) => graph.params.some((p) => p.name === t.name))).toBe(false);
    if (useOnnxChecker()) {
      const dir = await mkdtemp(join(tmpdir(), "attn-onnx-train-"));
      const file = join(dir, "train_step.onnx");
      await writeFile(file, res.bytes);
      expect(checkOnnxFile(file)).toBeNull();
    }
    // Drive it on plain ORT, as a Python user would: feed each updated:<param> back as <param>.
    const ort = await loadOrt("node");
    const session = await ort.InferenceSession.create(res.bytes);
    const cpu = await createCpuBackend().compile(graph, { params });
    const toOrt = (t: Tensor) => new ort.Tensor(t.dtype === "int32" ? "int32" : "float32", t.data as Float32Array, [...t.shape]);
    const state: Record<string, InstanceType<typeof ort.Tensor>> = Object.fromEntries([...params].map(([k, t]) => [k, toOrt(t)]));
    const batch = { ...batchOf(tutorial), lr: Tensor.scalar(0.01) };
    try {
      for (let k = 0; k < 3; k++) {
        const out = await session.run({ ...Object.fromEntries(Object.entries(batch).map(([n, t]) => [n, toOrt(t)])), ...state });
        const want = await cpu.run(batch, { outputs: ["loss"] });
        expect(Math.abs((out.loss.data as Float32Array)[0] - want.loss.data[0])).toBeLessThan(1e-5);
        for (const u of res.updates!) state[u.param] = out[u.output];
      }
      expect((state["optimizer.step"].data as Float32Array)[0]).toBe(3);
    } finally {
      cpu.dispose();
      await session.release();
    }
  });

  it("stores given parameter values as the inputs' initial values (a run may feed only the batch)", async () => {
    const { graph, params } = await plan();
    const res = exportModel(graph, { params });
    expect(res.model.graph!.initializer!.filter((t) => params.has(t.name!)).length).toBe(params.size);
    const ort = await loadOrt("node");
    const session = await ort.InferenceSession.create(res.bytes, { logSeverityLevel: 3 });
    const cpu = await createCpuBackend().compile(graph, { params });
    try {
      const batch = { ...batchOf(tutorial), lr: Tensor.scalar(0.01) };
      const out = await session.run(Object.fromEntries(Object.entries(batch).map(([n, t]) => [n, new ort.Tensor("float32", t.data as Float32Array, [...t.shape])])));
      const want = await cpu.run(batch, { outputs: ["loss"] });
      expect(Math.abs((out.loss.data as Float32Array)[0] - want.loss.data[0])).toBeLessThan(1e-5);
      expect((out[updatedName("optimizer.step")].data as Float32Array)[0]).toBe(1);
    } finally {
      cpu.dispose();
      await session.release();
    }
  });
});
