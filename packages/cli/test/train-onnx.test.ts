import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrt } from "@attn/backend-onnx";
import { EXAMPLES_DIR } from "@attn/models";
import { cli, tutorialData } from "./helpers.js";

const TUTORIAL = join(EXAMPLES_DIR, "tutorial.attn");



const ortNode = await loadOrt("node").then(
  () => true,
  (e: unknown) => {
    if (process.env.CI) throw e;
    console.log(`[cli] skipping attn train --backend onnx: onnxruntime-node cannot be loaded (${String(e)})`);
    return false;
  },
);

describe.skipIf(!ortNode)("attn train --backend onnx", () => {
  it("trains the tutorial model for one epoch on ONNX Runtime, as on the cpu backend", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-train-onnx-"));
    const data = join(dir, "train.jsonl");
    await writeFile(data, tutorialData(48, 1));
    const losses: Record<string, number[]> = {};
    for (const backend of ["onnx", "cpu"]) {
      const log = join(dir, `${backend}.jsonl`);
      const r = await cli("train", TUTORIAL, "--data", data, "--epochs", "1", "--batch-size", "8", "--lr", "0.03", "--backend", backend, "--log", log);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toContain(`training Tutorial on ${backend}`);
      const lines = (await readFile(log, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { type: string; loss?: number });
      losses[backend] = lines.filter((l) => l.type === "step").map((l) => l.loss!);
    }
    const onnx = losses.onnx;
    expect(onnx).toHaveLength(6);
    expect(onnx[5]).toBeLessThan(onnx[0]);
    losses.cpu.forEach((l, k) => expect(Math.abs(onnx[k] - l)).toBeLessThan(1e-4));
  });
});
