import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor, readSafetensors, writeSafetensors } from "@attn/core";
import { DEFAULT_G2P, listExamples, shippedCard } from "@attn/models";
import { FIXTURES_DIR, compareTensors, decodeTensor, loadCases, type ModelCase } from "@attn/conformance";
import { cli } from "./helpers.js";

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));


describe("attn check", () => {
  it("reports all three independent mistakes with line:col, a caret and a hint, exit 1", async () => {
    const r = await cli("check", fixture("three_mistakes.attn"));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/three_mistakes\.attn:6:22: error ATTN2004: .*`hiden`/);
    expect(r.out).toMatch(/three_mistakes\.attn:7:7: error ATTN2003: .*`lienar`/);
    expect(r.out).toMatch(/three_mistakes\.attn:8:12: error ATTN2001: .*`stats`/);
    expect(r.out).toMatch(/did you mean `hidden`\?/);
    expect(r.out).toMatch(/did you mean `linear`\?/);
    expect(r.out).toMatch(/did you mean `states`\?/);
    // the caret line sits under the misspelled argument
    const lines = r.out.split("\n");
    const src = lines.findIndex((l) => l.includes("gru(x, hiden: hidden)"));
    expect(lines[src + 1].indexOf("^") - lines[src].indexOf("hiden")).toBe(0);
    expect(r.out).toMatch(/^3 errors/m);
  });
  it("prints a one-line summary and exits 0 on a valid file", async () => {
    const r = await cli("check", fixture("tiny.attn"));
    expect(r.code).toBe(0);
    expect(r.out).toBe("ok: model Tiny: 8 parameters in 2 tensors; inputs x: float32[B, S, 3]; outputs y: float32[B, S, 2], w: float32[B, S, S]");
  });
  it("emits JSON diagnostics with --json", async () => {
    const r = await cli("check", fixture("three_mistakes.attn"), "--json");
    const doc = JSON.parse(r.out);
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics.map((d: { code: string }) => d.code).sort()).toEqual(["ATTN2001", "ATTN2003", "ATTN2004"]);
  });
  it("fails clearly on a missing file and on bad usage", async () => {
    const r = await cli("check", "nope.attn");
    expect(r.code).toBe(1);
    expect(r.out + r.err).toMatch(/nope\.attn/);
    expect((await cli("frobnicate", "x")).code).toBe(2);
    expect((await cli("check")).code).toBe(2);
    expect((await cli("check", "x", "--bogus")).code).toBe(2);
  });
});

describe("attn run", () => {
  it("runs with given weights, printing outputs and the named attention weights", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-cli-"));
    const weights = join(dir, "w.safetensors");
    // fc maps x to h = [x0, x1]; scores h·hᵀ: rows [1,0] and [0,1] → weights softmax([1,0]) and softmax([0,1])
    await writeFile(weights, writeSafetensors({ "fc.weight": Tensor.from([[1, 0, 0], [0, 1, 0]]), "fc.bias": Tensor.from([0, 0]) }));
    const r = await cli("run", fixture("tiny.attn"), "--weights", weights, "--inputs", fixture("tiny.inputs.json"), "--json");
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out);
    const e = Math.E;
    const p = e / (e + 1);
    expect(res.w.shape).toEqual([1, 2, 2]);
    res.w.data.forEach((v: number, i: number) => expect(v).toBeCloseTo([p, 1 - p, 1 - p, p][i], 6));
    res.y.data.forEach((v: number, i: number) => expect(v).toBeCloseTo([p, 1 - p, 1 - p, p][i], 6));
    const pretty = await cli("run", fixture("tiny.attn"), "--weights", weights, "--inputs", fixture("tiny.inputs.json"));
    expect(pretty.out).toMatch(/attention weights:\nw: float32\[1, 2, 2\]/);
  });
  it("loads a safetensors file written from a PyTorch state_dict and reproduces PyTorch's outputs", async () => {
    const c = (await loadCases()).find((x) => x.name === "model/gru_bahdanau_seq2seq") as ModelCase;
    expect(c.weightsFile).toBe("gru_bahdanau_seq2seq.safetensors");
    const dir = await mkdtemp(join(tmpdir(), "attn-cli-"));
    await writeFile(join(dir, "seq2seq.attn"), c.source);
    await writeFile(join(dir, "inputs.json"), JSON.stringify(c.inputs));
    const r = await cli("run", join(dir, "seq2seq.attn"), "--weights", join(FIXTURES_DIR, "models", c.weightsFile!), "--inputs", join(dir, "inputs.json"), "--json", ...(c.model ? ["--model", c.model] : []));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out);
    for (const [name, want] of Object.entries(c.outputs)) {
      expect(compareTensors(decodeTensor(got[name], name), decodeTensor(want, name)), name).toBeUndefined();
    }
  });

  it("writes the weights it used atomically with --weights-out, and they load back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-cli-"));
    const out = join(dir, "init.safetensors");
    const r = await cli("run", fixture("tiny.attn"), "--inputs", fixture("tiny.inputs.json"), "--weights-out", out, "--seed", "3");
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/initialised from seed 3/);
    const back = readSafetensors(new Uint8Array(await readFile(out))).tensors;
    expect([...back.keys()].sort()).toEqual(["fc.bias", "fc.weight"]);
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
  it("rejects weights of the wrong shape naming the parameter and file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-cli-"));
    const weights = join(dir, "bad.safetensors");
    await writeFile(weights, writeSafetensors({ "fc.weight": Tensor.zeros([3, 2]), "fc.bias": Tensor.zeros([2]) }));
    const r = await cli("run", fixture("tiny.attn"), "--weights", weights, "--inputs", fixture("tiny.inputs.json"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.safetensors: parameter "fc\.weight" must have shape \[2, 3\], the file has \[3, 2\]/);
  });
  it("rejects malformed inputs naming the file and input", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-cli-"));
    const inputs = join(dir, "in.json");
    await writeFile(inputs, JSON.stringify({ x: [[[1, 2]]] }));
    const r = await cli("run", fixture("tiny.attn"), "--inputs", inputs);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/input "x"/);
    await writeFile(inputs, "{ not json");
    expect((await cli("run", fixture("tiny.attn"), "--inputs", inputs)).err).toMatch(/in\.json: not valid JSON/);
  });
});

