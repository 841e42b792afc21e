// The fused backward ops' ONNX exporters (grad-*.ts) against the cpu backend: each test builds a one-node
// graph, exports it at opset 17, validates the file with onnx.checker (when installed), runs it on
// onnxruntime-node and compares every output with the cpu kernel within 1e-5 + 1e-4·|expected|.
import { afterAll, describe, expect, it } from "vitest";
import { GraphBuilder, Tensor, type Attrs, type Dim, type DType, type Graph } from "@attn/core";
import { useOnnxChecker } from "./checker.js";
import { cpuBackend, expectChecked, exportToFile, ortSession, removeTemp } from "./reference.js";

const CHECK = useOnnxChecker();
const ATOL = 1e-5;
const RTOL = 1e-4;

/** Worst absolute error per op, printed at the end. */
const worst = new Map<string, number>();

afterAll(() => {
  removeTemp();
  console.log(`[grad-ops-export] max abs error vs cpu: ${[...worst].map(([op, e]) => `${op} ${e.toExponential(2)}`).join(", ")}`);
});

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

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function rand(shape: readonly number[], r: () => number, levels = 0): Tensor {
  // `levels` > 0 quantizes the values (ties for max pooling)
  const data = Array.from({ length: size(shape) }, () => (levels ? Math.round(r() * levels) / levels : r()));
  return Tensor.from(data, { shape });
}

interface In {
  readonly name: string;
  /** The tensor fed; null for an absent optional input. */
  readonly value: Tensor | null;
  /** The declared shape when it differs from the value's (a symbolic batch). */
  readonly dims?: readonly Dim[];
}

/** One-node graph `op(inputs)` with every output a graph output, fed with the given tensors. */
function oneNode(op: string, ins: readonly In[], attrs: Attrs): Graph {
  const b = new GraphBuilder(`${op}_test`);
  const ids = ins.map((i) => (i.value === null ? null : b.input(i.name, { dtype: i.value.dtype as DType, shape: [...(i.dims ?? i.value.shape)] })));
  b.add(op, ids, attrs).forEach((o, k) => b.output(`out${k}`, o));
  return b.build();
}

async function compare(op: string, label: string, ins: readonly In[], attrs: Attrs): Promise<void> {
  const graph = oneNode(op, ins, attrs);
  const feeds = Object.fromEntries(ins.filter((i) => i.value !== null).map((i) => [i.name, i.value!]));
  const exe = await (await cpuBackend()).compile(graph, { params: new Map() });
  try {
    const want = await exe.run(feeds);
    const { path, bytes } = exportToFile(graph, new Map(), `${op}_${label}`.replace(/[^\w]/g, "_"), 17);
    if (CHECK) expectChecked(path);
    const sess = await ortSession(bytes);
    try {
      const got = await sess.run(feeds);
      for (const [name, e] of Object.entries(want)) {
        const a = got[name];
        expect(a, `${op} ${label}: output ${name} missing`).toBeDefined();
        expect([...a.shape], `${op} ${label}: shape of ${name}`).toEqual([...e.shape]);
        let maxErr = 0;
        let bad = -1;
        for (let i = 0; i < e.data.length; i++) {
          const err = Math.abs(a.data[i] - e.data[i]);
          if (!(err <= ATOL + RTOL * Math.abs(e.data[i])) && bad < 0) bad = i;
          maxErr = Math.max(maxErr, Number.isNaN(err) ? Infinity : err);
        }
        expect(bad, `${op} ${label}: ${name}[${bad}] = ${a.data[bad]}, cpu ${e.data[bad]} (max abs error ${maxErr})`).toBe(-1);
        worst.set(op, Math.max(worst.get(op) ?? 0, maxErr));
      }
    } finally {
      await sess.release();
    }
  } finally {
    exe.dispose();
  }
}

const f = (name: string, shape: readonly number[], r: () => number, levels = 0): In => ({ name, value: rand(shape, r, levels) });
const none = (name: string): In => ({ name, value: null });
/** `input` declared with dim `axis` symbolic ("B"). */
const sym = (input: In, axis = 0): In => (input.value === null ? input : { ...input, dims: input.value.shape.map((d, i) => (i === axis ? "B" : d)) });

