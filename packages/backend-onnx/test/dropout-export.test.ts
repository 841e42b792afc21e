import { describe, expect, it } from "vitest";
import { BackendError, GraphBuilder, Tensor, Trainer, buildTrainingGraph, dropoutUniform, type Backend, type DType, type Graph } from "@attn/core";
import { compileSource } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";
import { createOnnxBackend, exportModel } from "../src/index.js";
import { runtimeAvailable } from "./helpers.js";

const AVAILABLE = { node: await runtimeAvailable("node"), web: await runtimeAvailable("web") };
const SPAN = { file: "net.attn", line: 7, column: 3, length: 5 };

/** The one-node graph dropout_mask(x, step). */
function maskGraph(p: number, salt: number, shape: readonly (number | string)[] = ["B", "N"], dtype: DType = "float32"): Graph {
  const b = new GraphBuilder("mask");
  const x = b.input("x", { dtype, shape: [...shape] });
  const step = b.input("step", { dtype: "int32", shape: [] });
  const [m] = b.add("dropout_mask", [x, step], { p, salt }, { span: SPAN });
  b.output("m", m);
  return b.build();
}

function xOf(shape: readonly number[], dtype: DType = "float32"): Tensor {
  const n = shape.reduce((a, d) => a * d, 1);
  if (dtype === "int32") return new Tensor("int32", shape, Int32Array.from({ length: n }, (_, i) => i - 5));
  return new Tensor("float32", shape, Float32Array.from({ length: n }, (_, i) => Math.sin(i)));
}

async function masks(backend: Backend, g: Graph, x: Tensor, steps: readonly number[]): Promise<Float32Array[]> {
  const exe = await backend.compile(g, { params: new Map() });
  try {
    const out: Float32Array[] = [];
    for (const s of steps) out.push((await exe.run({ x, step: Tensor.scalar(s, "int32") })).m.data as Float32Array);
    return out;
  } finally {
    exe.dispose();
  }
}

/** Indices where two masks differ (bit for bit), at most 5. */
function differences(a: Float32Array, b: Float32Array): string[] {
  const d: string[] = [];
  if (a.length !== b.length) return [`length ${a.length} vs ${b.length}`];
  for (let i = 0; i < a.length && d.length < 5; i++) if (!Object.is(a[i], b[i])) d.push(`[${i}] ${a[i]} vs ${b[i]}`);
  return d;
}

const STEPS = [0, 1, 7, 123456, 2147483647];
const CASES = [
  { p: 0.1, salt: 0, shape: [64, 100] },
  { p: 0.5, salt: 1, shape: [64, 100] },
  { p: 0.5, salt: 3, shape: [3, 37] },
  { p: 0.1, salt: 1000, shape: [2, 5, 33] },
] as const;

describe("dropout_mask export (opset ≥ 18)", () => {
  it("emits the hash with uint32 Mul/Add, BitShift and BitwiseXor over a Range shaped like x", () => {
    const res = exportModel(maskGraph(0.5, 1), { opset: 23 });
    const ops = new Set(res.model.graph!.node!.map((n) => n.opType));
    for (const op of ["Range", "Shape", "Reshape", "BitShift", "BitwiseXor", "Mul", "Add", "GreaterOrEqual", "Where"]) expect(ops.has(op), op).toBe(true);
    expect(res.model.graph!.node!.every((n) => n.docString === "attn dropout_mask at net.attn:7:3" || n.opType === "Identity")).toBe(true);
  });

  for (const runtime of ["node", "web"] as const) {
    describe.skipIf(!AVAILABLE[runtime])(`on onnxruntime-${runtime}`, () => {
      it("gives backend-cpu's masks bit for bit (p ∈ {0.1, 0.5}, several salts, steps and shapes)", async () => {
        const cpu = createCpuBackend();
        const onnx = createOnnxBackend({ runtime, numThreads: 1, opset: 23 });
        for (const { p, salt, shape } of CASES) {
          const g = maskGraph(p, salt, shape.length === 2 ? ["B", "N"] : ["B", "S", "N"]);
          const x = xOf(shape);
          const [want, got] = [await masks(cpu, g, x, STEPS), await masks(onnx, g, x, STEPS)];
          for (const [k, step] of STEPS.entries()) {
            expect(differences(got[k], want[k]), `p=${p} salt=${salt} step=${step} shape=[${shape.join(",")}]`).toEqual([]);
            // the reference draw itself (not only agreement): element i is kept iff dropoutUniform ≥ p
            const keep = Math.fround(1 / (1 - p));
            for (const i of [0, 1, want[k].length - 1]) expect(got[k][i]).toBe(dropoutUniform(step, salt, i) >= p ? keep : 0);
            const kept = got[k].reduce((s, v) => s + (v !== 0 ? 1 : 0), 0) / got[k].length;
            expect(Math.abs(kept - (1 - p))).toBeLessThan(shape[0] === 3 ? 0.3 : 0.05);
          }
        }
      });

      it("draws the same masks for an int32 x and a rank-0 x; p = 0 keeps everything", async () => {
        const cpu = createCpuBackend();
        const onnx = createOnnxBackend({ runtime, numThreads: 1, opset: 23 });
        for (const [g, x] of [
          [maskGraph(0.3, 2, ["B", 9], "int32"), xOf([4, 9], "int32")],
          [maskGraph(0.5, 0, []), Tensor.scalar(1)],
          [maskGraph(0, 4), xOf([5, 6])],
        ] as const) {
          const [want, got] = [await masks(cpu, g, x, [0, 5, 99]), await masks(onnx, g, x, [0, 5, 99])];
          for (let k = 0; k < want.length; k++) expect(differences(got[k], want[k])).toEqual([]);
        }
      });
    });
  }
});

