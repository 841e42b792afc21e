import { describe, expect, it } from "vitest";
import { BackendError, GraphBuilder, Rng, Session, Tensor, bindParams, defineOp, hasOp, optimize, registerOp, type Graph } from "@attn/core";
import { decodeTensor, loadCases, modelCaseGraph, type ModelCase } from "@attn/conformance";
import { createCpuBackend } from "@attn/backend-cpu";
import { createOnnxBackend, exportModel, exportableOps, loadOrt, onnx } from "../src/index.js";
import { runtimeAvailable } from "./helpers.js";

const hasNode = await runtimeAvailable("node");

async function mhaCase(): Promise<{ graph: Graph; params: Map<string, Tensor> }> {
  const c = (await loadCases()).find((x) => x.name === "model/multihead_self_causal") as ModelCase;
  const graph = await modelCaseGraph(c);
  const weights = new Map(Object.entries(c.weights!).map(([k, t]) => [k, decodeTensor(t, k)]));
  return { graph, params: bindParams(graph, weights, { requireAll: true }) };
}

function randn(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor("float32", shape, Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1));
}

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return m;
}

describe("exportModel", () => {
  it("writes symbolic dims as dim_param, PyTorch-named initializers and the attention output", async () => {
    const { graph, params } = await mhaCase();
    const res = exportModel(graph, { params });
    const m = res.model.graph!;
    const x = m.input!.find((i) => i.name === "x")!;
    const dims = x.type!.tensorType!.shape!.dim!;
    expect(dims.map((d) => d.dimParam || d.dimValue)).toEqual(["B", "S", 8]);
    expect(m.initializer!.map((t) => t.name)).toContain("mha.in_proj_weight");
    expect(m.output!.map((o) => o.name)).toEqual(["y", "weights"]);
    expect(res.model.opsetImport).toEqual([{ domain: "", version: 17 }]);
  });

  it("names nodes and writes doc_string after the .attn span", async () => {
    const { graph, params } = await mhaCase();
    const nodes = exportModel(graph, { params }).model.graph!.node!;
    const traced = nodes.filter((n) => /multihead_self_causal\.attn:\d+:\d+/.test(n.docString ?? ""));
    expect(traced.length).toBeGreaterThan(0);
    expect(traced.every((n) => n.name!.includes(".attn:"))).toBe(true);
    expect(new Set(nodes.map((n) => n.name)).size).toBe(nodes.length);
  });

  it("round-trips through ModelProto.decode", async () => {
    const { graph, params } = await mhaCase();
    const res = exportModel(graph, { params });
    const back = onnx.ModelProto.decode(res.bytes);
    expect(back.graph!.node!.length).toBe(res.model.graph!.node!.length);
    expect(back.graph!.initializer!.map((t) => t.name)).toEqual(res.model.graph!.initializer!.map((t) => t.name));
    expect(onnx.ModelProto.encode(back).finish()).toEqual(res.bytes);
  });

  it("rejects an op without an exporter, naming the op and its .attn line", () => {
    // every built-in op has an exporter, so this registers one (for this test file only) that has none
    if (!hasOp("test_unexported")) {
      registerOp(defineOp({ name: "test_unexported", summary: "an op with no ONNX exporter", inputs: [{ name: "x" }], attrs: {}, infer: (_ctx, [x]) => [x!] }));
    }
    const b = new GraphBuilder("g");
    const x = b.input("x", { dtype: "float32", shape: ["B", 4] });
    const [m] = b.add("test_unexported", [x], {}, { span: { file: "net.attn", line: 7, column: 3, length: 5 } });
    b.output("m", m);
    expect(() => exportModel(b.build())).toThrow(BackendError);
    expect(() => exportModel(b.build())).toThrow(/net\.attn:7:3.*no ONNX exporter for op "test_unexported"/);
  });

  it("rejects missing parameters clearly; exports graphs with updates with parameters as inputs and updated:<param> outputs", async () => {
    const { graph } = await mhaCase();
    expect(() => exportModel(graph)).toThrow(/parameter "mha\.[a-z_.]+" is missing/);
    const withUpdates: Graph = { ...graph, updates: [{ param: "mha.in_proj_bias", value: graph.params[1].value }] };
    const res = exportModel(withUpdates);
    expect(res.inputNames).toEqual([...graph.inputs.map((i) => graph.values[i].name), ...graph.params.map((p) => p.name)]);
    expect(res.outputNames).toEqual([...graph.outputs.map((o) => o.name), "updated:mha.in_proj_bias"]);
    expect(res.updates).toEqual([{ param: "mha.in_proj_bias", output: "updated:mha.in_proj_bias" }]);
    expect(res.model.graph!.initializer!.some((t) => t.name!.startsWith("mha."))).toBe(false);
    expect(() => exportModel({ ...graph, updates: [{ param: "nope", value: graph.params[1].value }] })).toThrow(/updates "nope", which is not one of its parameters/);
  });

  it("moves large initializers to external data on request", async () => {
    const { graph, params } = await mhaCase();
    const res = exportModel(graph, { params, externalData: "m.data", externalDataThreshold: 256 });
    const w = res.model.graph!.initializer!.find((t) => t.name === "mha.in_proj_weight")!;
    expect(w.externalData!.find((e) => e.key === "location")!.value).toBe("m.data");
    expect(res.externalData!.bytes.length).toBeGreaterThanOrEqual(24 * 8 * 4);
  });

  it("lists the exportable ops", () => {
    const ops = exportableOps();
    for (const op of ["attention", "attention_mask", "softmax", "linear", "reshape", "positional_encoding", "embedding"]) expect(ops).toContain(op);
  });
});

