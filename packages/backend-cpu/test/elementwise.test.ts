import { describe, expect, it } from "vitest";
import { Tensor, ShapeError } from "@attn/core";
import { erf } from "../src/index.js";
import { expectClose, f32, rand, randTensor, run1, t } from "./helpers.js";

/** erf by its everywhere-positive series 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (no cancellation). */
function erfSeries(x: number): number {
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 400; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-18) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
}

describe("erf", () => {
  it("matches an independent series to 1e-14 over [-7, 7]", () => {
    let worst = 0;
    for (let x = -7; x <= 7; x += 0.001) worst = Math.max(worst, Math.abs(erf(x) - erfSeries(x)));
    expect(worst).toBeLessThan(1e-14);
  });
  it("has the known special values", () => {
    expect(erf(0)).toBe(0);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf(-0.5)).toBeCloseTo(-0.5204998778130465, 15);
  });
});

describe("unary float ops", () => {
  const xs = [-3, -1.5, -0.25, 0, 0.5, 2, 4];
  const x = t(xs);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const cases: [string, (v: number) => number][] = [
    ["relu", (v) => Math.max(v, 0)],
    ["tanh", (v) => (Math.exp(2 * v) - 1) / (Math.exp(2 * v) + 1)],
    ["sigmoid", sig],
    ["exp", Math.exp],
    ["neg", (v) => -v],
    ["abs", (v) => (v < 0 ? -v : v)],
    ["silu", (v) => v * sig(v)],
  ];
  for (const [op, ref] of cases) {
    it(`${op} matches its formula`, async () => {
      expectClose(await run1(op, [x]), xs.map(ref), { atol: 1e-7, rtol: 1e-6, shape: [7] });
    });
  }
  it("log and sqrt follow IEEE at the edges", async () => {
    expectClose(await run1("log", [t([1, Math.E, 0, -1])]), [0, 1, -Infinity, NaN]);
    expectClose(await run1("sqrt", [t([4, 2, 0, -1])]), [2, Math.SQRT2, 0, NaN]);
  });
  it("sigmoid is stable for large |x|", async () => {
    expectClose(await run1("sigmoid", [t([-200, -30, 30, 200])]), [0, Math.exp(-30), 1, 1], { atol: 1e-20, rtol: 1e-6 });
  });
  it("relu keeps NaN", async () => {
    expect(Number.isNaN((await run1("relu", [t([NaN])])).data[0])).toBe(true);
  });
  it("gelu: exact (erf) and tanh forms", async () => {
    const r = rand(1);
    const vals = Array.from({ length: 50 }, () => r(-6, 6));
    const g = await run1("gelu", [t(vals)]);
    expectClose(g, vals.map((v) => 0.5 * v * (1 + erfSeries(v / Math.SQRT2))), { atol: 1e-7, rtol: 1e-6 });
    const gt = await run1("gelu", [t(vals)], { approximate: "tanh" });
    const c = Math.sqrt(2 / Math.PI);
    expectClose(gt, vals.map((v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3)))), { atol: 1e-7, rtol: 1e-6 });
    // PyTorch: gelu(1) = 0.8413447460685429, gelu(1, tanh) = 0.8411919906082768
    expectClose(await run1("gelu", [t([1])]), [0.8413447460685429], { atol: 0, rtol: 1e-7 });
    expectClose(await run1("gelu", [t([1])], { approximate: "tanh" }), [0.8411919906082768], { atol: 0, rtol: 1e-7 });
  });
  it("logical_not flips bools", async () => {
    const y = await run1("logical_not", [t([true, false, true], "bool")]);
    expect(y.dtype).toBe("bool");
    expect(Array.from(y.data)).toEqual([0, 1, 0]);
  });
  it("rejects int32 input to a float op with core's message", async () => {
    await expect(run1("relu", [t([1, 2], "int32")])).rejects.toThrow(/input "x" must be float32, got int32\[2\]/);
  });
});

