import { expect } from "vitest";
import { GraphBuilder, inferNode, ShapeEnv, Tensor, type Attrs, type Graph } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { createWebGpuBackend } from "../src/index.js";
import { values } from "./helpers.js";


/** A float32 tensor of deterministic values. */
export const f32 = (shape: number[], seed: number, lo?: number, hi?: number) => new Tensor("float32", shape, values(shape.reduce((p, d) => p * d, 1), seed, lo, hi));

function opGraph(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs): Graph {
  const b = new GraphBuilder(op);
  const ids = inputs.map((t, i) => (t === null ? null : b.input(`in${i}`, { dtype: t.dtype, shape: [...t.shape] })));
  b.add(op, ids, attrs).forEach((id, i) => b.output(`out${i}`, id));
  return b.build();
}

const cpu = createCpuBackend();
const gpu = createWebGpuBackend();

/**
 * Runs one op (null inputs are absent optionals) on the cpu backend and on WebGPU and compares every
 * output within the conformance tolerance atol + rtol·|want| (non-finite values exactly).
 */
export async function agreeAll(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}, atol = 1e-5, rtol = 1e-4): Promise<void> {
  const g = opGraph(op, inputs, attrs);
  const feeds = Object.fromEntries(inputs.flatMap((t, i) => (t === null ? [] : [[`in${i}`, t]])));
  const want = await (await cpu.compile(g, { params: new Map() })).run(feeds);
  const exe = await gpu.compile(g, { params: new Map() });
  const got = await exe.run(feeds);
  exe.dispose();
  for (const name of Object.keys(want)) {
    const w = want[name];
    const v = got[name];
    expect(v.shape, `${op} ${name} shape`).toEqual(w.shape);
    // one expect per output, not per element: vitest's expect is too slow for large tensors
    let bad = "";
    for (let i = 0; i < w.size && !bad; i++) {
      const a = w.data[i];
      const b = v.data[i];
      const ok = Number.isFinite(a) ? Math.abs(b - a) <= atol + rtol * Math.abs(a) : Object.is(a, b);
      if (!ok) bad = `${op} ${name}[${i}]: got ${b}, want ${a}`;
    }
    expect(bad).toBe("");
  }
}

/** The (concrete) shape of `op`'s first output on float32 inputs of these shapes (null: absent optional). */
export function outShape(op: string, shapes: readonly (number[] | null)[], attrs: Attrs): number[] {
  const types = shapes.map((s) => (s === null ? null : { dtype: "float32" as const, shape: s }));
  return inferNode(new ShapeEnv(), op, types, attrs).outputs[0].shape as number[];
}