describe("layer_norm_grad", () => {
  it("with and without weight, rank 3 and 2", async () => {
    const r = rng(1);
    await compare("layer_norm_grad", "w", [f("x", [2, 3, 5], r), f("w", [5], r), f("dy", [2, 3, 5], r)], { eps: 1e-5 });
    await compare("layer_norm_grad", "now", [f("x", [4, 6], r), none("w"), f("dy", [4, 6], r)], { eps: 1e-3 });
    await compare("layer_norm_grad", "symbatch", [sym(f("x", [3, 2, 5], r)), f("w", [5], r), sym(f("dy", [3, 2, 5], r))], {});
    await compare("layer_norm_grad", "rank1", [f("x", [7], r), f("w", [7], r), f("dy", [7], r)], {});
  });
});

describe("embedding_grad", () => {
  it("scatter-adds rows, repeated indices accumulate", async () => {
    const r = rng(2);
    const idx = new Tensor("int32", [2, 5], Int32Array.from([0, 3, 3, 6, 1, 3, 0, 2, 6, 6]));
    await compare("embedding_grad", "2d", [f("weight", [7, 4], r), { name: "indices", value: idx }, f("dy", [2, 5, 4], r)], {});
    const idx1 = new Tensor("int32", [4], Int32Array.from([2, 2, 0, 2]));
    await compare("embedding_grad", "1d", [f("weight", [3, 5], r), { name: "indices", value: idx1 }, f("dy", [4, 5], r)], {});
  });
});

describe("conv2d_grad", () => {
  const cases: [string, number[], number[], Attrs][] = [
    ["groups_dil_stride_pad", [2, 4, 7, 9], [6, 2, 3, 2], { stride: [2, 1], padding: [1, 2], dilation: [2, 1], groups: 2 }],
    ["plain", [2, 3, 5, 5], [2, 3, 3, 3], {}],
    ["depthwise", [2, 4, 6, 6], [4, 1, 3, 3], { groups: 4, padding: [1, 1] }],
    ["stride_remainder", [1, 2, 8, 7], [3, 2, 3, 3], { stride: [3, 2], padding: [1, 0] }],
    ["dilation_stride", [3, 2, 9, 10], [4, 2, 2, 3], { stride: [2, 3], padding: [2, 1], dilation: [3, 2] }],
  ];
  for (const [label, xs, ws, attrs] of cases) {
    it(label, async () => {
      const r = rng(3);
      const b = new GraphBuilder("shape");
      const [y] = b.add("conv2d", [b.input("x", { dtype: "float32", shape: xs }), b.input("w", { dtype: "float32", shape: ws }), null], attrs);
      const ys = b.typeOf(y).shape as number[];
      await compare("conv2d_grad", label, [f("x", xs, r), f("weight", ws, r), f("dy", ys, r)], attrs);
      await compare("conv2d_grad", `${label}_symbatch`, [sym(f("x", xs, r)), f("weight", ws, r), sym(f("dy", ys, r))], attrs);
    });
  }
});

describe("pool grads", () => {
  const cases: [string, number[], Attrs][] = [
    ["pad_overlap", [2, 2, 7, 6], { kernel: [3, 2], stride: [2, 1], padding: [1, 1] }],
    ["plain", [2, 3, 6, 6], { kernel: [2, 2] }],
    ["overlap_stride1", [1, 2, 5, 5], { kernel: [3, 3], stride: [1, 1], padding: [1, 1] }],
    ["remainder", [1, 1, 8, 7], { kernel: [2, 3], stride: [3, 2] }],
  ];
  for (const op of ["max_pool2d_grad", "avg_pool2d_grad"]) {
    for (const [label, xs, attrs] of cases) {
      it(`${op} ${label}`, async () => {
        const r = rng(4);
        const b = new GraphBuilder("shape");
        const y = b.add1(op.slice(0, -5), [b.input("x", { dtype: "float32", shape: xs })], attrs);
        const ys = b.typeOf(y).shape as number[];
        // few distinct values: windows hold ties, which must go to the first maximum
        await compare(op, label, [f("x", xs, r, op.startsWith("max") ? 2 : 0), f("dy", ys, r)], attrs);
        await compare(op, `${label}_symbatch`, [sym(f("x", xs, r, op.startsWith("max") ? 2 : 0)), sym(f("dy", ys, r))], attrs);
      });
    }
  }
});

