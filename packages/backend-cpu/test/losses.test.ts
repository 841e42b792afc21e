import { describe, expect, it } from "vitest";
import {
  GraphBuilder, ShapeEnv, ShapeError, Tensor, buildGradientGraph, getGrad, gradName, inferNode,
  type Attrs, type Backend, type DType, type TensorType,
} from "@attn/core";
import { createCpuBackend } from "../src/index.js";

const backend: Backend = createCpuBackend();

/** A deterministic uniform generator (mulberry32). */
function rand(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}

const f32 = (shape: number[], r: () => number) => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, r), { shape });

function infer(op: string, inputs: TensorType[], attrs: Attrs = {}): TensorType[] {
  return inferNode(new ShapeEnv(), op, inputs, attrs).outputs;
}

describe("loss op shapes", () => {
  const f = (...shape: (number | string)[]): TensorType => ({ dtype: "float32", shape });
  const i = (...shape: (number | string)[]): TensorType => ({ dtype: "int32", shape });

  it("cross_entropy takes the class dim last and reduces to a scalar unless reduction is none", () => {
    expect(infer("cross_entropy", [f("B", "T", "V"), i("B", "T")])).toEqual([{ dtype: "float32", shape: [] }]);
    expect(infer("cross_entropy", [f("B", "T", "V"), i("B", "T")], { reduction: "none" })).toEqual([{ dtype: "float32", shape: ["B", "T"] }]);
    expect(infer("cross_entropy", [f(6), i()], { reduction: "none" })).toEqual([{ dtype: "float32", shape: [] }]);
    expect(infer("cross_entropy_grad", [f("N", 4), i("N"), f()])).toEqual([{ dtype: "float32", shape: ["N", 4] }]);
  });

  it("cross_entropy rejects mismatched targets, float targets and bad attributes", () => {
    expect(() => infer("cross_entropy", [f(2, 3, 5), i(2, 4)])).toThrow(ShapeError);
    expect(() => infer("cross_entropy", [f(2, 5), i(2, 5)])).toThrow(/without its last \(class\) dim/);
    expect(() => infer("cross_entropy", [f(2, 5), f(2)])).toThrow(/int32/);
    expect(() => infer("cross_entropy", [f(2, 5), i(2)], { label_smoothing: 1.5 })).toThrow(/label_smoothing/);
    expect(() => infer("cross_entropy", [f(2, 5), i(2)], { reduction: "avg" })).toThrow(/reduction/);
    expect(() => infer("cross_entropy_grad", [f(2, 5), i(2), f(2)])).toThrow(/dy must be a scalar/);
    expect(() => infer("cross_entropy_grad", [f(2, 5), i(2), f(3)], { reduction: "none" })).toThrow(ShapeError);
  });

  it("elementwise losses need equal shapes and give two gradients", () => {
    for (const op of ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]) {
      expect(infer(op, [f("B", 1), f("B", 1)])).toEqual([{ dtype: "float32", shape: [] }]);
      expect(infer(op, [f("B", 3), f(4, 3)], { reduction: "none" })).toEqual([{ dtype: "float32", shape: [4, 3] }]);
      expect(() => infer(op, [f(2, 3), f(3)])).toThrow(ShapeError);
      expect(infer(`${op}_grad`, [f(2, 3), f(2, 3), f()])).toHaveLength(2);
    }
  });

  it("losses are differentiable; optimizer updates are not", () => {
    for (const op of ["cross_entropy", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]) expect(getGrad(op)).toBeDefined();
    for (const op of ["sgd_update", "adam_update", "cross_entropy_grad", "mse_loss_grad"]) expect(getGrad(op)).toBeUndefined();
  });
});

interface LossCase {
  readonly name: string;
  readonly op: string;
  readonly attrs: Attrs;
  /** Declared (possibly symbolic) shape of x and the concrete one fed. */
  readonly declared: (number | string)[];
  readonly x: Tensor;
  readonly target: Tensor;
  /** Differentiate the (float) target too. */
  readonly wrtTarget: boolean;
}

