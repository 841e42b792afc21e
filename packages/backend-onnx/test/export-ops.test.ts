// The gru, gru_cell, scan and image exporters against the cpu backend on small shapes: each graph is
// exported at opset 17, validated by onnx.checker (when installed), and run on onnxruntime-node at several
// sizes of its symbolic dims.
import { afterAll, describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, type Attrs, type Dim, type Graph } from "@attn/core";
import { onnxCheckerAvailable, useOnnxChecker } from "./checker.js";
import { cpuBackend, expectChecked, expectSameOutputs, exportToFile, ortSession, removeTemp } from "./reference.js";
import { gruGateOrder } from "../src/export/ops/recurrent.js";

const CHECK = useOnnxChecker();
const ATOL = 1e-5;

afterAll(removeTemp);

/** mulberry32 in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function rand(shape: readonly number[], r: () => number): Tensor {
  return Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r()), { shape });
}

/** Concrete shape of `dims` with symbols bound by `env`. */
function concrete(dims: readonly Dim[], env: Record<string, number>): number[] {
  return dims.map((d) => {
    if (typeof d === "number") return d;
    const m = /^(\d+)\*([A-Za-z_]\w*)$/.exec(d);
    if (m) return Number(m[1]) * env[m[2]];
    if (!(d in env)) throw new Error(`no size for ${d}`);
    return env[d];
  });
}

/**
 * Exports `graph` (params drawn from a fixed seed) at opsets 17 and 23, checks the opset-17 file (the
 * checker knows opsets ≤ 17), and compares ONNX Runtime with the cpu backend for each binding of its
 * symbolic dims.
 */
async function roundTrip(graph: Graph, name: string, envs: readonly Record<string, number>[], seed = 7): Promise<void> {
  const r = rng(seed);
  const params = new Map(graph.params.map((p) => [p.name, rand(graph.values[p.value].type.shape as number[], r)] as [string, Tensor]));
  const exe = await (await cpuBackend()).compile(graph, { params });
  try {
    for (const opset of [17, 23] as const) {
      const { path, bytes } = exportToFile(graph, params, `${name}_opset${opset}`, opset);
      if (CHECK && opset === 17) expectChecked(path);
      const sess = await ortSession(bytes);
      try {
        for (const env of envs) {
          const feeds = Object.fromEntries(graph.inputs.map((id) => {
            const v = graph.values[id];
            return [v.name, rand(concrete(v.type.shape, env), r)];
          }));
          const want = await exe.run(feeds);
          const got = await sess.run(feeds);
          expectSameOutputs(got, want, ATOL, `${name} opset ${opset} ${JSON.stringify(env)}`);
        }
      } finally {
        await sess.release();
      }
    }
  } finally {
    exe.dispose();
  }
}

const SIZES = [{ B: 2, S: 3 }, { B: 1, S: 1 }, { B: 3, S: 6 }];

describe("gate order", () => {
  it("moves PyTorch's r, z, n row blocks to ONNX's z, r, h", () => {
    expect(gruGateOrder(2)).toEqual([2, 3, 0, 1, 4, 5]);
  });
});

describe("gru → ONNX GRU", () => {
  const I = 4;
  const H = 5;
  function gruGraph(opts: { bidirectional: boolean; h0: boolean; biases: "both" | "none" | "ih" }): Graph {
    const b = new GraphBuilder("gru_test");
    const x = b.input("x", { dtype: "float32", shape: ["B", "S", I] });
    const dirs = opts.bidirectional ? ["_l0", "_l0_reverse"] : ["_l0"];
    const slots: (number | null)[] = [x];
    for (const sfx of dirs) {
      const p = (n: string, shape: number[]) => b.param(`gru.${n}${sfx}`, { dtype: "float32", shape }, { kind: "zeros" });
      slots.push(p("weight_ih", [3 * H, I]), p("weight_hh", [3 * H, H]));
      slots.push(opts.biases !== "none" ? p("bias_ih", [3 * H]) : null, opts.biases === "both" ? p("bias_hh", [3 * H]) : null);
    }
    while (slots.length < 9) slots.push(null);
    slots.push(opts.h0 ? b.input("h0", { dtype: "float32", shape: [dirs.length, "B", H] }) : null);
    const [y, hn] = b.add("gru", slots, { hidden: H, bidirectional: opts.bidirectional });
    b.output("y", y);
    b.output("h_n", hn);
    return b.build();
  }
  for (const bidirectional of [false, true]) {
    for (const h0 of [false, true]) {
      it(`${bidirectional ? "bidirectional" : "unidirectional"}, ${h0 ? "with" : "without"} h0`, async () => {
        await roundTrip(gruGraph({ bidirectional, h0, biases: "both" }), `gru_${bidirectional ? "bi" : "uni"}_${h0 ? "h0" : "noh0"}`, SIZES);
      });
    }
  }
  it("without biases, and with only bias_ih", async () => {
    await roundTrip(gruGraph({ bidirectional: true, h0: true, biases: "none" }), "gru_nobias", SIZES);
    await roundTrip(gruGraph({ bidirectional: false, h0: false, biases: "ih" }), "gru_ihbias", SIZES);
  });
  it("keeps the parameters as initializers under their PyTorch names", async () => {
    const g = gruGraph({ bidirectional: true, h0: false, biases: "both" });
    const params = new Map(g.params.map((p) => [p.name, Tensor.zeros(g.values[p.value].type.shape as number[])] as [string, Tensor]));
    const { exportModel } = await import("../src/export/exporter.js");
    const names = (exportModel(g, { opset: 17, params }).model.graph?.initializer ?? []).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(g.params.map((p) => p.name)));
  });
});

