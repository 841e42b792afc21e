import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GraphBuilder, Session, Tensor, graphToJson } from "@attn/core";
import { compileFile } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";
import { loadOrt } from "@attn/backend-onnx";
import { cli } from "./helpers.js";

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));


async function ortOrSkip() {
  try {
    return await loadOrt("node");
  } catch (e) {
    if (process.env.CI) throw e;
    console.log(`[cli export] onnxruntime-node is not available, skipping the run check: ${String(e)}`);
    return undefined;
  }
}

describe("attn export", () => {
  it("writes an ONNX file that runs on ONNX Runtime at any sequence length and matches the cpu backend", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-export-"));
    const file = join(dir, "tiny.onnx");
    const r = await cli("export", fixture("tiny.attn"), "-o", file, "--seed", "3");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/wrote .*tiny\.onnx \(ONNX opset 17/);
    const ort = await ortOrSkip();
    if (!ort) return;
    const session = await ort.InferenceSession.create(new Uint8Array(await readFile(file)));
    const graph = (await compileFile(fixture("tiny.attn"))).graph!;
    const cpu = await Session.create(graph, createCpuBackend(), { seed: 3 });
    for (const S of [2, 5]) {
      const x = new Tensor("float32", [1, S, 3], Float32Array.from({ length: S * 3 }, (_, i) => Math.sin(i + S)));
      const want = await cpu.run({ x });
      const got = await session.run({ x: new ort.Tensor("float32", x.data as Float32Array, [1, S, 3]) });
      for (const k of ["y", "w"]) {
        const g = got[k].data as Float32Array;
        want[k].data.forEach((v, i) => expect(Math.abs(g[i] - Number(v))).toBeLessThan(1e-5));
      }
    }
    cpu.dispose();
    await session.release();
  });

  it("fails on an op that needs a newer opset, naming the op and its .attn line and saying to use --opset 23", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-export-"));
    const b = new GraphBuilder("Dropped");
    const x = b.input("x", { dtype: "float32", shape: ["B", 4] });
    const step = b.input("step", { dtype: "int32", shape: [] });
    const [m] = b.add("dropout_mask", [x, step], { p: 0.1, salt: 0 }, { span: { file: "net.attn", line: 12, column: 5, length: 7 } });
    b.output("m", m);
    const json = join(dir, "graph.json");
    await writeFile(json, graphToJson(b.build()));
    const r = await cli("export", json, "-o", join(dir, "m.onnx"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/net\.attn:12:5/);
    expect(r.err).toMatch(/dropout_mask .*opset 17.*export with --opset 23/);
    const ok = await cli("export", json, "-o", join(dir, "m.onnx"), "--opset", "23");
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/ONNX opset 23/);
  });

  it("--external-data writes large initializers to MODEL.onnx.data beside the model; ONNX Runtime loads the pair from the directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-export-"));
    const src = join(dir, "wide.attn");
    await writeFile(src, "model Wide() {\n  input  x: float32[B, S, 32]\n  output y: float32[B, S, 16]\n  y = linear(x, out: 16) as fc\n}\n");
    const [file, inlineFile] = [join(dir, "wide.onnx"), join(dir, "inline.onnx")];
    const r = await cli("export", src, "-o", file, "--external-data", "--seed", "4");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/wide\.onnx\.data \(2048 bytes of external data\)/);
    expect((await readFile(join(dir, "wide.onnx.data"))).length).toBe(32 * 16 * 4);
    expect((await cli("export", src, "-o", inlineFile, "--seed", "4")).code).toBe(0);
    expect((await readFile(file)).length).toBeLessThan((await readFile(inlineFile)).length - 1500);
    const ort = await ortOrSkip();
    if (!ort) return;
    const [ext, inline] = [await ort.InferenceSession.create(file), await ort.InferenceSession.create(inlineFile)];
    const cpu = await Session.create((await compileFile(src)).graph!, createCpuBackend(), { seed: 4 });
    try {
      const x = new Tensor("float32", [2, 3, 32], Float32Array.from({ length: 192 }, (_, i) => Math.cos(i)));
      const feeds = { x: new ort.Tensor("float32", x.data as Float32Array, [2, 3, 32]) };
      const [a, b] = [(await ext.run(feeds)).y.data as Float32Array, (await inline.run(feeds)).y.data as Float32Array];
      expect(Array.from(a)).toEqual(Array.from(b));
      (await cpu.run({ x })).y.data.forEach((v, i) => expect(Math.abs(a[i] - Number(v))).toBeLessThan(1e-5));
    } finally {
      cpu.dispose();
      await ext.release();
      await inline.release();
    }
  });

  it("rejects an unknown opset", async () => {
    const r = await cli("export", fixture("tiny.attn"), "-o", join(tmpdir(), "never.onnx"), "--opset", "11");
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--opset must be 17 or 23/);
  });
});
