import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Rng, Tensor, bindParams, type Graph } from "@attn/core";
import { compileSource } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";
import { exportModel, loadOrt, onnx, type ExportResult } from "../src/index.js";
import type { onnx as OnnxNs } from "onnx-proto";
import { checkOnnxFile, useOnnxChecker } from "./checker.js";
import { runtimeAvailable } from "./helpers.js";

const AVAILABLE = { node: await runtimeAvailable("node"), web: await runtimeAvailable("web") };

// Two 32×48 weights (6144 bytes each) go to the data file; the biases (192 and 128 bytes) stay inline.
const SOURCE = `
model Wide(d = 32, hidden = 48) {
  input  x: float32[B, S, d]
  output y: float32[B, S, d]

  h = linear(x, out: hidden) as fc1
  y = linear(gelu(h), out: d) as fc2
}
`;

async function wide(): Promise<{ graph: Graph; params: Map<string, Tensor> }> {
  const { graph, diagnostics } = await compileSource(SOURCE, { file: "wide.attn", model: "Wide" });
  if (!graph) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return { graph, params: bindParams(graph, new Map(), { seed: 5 }) };
}

function randn(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor("float32", shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1));
}

/** Writes the model and its data file into a fresh directory as `attn export --external-data` does; returns the model's path. */
async function writeExport(res: ExportResult, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "attn-onnx-extdata-"));
  const file = join(dir, name);
  if (res.externalData) await writeFile(join(dirname(file), res.externalData.location), res.externalData.bytes);
  await writeFile(file, res.bytes);
  return file;
}

const entries = (t: OnnxNs.ITensorProto) => Object.fromEntries((t.externalData ?? []).map((e) => [e.key!, e.value!]));

describe("external data", () => {
  it("moves initializers over the threshold to the data file (64-byte aligned), keeps the small ones inline", async () => {
    const { graph, params } = await wide();
    const inline = exportModel(graph, { params });
    const res = exportModel(graph, { params, externalData: true });
    expect(res.externalData!.location).toBe("model.onnx.data");
    const inits = new Map(res.model.graph!.initializer!.map((t) => [t.name!, t]));
    for (const name of ["fc1.weight", "fc2.weight"]) {
      const t = inits.get(name)!;
      expect(t.dataLocation).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
      expect(t.rawData ?? undefined).toBeUndefined();
      const e = entries(t);
      expect(e.location).toBe("model.onnx.data");
      expect(Number(e.offset) % 64).toBe(0);
      expect(Number(e.length)).toBe(params.get(name)!.size * 4);
      // the bytes at that offset are the parameter's little-endian float32 values
      const got = new Float32Array(res.externalData!.bytes.slice(Number(e.offset), Number(e.offset) + Number(e.length)).buffer);
      expect(Array.from(got)).toEqual(Array.from(params.get(name)!.data));
    }
    for (const name of ["fc1.bias", "fc2.bias"]) expect(inits.get(name)!.dataLocation ?? 0).toBe(onnx.TensorProto.DataLocation.DEFAULT);
    expect(res.bytes.length).toBeLessThan(inline.bytes.length - 12000);
    // a named data file and a threshold
    const named = exportModel(graph, { params, externalData: "weights.bin", externalDataThreshold: 150 });
    expect(named.externalData!.location).toBe("weights.bin");
    const external = named.model.graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL).map((t) => t.name).sort();
    expect(external).toEqual(["fc1.bias", "fc1.weight", "fc2.weight"]);
  });

  it("writes files that the ONNX checker accepts (it loads the data file from the model's directory)", async () => {
    if (!useOnnxChecker()) return;
    const { graph, params } = await wide();
    const file = await writeExport(exportModel(graph, { params, externalData: true }), "model.onnx");
    expect(checkOnnxFile(file)).toBeNull();
  });

  it.skipIf(!AVAILABLE.node)("loads from its directory on onnxruntime-node and matches the inline export exactly and backend-cpu within 1e-5", async () => {
    const { graph, params } = await wide();
    const ort = await loadOrt("node");
    const res = exportModel(graph, { params, externalData: true });
    const file = await writeExport(res, "model.onnx");
    expect((await stat(join(dirname(file), "model.onnx.data"))).size).toBe(res.externalData!.bytes.length);
    const fromDir = await ort.InferenceSession.create(file);
    const inline = await ort.InferenceSession.create(exportModel(graph, { params }).bytes);
    const cpu = await createCpuBackend().compile(graph, { params });
    try {
      for (const [k, S] of [2, 5].entries()) {
        const x = randn([2, S, 32], k + 1);
        const feeds = { x: new ort.Tensor("float32", x.data as Float32Array, [...x.shape]) };
        const a = (await fromDir.run(feeds)).y.data as Float32Array;
        const b = (await inline.run(feeds)).y.data as Float32Array;
        const c = (await cpu.run({ x })).y.data as Float32Array;
        expect(Array.from(a)).toEqual(Array.from(b));
        let m = 0;
        for (let i = 0; i < c.length; i++) m = Math.max(m, Math.abs(a[i] - c[i]));
        expect(m).toBeLessThan(1e-5);
      }
    } finally {
      cpu.dispose();
      await fromDir.release();
      await inline.release();
    }
    // From bytes alone, onnxruntime-node looks for the data file in the working directory, not the model's.
    await expect(ort.InferenceSession.create(await readFile(file))).rejects.toThrow(/external data/i);
  });

  it.skipIf(!AVAILABLE.web)("runs on onnxruntime-web given the data file as the externalData session option", async () => {
    const { graph, params } = await wide();
    const ort = await loadOrt("web");
    const res = exportModel(graph, { params, externalData: true });
    const session = await ort.InferenceSession.create(res.bytes, { externalData: [{ path: res.externalData!.location, data: res.externalData!.bytes }] });
    const cpu = await createCpuBackend().compile(graph, { params });
    try {
      const x = randn([1, 3, 32], 9);
      const a = (await session.run({ x: new ort.Tensor("float32", x.data as Float32Array, [...x.shape]) })).y.data as Float32Array;
      const c = (await cpu.run({ x })).y.data as Float32Array;
      for (let i = 0; i < c.length; i++) expect(Math.abs(a[i] - c[i])).toBeLessThan(1e-5);
    } finally {
      cpu.dispose();
      await session.release();
    }
  });
});
