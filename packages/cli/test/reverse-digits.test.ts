import { describe, expect, it } from "vitest";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "@attn/core";
import { compileFile } from "@attn/dsl";
import { createCpuBackend } from "@attn/backend-cpu";
import { EXAMPLES_DIR, evaluateReversal, type ReverseExample } from "@attn/models";
import { cli } from "./helpers.js";

const MODEL = join(EXAMPLES_DIR, "reverse_digits.attn");


/** Reads a JSONL file written by `attn data reverse-digits` back into examples. */
async function readExamples(path: string): Promise<ReverseExample[]> {
  return (await readFile(path, "utf8")).trim().split("\n").map((l) => {
    const o = JSON.parse(l) as { src: number[]; tgt_in: number[]; target: number[] };
    return { digits: o.src.map((t) => t - 3), src: o.src, tgtIn: o.tgt_in, target: o.target };
  });
}

describe("learning check: digit-string reversal (issue #3)", () => {
  it("a GRU encoder–decoder with Bahdanau attention trained by `attn train` reverses held-out strings", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-reverse-"));
    expect((await cli("data", "reverse-digits", "--out", dir)).code).toBe(0);
    const weights = join(dir, "w.safetensors");
    const t0 = Date.now();
    const r = await cli("train", MODEL, "--data", join(dir, "train.jsonl"), "--valid", join(dir, "valid.jsonl"), "--weights-out", weights);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.code, r.err).toBe(0);
    const { graph } = await compileFile(MODEL);
    const test = await readExamples(join(dir, "test.jsonl"));
    const report = await evaluateReversal(graph!, createCpuBackend(), readSafetensors(new Uint8Array(await readFile(weights))).tensors, test);
    // Figures for the record (time is measured, not asserted: see `pnpm bench` for speed claims).
    console.log(`[reverse-digits] trained in ${seconds.toFixed(0)} s; exact match ${(100 * report.exactMatch).toFixed(2)}% on ${report.examples} held-out strings; attention mass on the anti-diagonal ${(100 * report.antiDiagonal).toFixed(1)}%, within one position of it ${(100 * report.antiDiagonalBand).toFixed(1)}%; step-vs-peak correlation ${report.peakCorrelation.toFixed(3)}`);
    expect(report.exactMatch).toBeGreaterThanOrEqual(0.99);
    // The weights form an anti-diagonal: each step's peak is one position further left.
    expect(report.peakCorrelation).toBeLessThan(-0.9);
  }, 900_000);
});