describe("patches_grad", () => {
  it("inverse permutation of patches", async () => {
    const r = rng(5);
    await compare("patches_grad", "p2", [f("x", [2, 3, 8, 4], r), f("dy", [2, 8, 12], r)], { size: 2 });
    await compare("patches_grad", "p3", [f("x", [1, 2, 6, 9], r), f("dy", [1, 6, 18], r)], { size: 3 });
    await compare("patches_grad", "symbatch", [sym(f("x", [3, 2, 4, 6], r)), sym(f("dy", [3, 6, 8], r))], { size: 2 });
  });
});

describe("attention_grad", () => {
  const [B, Tq, Tk, D, Dv] = [2, 5, 6, 4, 3];
  const base = (r: () => number, tk = Tk, heads = 0): In[] => {
    const lead = heads ? [B, heads] : [B];
    return [f("q", [...lead, Tq, D], r), f("k", [...lead, tk, D], r), f("v", [...lead, tk, Dv], r)];
  };
  const dOut = (r: () => number, heads = 0) => f("d_out", [...(heads ? [B, heads] : [B]), Tq, Dv], r);
  const selects: [string, Attrs["select"]][] = [["softmax", "softmax"], ["argmax", "argmax"], ["topk", { topk: 2 }]];
  for (const [sname, select] of selects) {
    it(`${sname}: plain, causal, window, causal+window`, async () => {
      const r = rng(6);
      for (const [label, extra] of [["plain", {}], ["causal", { causal: true }], ["window", { window: 1 }], ["causal_window", { causal: true, window: 2 }]] as const) {
        const tk = label === "plain" ? Tk : Tq;
        await compare("attention_grad", `${sname}_${label}`, [...base(r, tk), none("mask"), dOut(r), none("d_weights")], { scale: 0.7, select, ...extra });
      }
    });
    it(`${sname}: padding mask with a fully masked batch row, full mask with a fully masked query, d_weights, 4-D`, async () => {
      const r = rng(7);
      // batch 1 masks every key: its queries are fully masked
      const pad = new Tensor("bool", [B, Tk], Uint8Array.from([0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1]));
      await compare("attention_grad", `${sname}_padmask`, [...base(r), { name: "mask", value: pad }, dOut(r), none("d_weights")], { scale: 0.5, select });
      const fullMask = Uint8Array.from({ length: B * Tq * Tk }, (_, i) => (Math.floor(i / Tk) === 3 ? 1 : Number(r() > 0.4)));
      const m = new Tensor("bool", [B, Tq, Tk], fullMask);
      await compare("attention_grad", `${sname}_fullmask_dw`, [...base(r), { name: "mask", value: m }, dOut(r), f("d_weights", [B, Tq, Tk], r)], { scale: 1, select });
      await compare("attention_grad", `${sname}_4d_dw_causal`, [...base(r, Tq, 2), none("mask"), dOut(r, 2), f("d_weights", [B, 2, Tq, Tq], r)], { scale: 0.8, select, causal: true });
      await compare("attention_grad", `${sname}_symbatch`, [...base(r).map((i) => sym(i)), sym({ name: "mask", value: pad }), sym(dOut(r)), none("d_weights")], { scale: 0.5, select, causal: true, window: 3 });
      await compare("attention_grad", `${sname}_4d_padmask`, [...base(r, Tk, 2), { name: "mask", value: pad }, dOut(r, 2), none("d_weights")], { scale: 0.8, select, window: 2 });
    });
  }
});