describe("gru_cell → one-step ONNX GRU", () => {
  for (const biases of [true, false]) {
    it(biases ? "with biases" : "without biases", async () => {
      const [I, H] = [3, 4];
      const b = new GraphBuilder("gru_cell_test");
      const x = b.input("x", { dtype: "float32", shape: ["B", I] });
      const h = b.input("h", { dtype: "float32", shape: ["B", H] });
      const p = (n: string, shape: number[]) => b.param(`cell.${n}`, { dtype: "float32", shape }, { kind: "zeros" });
      const ins = [x, h, p("weight_ih", [3 * H, I]), p("weight_hh", [3 * H, H]), biases ? p("bias_ih", [3 * H]) : null, biases ? p("bias_hh", [3 * H]) : null];
      b.output("h_next", b.add1("gru_cell", ins));
      await roundTrip(b.build(), `gru_cell_${biases}`, SIZES);
    });
  }
});

describe("scan → ONNX Scan", () => {
  const [I, H] = [3, 4];
  /** c' = tanh(c + x_t·W + bias); per-step: c', Σ_j c'[b, j] ([B]) and Σ c' (a scalar). */
  function scanGraph(opts: { reverse: boolean; saveCarries: boolean; sequences: boolean; length?: number | string }): Graph {
    const b = new GraphBuilder("scan_test");
    const c0 = b.input("c0", { dtype: "float32", shape: ["B", H] });
    const xs = opts.sequences ? b.input("xs", { dtype: "float32", shape: ["B", "S", I] }) : null;
    // without sequences, an unread input gives the symbolic length S its run-time value
    if (!opts.sequences) b.input("steps", { dtype: "float32", shape: ["B", "S"] });
    const bias = b.input("bias", { dtype: "float32", shape: [H] });
    const W = b.param("cell.W", { dtype: "float32", shape: [I, H] }, { kind: "zeros" });
    const body = b.subgraph("body");
    const c = body.input("c", { dtype: "float32", shape: ["B", H] });
    const x = opts.sequences ? body.input("x_t", { dtype: "float32", shape: ["B", I] }) : null;
    const w = body.input("w", { dtype: "float32", shape: [I, H] });
    const bb = body.input("bb", { dtype: "float32", shape: [H] });
    const pre = x === null ? body.add1("add", [c, bb]) : body.add1("add", [body.add1("add", [c, body.add1("matmul", [x, w])]), bb]);
    const next = body.add1("tanh", [x === null ? body.add1("add", [pre, body.add1("reduce_sum", [w], { axes: [0], keepdims: false })]) : pre]);
    body.output("c_next", next);
    body.output("h_t", next);
    body.output("row_sum", body.add1("reduce_sum", [next], { axes: [1], keepdims: false }));
    body.output("total", body.add1("reduce_sum", [next], { axes: [0, 1], keepdims: false }));
    const attrs: Attrs = { body: body.build(), numCarries: 1, numSequences: xs === null ? 0 : 1, reverse: opts.reverse, saveCarries: opts.saveCarries, ...(xs === null ? { length: opts.length ?? 4 } : {}) };
    const outs = b.add("scan", xs === null ? [c0, W, bias] : [c0, xs, W, bias], attrs);
    const names = ["c_final", "hs", "row_sums", "totals", "saved_c"];
    outs.forEach((o, i) => b.output(names[i], o));
    return b.build();
  }
  for (const reverse of [false, true]) {
    for (const saveCarries of [false, true]) {
      it(`captures (a param and an input)${reverse ? ", reverse" : ""}${saveCarries ? ", saveCarries" : ""}`, async () => {
        const g = scanGraph({ reverse, saveCarries, sequences: true });
        expect(g.outputs.length).toBe(saveCarries ? 5 : 4);
        await roundTrip(g, `scan_${reverse}_${saveCarries}`, SIZES);
      });
    }
  }
  it("without sequences (a concrete and a symbolic length)", async () => {
    await roundTrip(scanGraph({ reverse: false, saveCarries: true, sequences: false, length: 4 }), "scan_length", SIZES);
    await roundTrip(scanGraph({ reverse: true, saveCarries: false, sequences: false, length: "S" }), "scan_length_symbolic", SIZES);
  });
});