function lossCases(): LossCase[] {
  const r = rand(7);
  const ints = (n: number, C: number, shape: number[], ignore?: number[]) => {
    const v = Array.from({ length: n }, () => Math.floor(r(0, C)));
    for (const k of ignore ?? []) v[k] = -100;
    return Tensor.from(v, { dtype: "int32", shape });
  };
  const probs = (shape: number[]) => f32(shape, () => r(0.1, 0.9));
  const cases: LossCase[] = [];
  for (const reduction of ["mean", "sum", "none"]) {
    cases.push(
      { name: `cross_entropy 2-D ${reduction}`, op: "cross_entropy", attrs: { reduction }, declared: ["N", 5], x: f32([4, 5], () => r(-2, 2)), target: ints(4, 5, [4], [2]), wrtTarget: false },
      {
        name: `cross_entropy 3-D smoothing ${reduction}`, op: "cross_entropy", attrs: { reduction, label_smoothing: 0.2 },
        declared: ["B", "T", 4], x: f32([2, 3, 4], () => r(-2, 2)), target: ints(6, 4, [2, 3], [1, 4]), wrtTarget: false,
      },
      { name: `mse_loss ${reduction}`, op: "mse_loss", attrs: { reduction }, declared: ["B", 3], x: f32([2, 3], () => r()), target: f32([2, 3], () => r()), wrtTarget: true },
      { name: `binary_cross_entropy ${reduction}`, op: "binary_cross_entropy", attrs: { reduction }, declared: ["B", 3], x: probs([2, 3]), target: probs([2, 3]), wrtTarget: true },
      {
        name: `binary_cross_entropy_with_logits ${reduction}`, op: "binary_cross_entropy_with_logits", attrs: { reduction },
        declared: ["B", 3], x: f32([2, 3], () => r(-3, 3)), target: probs([2, 3]), wrtTarget: true,
      },
    );
  }
  cases.push({
    name: "cross_entropy ignore_index 1", op: "cross_entropy", attrs: { ignore_index: 1, label_smoothing: 0.1 },
    declared: [6, 3], x: f32([6, 3], () => r(-2, 2)), target: Tensor.from([0, 1, 2, 1, 0, 2], { dtype: "int32" }), wrtTarget: false,
  });
  return cases;
}

/** The loss graph (inputs x, t; output loss) with x declared with symbolic dims where the case says so. */
function lossGraph(c: LossCase) {
  const b = new GraphBuilder(c.name);
  const x = b.input("x", { dtype: "float32", shape: c.declared });
  const tShape = c.op === "cross_entropy" ? c.declared.slice(0, -1) : c.declared;
  const t = b.input("t", { dtype: c.target.dtype as DType, shape: tShape });
  b.output("loss", b.add1(c.op, [x, t], c.attrs));
  return b.build();
}

async function run(graph: ReturnType<typeof lossGraph>, feeds: Record<string, Tensor>, outputs?: string[]) {
  const exe = await backend.compile(graph, { params: new Map() });
  try {
    return await exe.run(feeds, outputs ? { outputs } : undefined);
  } finally {
    exe.dispose();
  }
}

