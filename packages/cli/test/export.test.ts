import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GraphBuilder, Session, Tensor, graphToJson } from "@attn/core";
import { compileFile } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";
import { loadOrt } from "@attn/backend-onnx";
import { main } from "../src/index.js";

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

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

  it("fails on an op without an ONNX exporter, naming the op and its .attn line", async () => {
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
    expect(r.err).toMatch(/no ONNX exporter for op "dropout_mask"/);
  });

  it("rejects an unknown opset", async () => {
    const r = await cli("export", fixture("tiny.attn"), "-o", join(tmpdir(), "never.onnx"), "--opset", "11");
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--opset must be 17 or 23/);
  });
});