describe("binary ops with broadcasting", () => {
  it("float add/sub/mul/div give exactly the float32 result", async () => {
    const r = rand(2);
    const a = randTensor([3, 4], r);
    const b = randTensor([3, 4], r, 0.5, 2);
    const ad = Array.from(a.data);
    const bd = Array.from(b.data);
    expect(Array.from((await run1("add", [a, b])).data)).toEqual(f32(ad.map((v, i) => v + bd[i])));
    expect(Array.from((await run1("sub", [a, b])).data)).toEqual(f32(ad.map((v, i) => v - bd[i])));
    expect(Array.from((await run1("mul", [a, b])).data)).toEqual(f32(ad.map((v, i) => v * bd[i])));
    expect(Array.from((await run1("div", [a, b])).data)).toEqual(f32(ad.map((v, i) => v / bd[i])));
  });
  it("broadcasts NumPy-style: [2,1,3] with [4,1] → [2,4,3]", async () => {
    const a = Tensor.from([0, 1, 2, 10, 11, 12], { shape: [2, 1, 3] });
    const b = Tensor.from([100, 200, 300, 400], { shape: [4, 1] });
    const y = await run1("add", [a, b]);
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) want.push(a.data[i * 3 + k] + b.data[j]);
    expectClose(y, want, { shape: [2, 4, 3] });
  });
  it("broadcasts a scalar on either side and a middle axis", async () => {
    expect(Array.from((await run1("sub", [Tensor.scalar(10), t([1, 2, 3])])).data)).toEqual([9, 8, 7]);
    expect(Array.from((await run1("div", [t([2, 4, 6]), Tensor.scalar(2)])).data)).toEqual([1, 2, 3]);
    const a = Tensor.from([1, 2, 3, 4, 5, 6], { shape: [2, 3, 1] });
    const b = Tensor.from([10, 20], { shape: [2, 1, 1] });
    expect(Array.from((await run1("mul", [a, b])).data)).toEqual([10, 20, 30, 80, 100, 120]);
  });
  it("maximum/minimum (NaN propagates)", async () => {
    const y = await run1("maximum", [t([1, 5, NaN]), t([3, 2, 0])]);
    expectClose(y, [3, 5, NaN]);
    expectClose(await run1("minimum", [t([1, 5]), t([3, 2])]), [1, 2]);
  });
  it("int32 arithmetic wraps like C; div truncates toward zero", async () => {
    const a = t([7, -7, 2147483647, 100000], "int32");
    const b = t([2, 2, 1, 100000], "int32");
    const add = await run1("add", [a, b]);
    expect(add.dtype).toBe("int32");
    expect(Array.from(add.data)).toEqual([9, -5, -2147483648, 200000]);
    expect(Array.from((await run1("sub", [a, b])).data)).toEqual([5, -9, 2147483646, 0]);
    expect(Array.from((await run1("mul", [a, b])).data)).toEqual([14, -14, 2147483647, 1410065408]);
    expect(Array.from((await run1("div", [a, b])).data)).toEqual([3, -3, 2147483647, 1]);
    expect(Array.from((await run1("maximum", [a, b])).data)).toEqual([7, 2, 2147483647, 100000]);
  });
  it("int32 division by zero is an error naming the divisor", async () => {
    await expect(run1("div", [t([1, 2], "int32"), t([1, 0], "int32")])).rejects.toThrow(/model\.attn:7:3: div: int32 division by zero \(divisor "in1"/);
  });
  it("comparisons give bool, NaN is unequal", async () => {
    const a = t([1, 2, 3, NaN]);
    const b = t([2]);
    const eq = await run1("equal", [a, t([1, 2, 0, NaN])]);
    expect(eq.dtype).toBe("bool");
    expect(Array.from(eq.data)).toEqual([1, 1, 0, 0]);
    expect(Array.from((await run1("not_equal", [a, t([1, 2, 0, NaN])])).data)).toEqual([0, 0, 1, 1]);
    expect(Array.from((await run1("less", [a, b])).data)).toEqual([1, 0, 0, 0]);
    expect(Array.from((await run1("greater", [a, b])).data)).toEqual([0, 0, 1, 0]);
    expect(Array.from((await run1("equal", [t([1, 2], "int32"), t([[1], [2]], "int32")])).data)).toEqual([1, 0, 0, 1]);
    expect(Array.from((await run1("equal", [t([true, false], "bool"), t([true, true], "bool")])).data)).toEqual([1, 0]);
  });
  it("logical and/or broadcast", async () => {
    const a = t([[true], [false]], "bool");
    const b = t([true, false], "bool");
    expect(Array.from((await run1("logical_and", [a, b])).data)).toEqual([1, 0, 0, 0]);
    expect(Array.from((await run1("logical_or", [a, b])).data)).toEqual([1, 1, 1, 0]);
  });
  it("incompatible shapes are core's ShapeError with the node span", async () => {
    const err = await run1("add", [t([1, 2, 3]), t([1, 2])]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as ShapeError).span?.line).toBe(7);
    expect((err as Error).message).toMatch(/add: broadcast dimension -1/);
  });
});

describe("cast, constant, identity, dropout", () => {
  it("cast float → int32 truncates toward zero; out of range and NaN give INT32_MIN", async () => {
    const y = await run1("cast", [t([1.9, -1.9, 0.5, -0.5, 3e9, NaN, -Infinity])], { to: "int32" });
    expect(y.dtype).toBe("int32");
    expect(Array.from(y.data)).toEqual([1, -1, 0, 0, -2147483648, -2147483648, -2147483648]);
  });
  it("cast bool ↔ numbers and float → bool", async () => {
    expect(Array.from((await run1("cast", [t([true, false], "bool")], { to: "float32" })).data)).toEqual([1, 0]);
    expect(Array.from((await run1("cast", [t([true, false], "bool")], { to: "int32" })).data)).toEqual([1, 0]);
    expect(Array.from((await run1("cast", [t([0, -0.0, 2.5, NaN])], { to: "bool" })).data)).toEqual([0, 0, 1, 1]);
    expect(Array.from((await run1("cast", [t([16777217, -3], "int32")], { to: "float32" })).data)).toEqual([16777216, -3]);
    expect(Array.from((await run1("cast", [t([1.5])], { to: "float32" })).data)).toEqual([1.5]);
  });
  it("constant gives its value (with -inf) as a fresh tensor", async () => {
    const value = { dtype: "float32", shape: [2, 2], data: [1, -Infinity, 3, 4] };
    const c1 = await run1("constant", [], { value });
    expectClose(c1, [1, -Infinity, 3, 4], { shape: [2, 2] });
    const b = await run1("constant", [], { value: { dtype: "bool", shape: [3], data: [1, 0, 1] } });
    expect(b.dtype).toBe("bool");
    expect(Array.from(b.data)).toEqual([1, 0, 1]);
  });
  it("identity and dropout pass values through (any dtype for identity)", async () => {
    expect(Array.from((await run1("identity", [t([1, 2], "int32")])).data)).toEqual([1, 2]);
    expect(Array.from((await run1("dropout", [t([1, 2])], { p: 0.5 })).data)).toEqual([1, 2]);
  });
});