describe("gru_cell_grad", () => {
  for (const biases of ["both", "none", "ih"] as const) {
    it(`biases: ${biases}`, async () => {
      const r = rng(8);
      const [B, I, H] = [3, 4, 5];
      await compare("gru_cell_grad", biases, [
        f("x", [B, I], r), f("h", [B, H], r), f("w_ih", [3 * H, I], r), f("w_hh", [3 * H, H], r),
        biases === "none" ? none("b_ih") : f("b_ih", [3 * H], r), biases === "both" ? f("b_hh", [3 * H], r) : none("b_hh"),
        f("dh_new", [B, H], r),
      ], {});
      await compare("gru_cell_grad", `${biases}_symbatch`, [
        sym(f("x", [B, I], r)), sym(f("h", [B, H], r)), f("w_ih", [3 * H, I], r), f("w_hh", [3 * H, H], r),
        biases === "none" ? none("b_ih") : f("b_ih", [3 * H], r), biases === "both" ? f("b_hh", [3 * H], r) : none("b_hh"),
        sym(f("dh_new", [B, H], r)),
      ], {});
    });
  }
});

describe("gru_grad", () => {
  const [I, H] = [3, 4];
  function gruInputs(r: () => number, o: { B: number; S: number; bi: boolean; h0: boolean; dy: boolean; dhn: boolean; biases: "both" | "none" | "ih" }): In[] {
    const dirs = o.bi ? 2 : 1;
    const ins: In[] = [f("x", [o.B, o.S, I], r)];
    for (let d = 0; d < 2; d++) {
      const on = d < dirs;
      ins.push(on ? f(`w_ih${d}`, [3 * H, I], r) : none(`w_ih${d}`), on ? f(`w_hh${d}`, [3 * H, H], r) : none(`w_hh${d}`));
      ins.push(on && o.biases !== "none" ? f(`b_ih${d}`, [3 * H], r) : none(`b_ih${d}`), on && o.biases === "both" ? f(`b_hh${d}`, [3 * H], r) : none(`b_hh${d}`));
    }
    ins.push(o.h0 ? f("h0", [dirs, o.B, H], r) : none("h0"));
    ins.push(f("y", [o.B, o.S, dirs * H], r));
    ins.push(o.dy ? f("dy", [o.B, o.S, dirs * H], r) : none("dy"));
    ins.push(o.dhn ? f("dh_n", [dirs, o.B, H], r) : none("dh_n"));
    return ins;
  }
  for (const bi of [false, true]) {
    for (const h0 of [false, true]) {
      it(`${bi ? "bidirectional" : "unidirectional"}, ${h0 ? "with" : "without"} h0`, async () => {
        const r = rng(9);
        const tag = `${bi ? "bi" : "uni"}_${h0 ? "h0" : "noh0"}`;
        await compare("gru_grad", `${tag}_full`, gruInputs(r, { B: 2, S: 4, bi, h0, dy: true, dhn: true, biases: "both" }), { hidden: H, bidirectional: bi });
        await compare("gru_grad", `${tag}_dyonly`, gruInputs(r, { B: 3, S: 3, bi, h0, dy: true, dhn: false, biases: "ih" }), { hidden: H, bidirectional: bi });
        await compare("gru_grad", `${tag}_dhnonly`, gruInputs(r, { B: 1, S: 5, bi, h0, dy: false, dhn: true, biases: "none" }), { hidden: H, bidirectional: bi });
        const symIns = gruInputs(r, { B: 3, S: 2, bi, h0, dy: true, dhn: true, biases: "both" }).map((i) => (["h0", "dh_n"].includes(i.name) ? sym(i, 1) : ["x", "y", "dy"].includes(i.name) ? sym(i) : i));
        await compare("gru_grad", `${tag}_symbatch`, symIns, { hidden: H, bidirectional: bi });
        await compare("gru_grad", `${tag}_s1`, gruInputs(r, { B: 2, S: 1, bi, h0, dy: true, dhn: true, biases: "both" }), { hidden: H, bidirectional: bi });
      });
    }
  }
});
