import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NO_ADAPTER_MESSAGE, webgpuAvailable } from "@attn/backend-webgpu";
import { EXAMPLES_DIR } from "@attn/models";
import { cli, tutorialData } from "./helpers.js";

const TUTORIAL = join(EXAMPLES_DIR, "tutorial.attn");

// CI installs chromium's SwiftShader, so a missing adapter there is a failure; elsewhere a printed skip.
const gpu = await webgpuAvailable();
if (!gpu && process.env.CI) throw new Error(NO_ADAPTER_MESSAGE);
if (!gpu) console.log(`[cli] skipping --backend webgpu: ${NO_ADAPTER_MESSAGE}`);

describe.skipIf(!gpu)("attn --backend webgpu", () => {
  it("runs the fixture model with the same outputs as the cpu backend", async () => {
    const fixtures = join(import.meta.dirname, "fixtures");
    type Printed = Record<string, { dtype: string; shape: number[]; data: number[] }>;
    const out: Record<string, Printed> = {};
    for (const backend of ["webgpu", "cpu"]) {
      const r = await cli("run", join(fixtures, "tiny.attn"), "--inputs", join(fixtures, "tiny.inputs.json"), "--backend", backend, "--json");
      expect(r.code, r.err).toBe(0);
      out[backend] = JSON.parse(r.out) as Printed;
    }
    expect(Object.keys(out.webgpu).sort()).toEqual(["w", "y"]);
    for (const [name, c] of Object.entries(out.cpu)) {
      const g = out.webgpu[name];
      expect(g.shape, name).toEqual(c.shape);
      const off = g.data.filter((x, i) => !(Math.abs(x - c.data[i]) <= 1e-5 + 1e-4 * Math.abs(c.data[i])));
      expect(off, `${name}: elements off the cpu backend's`).toEqual([]);
    }
  });

  it("trains the tutorial model for one epoch with the cpu backend's per-step losses", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-train-webgpu-"));
    const data = join(dir, "train.jsonl");
    await writeFile(data, tutorialData(48, 1));
    const losses: Record<string, number[]> = {};
    for (const backend of ["webgpu", "cpu"]) {
      const log = join(dir, `${backend}.jsonl`);
      const r = await cli("train", TUTORIAL, "--data", data, "--epochs", "1", "--batch-size", "8", "--lr", "0.03", "--backend", backend, "--log", log);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toContain(`training Tutorial on ${backend}`);
      const lines = (await readFile(log, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { type: string; loss?: number });
      losses[backend] = lines.filter((l) => l.type === "step").map((l) => l.loss!);
    }
    expect(losses.webgpu).toHaveLength(6);
    expect(losses.webgpu[5]).toBeLessThan(losses.webgpu[0]);
    losses.cpu.forEach((l, k) => expect(Math.abs(losses.webgpu[k] - l)).toBeLessThan(1e-4));
  });
});