const DROPOUT_MODEL = `
model Dropped(features = 6, hidden = 12) {
  input  x: float32[B, features]
  output y: float32[B, 1]

  a = linear(x, out: hidden) as fc1
  d = dropout(relu(a), p: 0.3)
  b = linear(d, out: hidden) as fc2
  e = dropout(relu(b), p: 0.5)
  y = linear(e, out: 1) as head
}
`;

describe.skipIf(!AVAILABLE.node && !AVAILABLE.web)("training a model with dropout (the step exports at opset 23)", () => {
  const OPTS = { loss: { kind: "mse", output: "y" }, optimizer: { kind: "adam", lr: 0.01 }, seed: 11 } as const;
  const batch = {
    x: new Tensor("float32", [8, 6], Float32Array.from({ length: 48 }, (_, i) => Math.sin(0.7 * i))),
    target: new Tensor("float32", [8, 1], Float32Array.from({ length: 8 }, (_, i) => Math.cos(i))),
  };

  async function curve(backend: Backend): Promise<number[]> {
    const { graph, diagnostics } = await compileSource(DROPOUT_MODEL, { file: "dropped.attn", model: "Dropped" });
    if (!graph) throw new Error(diagnostics.map((d) => d.message).join("\n"));
    // the training step draws two masks (one salt per dropout node)
    const masks = buildTrainingGraph(graph, OPTS).graph.nodes.filter((n) => n.op === "dropout_mask");
    expect(masks.map((n) => [n.attrs.p, n.attrs.salt])).toEqual([[0.3, 0], [0.5, 1]]);
    const trainer = await Trainer.create(graph, backend, OPTS);
    try {
      const losses: number[] = [];
      for (let k = 0; k < 5; k++) losses.push((await trainer.step(batch)).loss);
      return losses;
    } finally {
      trainer.dispose();
    }
  }

  for (const runtime of ["node", "web"] as const) {
    it.skipIf(!AVAILABLE[runtime])(`follows backend-cpu's loss curve through the Trainer on onnxruntime-${runtime} (5 Adam steps, within 1e-5)`, async () => {
      const cpu = await curve(createCpuBackend());
      // the backend's default opset is 17: the training step itself exports at 23, where its masks can be drawn
      const onnx = await curve(createOnnxBackend({ runtime, numThreads: 1 }));
      const maxDelta = Math.max(...cpu.map((l, k) => Math.abs(l - onnx[k])));
      console.log(`[dropout:${runtime}] loss curve ${onnx.map((l) => l.toFixed(6)).join(", ")}; max |Δloss| vs backend-cpu: ${maxDelta.toExponential(2)}`);
      expect(maxDelta).toBeLessThanOrEqual(1e-5);
      expect(new Set(cpu).size).toBe(5);
    });
  }
});

describe("dropout_mask at opset 17", () => {
  it("fails with a BackendError naming the op and its .attn span, and saying to export with --opset 23", () => {
    const g = maskGraph(0.1, 0);
    expect(() => exportModel(g, { opset: 17 })).toThrow(BackendError);
    expect(() => exportModel(g)).toThrow(/dropout_mask \(at net\.attn:7:3\) at ONNX opset 17.*BitwiseXor.*--opset 23/);
    try {
      exportModel(g, { opset: 17 });
    } catch (e) {
      expect((e as BackendError).span).toEqual(SPAN);
    }
  });

  it.skipIf(!AVAILABLE.node)("a default (opset 17) ONNX backend rejects it at compile time", async () => {
    await expect(createOnnxBackend().compile(maskGraph(0.1, 0), { params: new Map() })).rejects.toThrow(/--opset 23/);
  });
});