describe.runIf(hasNode)("exported models on onnxruntime-node", () => {
  it("one exported file runs at 3 sequence lengths and matches backend-cpu", async () => {
    const { graph, params } = await mhaCase();
    const ort = await loadOrt("node");
    const session = await ort.InferenceSession.create(exportModel(graph, { params }).bytes);
    const cpu = await Session.create(graph, createCpuBackend(), { weights: params, requireAll: true });
    try {
      for (const [k, S] of [3, 7, 12].entries()) {
        const x = randn([2, S, 8], k + 1);
        const want = await cpu.run({ x });
        const got = await session.run({ x: new ort.Tensor("float32", x.data as Float32Array, [...x.shape]) });
        for (const name of ["y", "weights"]) {
          const t = got[name];
          expect(maxDiff(new Tensor("float32", t.dims.map(Number), t.data as Float32Array), want[name])).toBeLessThan(1e-5);
        }
      }
    } finally {
      cpu.dispose();
      await session.release();
    }
  });

  it("opset 23 uses the standard Attention op for fused attention and matches backend-cpu", async () => {
    const { graph, params } = await mhaCase();
    const cpuBackend = createCpuBackend();
    const fused = optimize(graph, { evaluate: cpuBackend.evaluateNode.bind(cpuBackend) });
    // Drop the weights output, so the fused node needs no weights and fits the standard op.
    const noWeights: Graph = { ...fused, outputs: fused.outputs.filter((o) => o.name === "y") };
    const small = optimize(noWeights, { evaluate: cpuBackend.evaluateNode.bind(cpuBackend) });
    const res = exportModel(small, { params, opset: 23 });
    const ops = res.model.graph!.node!.map((n) => n.opType);
    if (small.nodes.some((n) => n.op === "attention")) expect(ops).toContain("Attention");
    const onnxBackend = createOnnxBackend({ opset: 23 });
    const exe = await onnxBackend.compile(small, { params });
    const cpuExe = await cpuBackend.compile(small, { params });
    try {
      for (const S of [1, 4, 9]) {
        const x = randn([3, S, 8], S);
        expect(maxDiff((await exe.run({ x })).y, (await cpuExe.run({ x })).y)).toBeLessThan(1e-5);
      }
    } finally {
      exe.dispose();
      cpuExe.dispose();
    }
  });

  it("writeParams re-creates the session; readParams returns the initializers", async () => {
    const { graph, params } = await mhaCase();
    const exe = await createOnnxBackend().compile(graph, { params });
    const x = randn([1, 4, 8], 3);
    const before = (await exe.run({ x }, { outputs: ["y"] })).y;
    const read = await exe.readParams();
    expect(maxDiff(read.get("mha.out_proj.bias")!, params.get("mha.out_proj.bias")!)).toBe(0);
    await exe.writeParams(new Map([["mha.out_proj.bias", new Tensor("float32", [8], new Float32Array(8).fill(1))]]));
    const after = (await exe.run({ x }, { outputs: ["y"] })).y;
    expect(Object.keys(await exe.run({ x }, { outputs: ["y"] }))).toEqual(["y"]);
    const bias = params.get("mha.out_proj.bias")!.data;
    for (let i = 0; i < 8; i++) expect(after.data[i] - before.data[i]).toBeCloseTo(1 - Number(bias[i]), 5);
    exe.dispose();
    await expect(exe.run({ x })).rejects.toThrow(/disposed/);
  });

  it("applies updates after each run, keeping parameters resident", async () => {
    const { graph, params } = await mhaCase();
    const withUpdates: Graph = { ...graph, updates: [{ param: "mha.in_proj_bias", value: graph.params[1].value }] };
    await expect(createOnnxBackend().compile(withUpdates, { params: new Map() })).rejects.toThrow(/has no value/);
    const exe = await createOnnxBackend().compile(withUpdates, { params });
    try {
      const inputs = Object.fromEntries(graph.inputs.map((id) => {
        const t = graph.values[id].type;
        return [graph.values[id].name, new Tensor(t.dtype, t.shape.map((d) => (typeof d === "number" ? d : 2)))];
      }));
      await exe.run(inputs);
      const after = await exe.readParams();
      expect(Array.from(after.get("mha.in_proj_bias")!.data)).toEqual(Array.from(params.get(graph.params[1].name)!.data));
    } finally {
      exe.dispose();
    }
  });
});