describe("attn graph", () => {
  it("prints the IR as text, DOT and JSON; --optimized fuses attention", async () => {
    const text = await cli("graph", fixture("tiny.attn"));
    expect(text.out).toMatch(/^graph Tiny\(%x: float32\[B, S, 3\]\)/);
    expect(text.out).toMatch(/softmax/);
    const fused = await cli("graph", fixture("tiny.attn"), "--optimized");
    expect(fused.out).toMatch(/= attention\(/);
    expect(fused.out).not.toMatch(/softmax\(/);
    expect((await cli("graph", fixture("tiny.attn"), "--format", "dot")).out).toMatch(/^digraph "Tiny" \{/);
    expect(JSON.parse((await cli("graph", fixture("tiny.attn"), "--format", "json")).out).format).toBe("attn-ir");
  });
});

describe("attn demo", () => {
  // The README's first command: the shipped G2P model (an ensemble of two), end to end.
  it("pronounces the showcase words and the one given, beats Festival on the test split, draws the attention and fine-tunes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-demo-"));
    const r = await cli("demo", "tensor", "--out", dir);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/FAILED/);
    // "tensor" is not in CMUdict 0.4; CMUdict 0.7b has it as T EH1 N S ER0
    expect(r.out).toMatch(/^ {2}tensor +\/t eh n s er\/$/m);
    const greedy = r.out.match(/^ {2}greedy +WER +([\d.]+)% +PER +([\d.]+)%$/m);
    const festival = r.out.match(/^ {2}Festival letter-to-sound \(peer\) +WER +([\d.]+)% +PER +([\d.]+)%$/m);
    const beam = r.out.match(/^ {2}beam 5 +WER +([\d.]+)% +PER +([\d.]+)%$/m);
    expect(Number(greedy![1])).toBeLessThanOrEqual(30);
    expect(Number(greedy![1])).toBeLessThan(Number(festival![1]));
    // Issue #7's bar: under Festival's rules on words and on phones (beam search)
    expect(Number(beam![1])).toBeLessThan(Number(festival![1]));
    expect(Number(beam![2])).toBeLessThan(Number(festival![2]));
    // and what the shipped ensemble's card says, measured when its members were trained (on this machine
    // class the figures are equal; 0.1 allows another CPU's rounding to decide a few words differently)
    const card = JSON.parse(await readFile(shippedCard(DEFAULT_G2P).summary, "utf8"));
    const printed = [greedy![1], greedy![2], beam![1], beam![2]].map(Number);
    [card.test.greedy.wer, card.test.greedy.per, card.test.beam.wer, card.test.beam.per].forEach((x: number, i) => expect(Math.abs(printed[i] - x)).toBeLessThan(0.1));
    const svg = await readFile(join(dir, "attention.svg"), "utf8");
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain(">tensor → t eh n s er<");
    // one fine-tuning epoch reports its loss, and the valid WER before and after it
    expect(r.err).toMatch(/epoch 1\/1/);
    const ft = r.out.match(/valid WER on 529 words: ([\d.]+)% before, ([\d.]+)% after/);
    expect(Number(ft![2])).toBeLessThan(Number(ft![1]) + 5);
  }, 600_000);
});

describe("examples", () => {
  it.each(listExamples().map((e) => [e.name, e.path]))("%s checks clean", async (_name, path) => {
    const r = await cli("check", path);
    expect(r.out).toMatch(/^ok: model /);
    expect(r.code).toBe(0);
  });
});
