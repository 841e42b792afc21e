import { expect } from "vitest";
import { Tensor, type Attrs, type DType, type Graph, type SourceSpan } from "@attn/core";
import { createCpuBackend, threadsSupported, wasmSimdSupported, type CpuBackend } from "../src/index.js";
import { opGraph } from "./op-graph.js";

export const backend = createCpuBackend();
export const SPAN: SourceSpan = { file: "model.attn", line: 7, column: 3, length: 9 };

/** A deterministic uniform generator in [lo, hi) (mulberry32), independent of core's Rng. */
export function rand(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

/** A float32 tensor of `shape` with values drawn from `rng`. */
export function randTensor(shape: number[], rng: (lo?: number, hi?: number) => number, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(Array.from({ length: n }, () => rng(lo, hi)), { shape });
}

export function t(values: unknown, dtype: DType = "float32"): Tensor {
  return Tensor.from(values as number[], { dtype });
}

/** Builds a one-node graph over `inputs` (null = absent optional input) and runs it on backend `on`. */
export async function runOn(on: CpuBackend, op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}): Promise<Tensor[]> {
  const { graph, feeds, outs } = opGraph(op, inputs, attrs, SPAN);
  const res = await (await on.compile(graph, { params: new Map() })).run(feeds);
  return outs.map((o) => res[o]);
}

/** `runOn` the default cpu backend. */
export async function runOp(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}): Promise<Tensor[]> {
  return runOn(backend, op, inputs, attrs);
}

export async function run1(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}): Promise<Tensor> {
  return (await runOp(op, inputs, attrs))[0];
}

/** Compiles and runs a graph with the given params. */
export async function runGraph(g: Graph, feeds: Record<string, Tensor>, params: Map<string, Tensor> = new Map(), on: CpuBackend = backend): Promise<Record<string, Tensor>> {
  const exe = await on.compile(g, { params });
  return exe.run(feeds);
}

function same(a: number, e: number, atol: number, rtol: number): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (!Number.isFinite(e)) return a === e;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/** Expects `actual` to have `shape` (if given) and match `expected` elementwise within atol + rtol·|e|. */
export function expectClose(actual: Tensor, expected: ArrayLike<number> | Tensor, opts: { atol?: number; rtol?: number; shape?: number[] } = {}): void {
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const exp = expected instanceof Tensor ? expected.data : expected;
  if (expected instanceof Tensor) expect([...actual.shape]).toEqual([...expected.shape]);
  if (opts.shape) expect([...actual.shape]).toEqual(opts.shape);
  expect(actual.data.length).toBe(exp.length);
  const bad: string[] = [];
  for (let i = 0; i < exp.length && bad.length < 5; i++) {
    if (!same(actual.data[i], exp[i], atol, rtol)) bad.push(`[${i}] got ${actual.data[i]}, want ${exp[i]}`);
  }
  expect(bad, bad.join("; ")).toEqual([]);
}

/** Flat float32 rounding of a list (for exact comparisons). */
export function f32(values: readonly number[]): number[] {
  return Array.from(Float32Array.from(values));
}

/**
 * Whether kernel path `path` runs here. In CI a missing path is an error (every path must be exercised
 * there); elsewhere the tests that need it skip, and this prints why.
 */
export function kernelPathAvailable(path: "wasm-simd" | "wasm-simd-threads", label: string): boolean {
  if (path === "wasm-simd" ? wasmSimdSupported() : threadsSupported()) return true;
  const why = `${label}: the ${path} kernel path cannot run in this runtime`;
  if (process.env.CI) throw new Error(`${why} (required in CI)`);
  console.log(`[backend-cpu] skipping ${why}`);
  return false;
}