describe("image ops", () => {
  function one(op: string, xShape: Dim[], attrs: Attrs, weight?: number[], bias = false): Graph {
    const b = new GraphBuilder(`${op}_test`);
    const ins: (number | null)[] = [b.input("x", { dtype: "float32", shape: xShape })];
    if (weight) ins.push(b.param("conv.weight", { dtype: "float32", shape: weight }, { kind: "zeros" }));
    if (bias) ins.push(b.param("conv.bias", { dtype: "float32", shape: [weight![0]] }, { kind: "zeros" }));
    b.output("y", b.add1(op, ins, attrs));
    return b.build();
  }
  const BS = [{ B: 1 }, { B: 2 }, { B: 3 }];
  it("conv2d: groups, dilation, stride, padding, with and without bias", async () => {
    await roundTrip(one("conv2d", ["B", 4, 7, 9], { stride: [2, 1], padding: [1, 2], dilation: [2, 1], groups: 2 }, [6, 2, 3, 2], true), "conv_a", BS);
    await roundTrip(one("conv2d", ["B", 3, 5, 5], {}, [2, 3, 3, 3]), "conv_b", BS);
    await roundTrip(one("conv2d", ["B", 4, 6, 6], { groups: 4, padding: [1, 1] }, [4, 1, 3, 3], true), "conv_depthwise", BS);
  });
  it("max_pool2d and avg_pool2d (padding counts as zeros in the average)", async () => {
    for (const op of ["max_pool2d", "avg_pool2d"]) {
      await roundTrip(one(op, ["B", 2, 7, 6], { kernel: [3, 2], stride: [2, 1], padding: [1, 1] }), `${op}_pad`, BS);
      await roundTrip(one(op, ["B", 3, 6, 6], { kernel: [2, 2] }), `${op}_plain`, BS);
    }
  });
  it("patches: row-major grid, channel-major patches (concrete and symbolic sizes)", async () => {
    await roundTrip(one("patches", ["B", 3, 4, 6], { size: 2 }), "patches_static", BS);
    await roundTrip(one("patches", ["B", "C", 4, 6], { size: 2 }), "patches_symbolic_c", [{ B: 1, C: 1 }, { B: 2, C: 3 }, { B: 1, C: 2 }]);
    // symbolic height and width (2·h, 2·w): the cpu backend binds only lone symbols, so the reference is the
    // cpu run of the same op on a graph with those sizes concrete
    const { path, bytes } = exportToFile(one("patches", ["B", "C", "2*h", "2*w"], { size: 2 }), new Map(), "patches_dynamic");
    if (CHECK) expectChecked(path);
    const sess = await ortSession(bytes);
    const cpu = await cpuBackend();
    const r = rng(3);
    for (const [B, C, h, w] of [[1, 1, 1, 1], [2, 3, 2, 3], [1, 2, 3, 2]]) {
      const x = rand([B, C, 2 * h, 2 * w], r);
      const exe = await cpu.compile(one("patches", [B, C, 2 * h, 2 * w], { size: 2 }), { params: new Map() });
      expectSameOutputs(await sess.run({ x }), await exe.run({ x }), 0, `patches_dynamic ${[B, C, h, w].join("x")}`);
      exe.dispose();
    }
    await sess.release();
  });
  it("patches: a hand-checked ordering", async () => {
    // x [1, 2, 2, 4] with values 0..15, p = 2: patch 0 = channel 0 rows 0-1 cols 0-1, then channel 1
    const g = one("patches", [1, 2, 2, 4], { size: 2 });
    const { bytes } = exportToFile(g, new Map(), "patches_hand");
    const sess = await ortSession(bytes);
    const x = Tensor.from(Array.from({ length: 16 }, (_, i) => i), { shape: [1, 2, 2, 4] });
    const { y } = await sess.run({ x });
    await sess.release();
    expect([...y.shape]).toEqual([1, 2, 8]);
    expect(Array.from(y.data)).toEqual([0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15]);
  });
});

it("reports whether onnx.checker ran", () => {
  expect(typeof onnxCheckerAvailable()).toBe("boolean");
});
