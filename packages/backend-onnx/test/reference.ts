// Test helpers: the cpu backend as the reference, onnxruntime-node to run exported files, and a comparison.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import * as ort from "onnxruntime-node";
import { Tensor, type Backend, type Graph } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { exportModel } from "../src/export/exporter.js";
import { checkOnnxFile } from "./checker.js";

/** The reference: the cpu backend. */
export async function cpuBackend(): Promise<Backend> {
  return createCpuBackend();
}

let dir: string | undefined;
/** A fresh path in this run's temp folder. */
export function tempPath(name: string): string {
  dir ??= mkdtempSync(join(tmpdir(), "attn-onnx-"));
  return join(dir, name);
}

/** Removes this run's temp folder (call from afterAll). */
export function removeTemp(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/** Exports `graph` (opset 17 by default), writes it to a temp file; returns the path and the bytes. */
export function exportToFile(graph: Graph, params: ReadonlyMap<string, Tensor>, name: string, opset: 17 | 23 = 17): { path: string; bytes: Uint8Array } {
  const { bytes } = exportModel(graph, { opset, params });
  const path = tempPath(`${name}.onnx`);
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** Asserts that onnx.checker (full check) accepts the file. */
export function expectChecked(path: string): void {
  const err = checkOnnxFile(path);
  expect(err, `onnx.checker rejected ${path}: ${err}`).toBeNull();
}

function toOrt(t: Tensor): ort.Tensor {
  const dims = [...t.shape];
  if (t.dtype === "float32") return new ort.Tensor("float32", Float32Array.from(t.data), dims);
  if (t.dtype === "int32") return new ort.Tensor("int32", Int32Array.from(t.data), dims);
  return new ort.Tensor("bool", Uint8Array.from(t.data), dims);
}

function fromOrt(t: ort.Tensor): Tensor {
  const shape = t.dims.map(Number);
  if (t.type === "float32") return new Tensor("float32", shape, Float32Array.from(t.data as Float32Array));
  if (t.type === "int32") return new Tensor("int32", shape, Int32Array.from(t.data as Int32Array));
  if (t.type === "bool") return new Tensor("bool", shape, Uint8Array.from(t.data as Uint8Array));
  throw new Error(`unexpected ONNX output type ${t.type}`);
}

/** An ONNX Runtime (node, cpu) session over model bytes; `run` takes and gives attn tensors. */
export async function ortSession(bytes: Uint8Array): Promise<{ run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>; release(): Promise<void> }> {
  const s = await ort.InferenceSession.create(bytes);
  return {
    async run(feeds) {
      const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toOrt(v)])));
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, fromOrt(v)]));
    },
    release: () => s.release(),
  };
}

/** Largest |a − e| (NaN/∞ must match exactly; a mismatch gives Infinity). */
export function maxAbsDiff(a: Tensor, e: Tensor): number {
  let m = 0;
  for (let i = 0; i < e.data.length; i++) {
    const x = a.data[i];
    const y = e.data[i];
    if (Number.isNaN(y) || !Number.isFinite(y)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) return Infinity;
      continue;
    }
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
}

/** Expects every output of `expected` to be in `actual` with the same shape, dtype and values within atol. */
export function expectSameOutputs(actual: Record<string, Tensor>, expected: Record<string, Tensor>, atol: number, label: string): number {
  let worst = 0;
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    expect(a, `${label}: ONNX output ${name} is missing`).toBeDefined();
    expect([...a.shape], `${label}: shape of ${name}`).toEqual([...e.shape]);
    expect(a.dtype, `${label}: dtype of ${name}`).toBe(e.dtype);
    const d = maxAbsDiff(a, e);
    expect(d, `${label}: ${name} differs from the cpu backend by ${d}`).toBeLessThanOrEqual(atol);
    worst = Math.max(worst, d);
  }
  return worst;
}