describe("loss gradients vs central finite differences (cpu backend)", () => {
  for (const c of lossCases()) {
    it(c.name, async () => {
      const forward = lossGraph(c);
      const wrt = c.wrtTarget ? ["x", "t"] : ["x"];
      const grad = buildGradientGraph(forward, { seeds: { loss: "input" }, params: [], inputs: wrt });
      expect(grad.nodes.some((n) => n.op === (c.op === "cross_entropy" ? "cross_entropy_grad" : `${c.op}_grad`))).toBe(true);

      const r = rand(11);
      const lossShape = c.attrs.reduction === "none" ? (c.op === "cross_entropy" ? c.target.shape : c.x.shape) : [];
      const dy = f32([...lossShape], () => r(0.5, 1.5));
      const got = await run(grad, { x: c.x, t: c.target, [gradName("loss")]: dy }, wrt.map(gradName));

      // objective: Σ dy ⊙ loss, evaluated in double from the float32 losses the kernel returns
      const objective = async (feeds: Record<string, Tensor>) => {
        const l = (await run(forward, feeds)).loss.data;
        let s = 0;
        for (let k = 0; k < l.length; k++) s += dy.data[k] * l[k];
        return s;
      };
      const h = 1e-2;
      const failures: string[] = [];
      for (const name of wrt) {
        const base = name === "x" ? c.x : c.target;
        const g = got[gradName(name)];
        expect([...g.shape]).toEqual([...base.shape]);
        for (let k = 0; k < base.size; k++) {
          const at = (delta: number) => {
            const d = Float32Array.from(base.data);
            d[k] += delta;
            const moved = new Tensor("float32", base.shape, d);
            return objective({ x: name === "x" ? moved : c.x, t: name === "t" ? moved : c.target });
          };
          const fd = ((await at(h)) - (await at(-h))) / (2 * h);
          if (Math.abs(fd - g.data[k]) > 2e-3 + 1e-2 * Math.abs(fd)) failures.push(`d${name}[${k}]: got ${g.data[k]}, finite difference ${fd}`);
        }
      }
      expect(failures, failures.join("\n")).toEqual([]);
    });
  }
});

describe("loss semantics (cpu backend)", () => {
  const ce = async (x: Tensor, t: Tensor, attrs: Attrs) => {
    const b = new GraphBuilder("ce");
    const xi = b.input("x", { dtype: "float32", shape: x.shape });
    const ti = b.input("t", { dtype: "int32", shape: t.shape });
    b.output("loss", b.add1("cross_entropy", [xi, ti], attrs));
    return (await run(b.build(), { x, t })).loss;
  };

  it("mean cross-entropy divides by the non-ignored targets; all ignored gives NaN (as PyTorch)", async () => {
    const x = Tensor.from([[0, 0], [0, Math.log(3)], [5, 1]]);
    const l = await ce(x, Tensor.from([0, 1, -100], { dtype: "int32" }), {});
    expect(l.data[0]).toBeCloseTo((Math.log(2) + Math.log(4 / 3)) / 2, 6);
    const none = await ce(Tensor.from([[1, 2]]), Tensor.from([-100], { dtype: "int32" }), {});
    expect(Number.isNaN(none.data[0])).toBe(true);
  });

  it("label smoothing mixes in the mean negative log-probability", async () => {
    const x = Tensor.from([[1, 2, 3]]);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const l = await ce(x, Tensor.from([0], { dtype: "int32" }), { label_smoothing: 0.3 });
    expect(l.data[0]).toBeCloseTo(0.7 * (lse - 1) + (0.3 / 3) * (3 * lse - 6), 5);
  });

  it("a target outside [0, C) is an error naming the tensor", async () => {
    await expect(ce(Tensor.from([[1, 2]]), Tensor.from([2], { dtype: "int32" }), {})).rejects.toThrow(/target 2 .* "t" is out of range \[0, 2\)/);
  });

  it("binary_cross_entropy clamps the logs at −100 and rejects p outside [0, 1]", async () => {
    const b = new GraphBuilder("bce");
    const p = b.input("p", { dtype: "float32", shape: [3] });
    const t = b.input("t", { dtype: "float32", shape: [3] });
    b.output("loss", b.add1("binary_cross_entropy", [p, t], { reduction: "none" }));
    const g = b.build();
    const res = await run(g, { p: Tensor.from([0, 1, 1]), t: Tensor.from([1, 0, 1]) });
    expect(Array.from(res.loss.data, (v) => v + 0)).toEqual([100, 100, 0]); // (+ 0: an exact match gives −0)
    await expect(run(g, { p: Tensor.from([0.5, 1.5, 0]), t: Tensor.from([1, 0, 1]) })).rejects.toThrow(/probability in \[0, 1\], got 1.5/);
  });
});
