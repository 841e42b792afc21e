import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bindParams, writeSafetensors } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { FASHION_CLASSES, FASHION_MNIST_SLICE_DIR, G2PModel, cmudictSplits, compileZooModel, loadFashionMnist, readWeights, zooModel } from "@attn/models";
import { cli } from "./helpers.js";

// Seeded (untrained) weights exercise the commands' plumbing; what trained weights say is tested where the
// shipped weights are (packages/models/test/pretrained.test.ts).
async function seededWeights(name: string, dir: string): Promise<string> {
  const { graph } = await compileZooModel(zooModel(name));
  const path = join(dir, `${name}.safetensors`);
  await writeFile(path, writeSafetensors(bindParams(graph, new Map(), { seed: 3 })));
  return path;
}

describe("attn zoo / translate / predict", () => {
  it("zoo list names every model with its task", async () => {
    const r = await cli("zoo", "list");
    expect(r.code).toBe(0);
    for (const n of ["g2p-bahdanau", "g2p-luong", "g2p-luong-local", "g2p-transformer", "fashion-attention-pool", "fashion-hard-attention", "fashion-vit"]) expect(r.out).toMatch(new RegExp(`^${n} +(g2p|fashion) `, "m"));
  });

  it("translate prints one pronunciation per word and draws each word's letters × phones as SVG", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-zoo-"));
    const weights = await seededWeights("g2p-luong", dir);
    const svg = join(dir, "heat.svg");
    const r = await cli("translate", "tensor", "Cat", "--model", "g2p-luong", "--weights", weights, "--svg", svg);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/^tensor {2}\S/);
    expect(lines[1]).toMatch(/^Cat {5}\S/);
    expect(lines[2]).toBe(`wrote ${svg}`);
    const text = await readFile(svg, "utf8");
    // two nested heatmaps: columns are the letters
    expect(text.match(/<svg /g)!.length).toBe(3);
    const cells = text.match(/class="cell"/g)!.length;
    const phones = lines.slice(0, 2).map((l) => l.split(/ {2,}/)[1].split(" ").length);
    // rows = phones + </s> (or phones when cut at the length limit)
    expect(cells).toBeGreaterThanOrEqual(6 * phones[0] + 3 * phones[1]);
    expect(cells).toBeLessThanOrEqual(6 * (phones[0] + 1) + 3 * (phones[1] + 1));
    const json = await cli("translate", "ox", "--weights", weights, "--json", "--model", "g2p-luong");
    expect(JSON.parse(json.out)[0].word).toBe("ox");
  });

  it("translate rejects words it cannot spell and models of the wrong task", async () => {
    const bad = await cli("translate", "r2d2");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/character "2" at position 2 is not a letter/);
    const task = await cli("translate", "cat", "--model", "fashion-vit");
    expect(task.err).toMatch(/fashion-vit is a fashion model; attn translate needs a grapheme-to-phoneme model/);
    const unknown = await cli("translate", "cat", "--model", "g2p-lstm");
    expect(unknown.err).toMatch(/no zoo model "g2p-lstm"; the zoo has g2p-bahdanau, /);
    expect((await cli("translate")).err).toMatch(/needs at least one word/);
  });

  it("predict classifies test images by index and overlays the attention on each", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-zoo-"));
    const weights = await seededWeights("fashion-hard-attention", dir);
    const svg = join(dir, "fashion.svg");
    const set = loadFashionMnist("test", FASHION_MNIST_SLICE_DIR);
    const r = await cli("predict", "0", "7", "--model", "fashion-hard-attention", "--weights", weights, "--data", FASHION_MNIST_SLICE_DIR, "--svg", svg);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^#0 .*true: ${FASHION_CLASSES[set.labels[0]]} [✓✗]$`));
    expect(lines[1]).toMatch(/^#7 /);
    const text = await readFile(svg, "utf8");
    // hard attention keeps k = 6 cells per image: 12 outlines
    expect(text.match(/class="selected"/g)?.length ?? (text.match(/stroke-width="2"/g) ?? []).length).toBe(12);
    const bad = await cli("predict", "500", "--data", FASHION_MNIST_SLICE_DIR, "--weights", weights, "--model", "fashion-hard-attention");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/image index "500" is not an integer in 0…499/);
  });

  it("zoo eval scores a Fashion-MNIST model on the images of a folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-zoo-"));
    const weights = await seededWeights("fashion-attention-pool", dir);
    const r = await cli("zoo", "eval", "fashion-attention-pool", "--weights", weights, "--data", FASHION_MNIST_SLICE_DIR, "--json");
    expect(r.code).toBe(0);
    const m = JSON.parse(r.out);
    expect(m.images).toBe(500);
    expect(m.perClass).toHaveLength(10);
    expect(m.accuracy).toBeGreaterThanOrEqual(0);
  });

  it("zoo train writes the log, best weights, checkpoint and card each epoch, and --resume continues exactly", async () => {
    const a = await mkdtemp(join(tmpdir(), "attn-zoo-a-"));
    // --out need not exist yet
    const b = join(await mkdtemp(join(tmpdir(), "attn-zoo-b-")), "runs", "luong");
    const args = ["zoo", "train", "g2p-luong", "--limit", "64", "--beam", "2", "--backend", "cpu"];
    const first = await cli(...args, "--epochs", "1", "--out", a);
    expect(first.err).toMatch(/^training g2p-luong .* on cpu, 1 epochs, first 64 examples/);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/g2p-luong on the 64 test words of CMUdict 0\.4:\n {2}greedy +WER +[\d.]+% +PER +[\d.]+%\n {2}beam 2 /);
    const resumed = await cli(...args, "--epochs", "2", "--out", a, "--resume", join(a, "g2p-luong.ckpt"));
    expect(resumed.code).toBe(0);
    const straight = await cli(...args, "--epochs", "2", "--out", b);
    expect(straight.code).toBe(0);
    const epochs = async (dir: string) => (await readFile(join(dir, "g2p-luong.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.epoch).map(({ seconds: _s, ...r }) => r);
    const ra = await epochs(a);
    expect(ra.map((r) => r.epoch)).toEqual([1, 2]);
    expect(ra).toEqual(await epochs(b));
    const card = await readFile(join(b, "g2p-luong.md"), "utf8");
    expect(card).toMatch(/^# g2p-luong: GRU encoder–decoder, Luong global attention/);
    expect(card).toContain(`pnpm attn zoo train g2p-luong --backend cpu --epochs 2 --limit 64 --out ${b}`);
    expect(card).toMatch(/\| Festival letter-to-sound rules \(peer\) \|/);
    const bad = await cli("zoo", "train", "g2p-luong", "--out", a, "--resume", join(a, "nope.ckpt"));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--resume: the checkpoint .*nope\.ckpt does not exist/);
  }, 300_000);

  it("translate and zoo eval take an ensemble A+B of G2P models, each with its shipped weights", async () => {
    // An ensemble of a model with itself averages equal log-probabilities: it must score as the model alone.
    const args = ["--limit", "40", "--beam", "2", "--json"];
    const alone = JSON.parse((await cli("zoo", "eval", "g2p-bahdanau", ...args)).out);
    const twice = await cli("zoo", "eval", "g2p-bahdanau+g2p-bahdanau", ...args);
    expect(twice.code).toBe(0);
    expect(JSON.parse(twice.out)).toEqual(alone);
    const said = await cli("translate", "tensor", "--model", "g2p-bahdanau+g2p-bahdanau");
    expect(said.out).toBe((await cli("translate", "tensor")).out);
    const weights = await cli("translate", "cat", "--model", "g2p-bahdanau+g2p-luong", "--weights", "w.safetensors");
    expect(weights.code).toBe(1);
    expect(weights.err).toBe("--weights holds one model's weights; the ensemble g2p-bahdanau+g2p-luong loads each member's shipped weights");
    const task = await cli("zoo", "eval", "g2p-bahdanau+fashion-vit");
    expect(task.err).toBe("fashion-vit is a fashion model; an ensemble needs grapheme-to-phoneme models (g2p-*)");
    expect((await cli("translate", "cat", "--model", "fashion-vit+g2p-bahdanau")).err).toBe("fashion-vit is a fashion model; an ensemble needs grapheme-to-phoneme models (g2p-*)");
  }, 120_000);

  it("zoo train A+B trains each member as zoo train MEMBER would, then scores the ensemble and writes its card", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-zoo-ens-"));
    const args = ["--limit", "64", "--epochs", "1", "--beam", "2", "--backend", "cpu"];
    const r = await cli("zoo", "train", "g2p-luong+g2p-luong-local", ...args, "--out", dir);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/ensemble g2p-luong\+g2p-luong-local: member 1 of 2\ntraining g2p-luong /);
    // A member trained alone, from scratch, gets the very same weights: the ensemble command reproduces each member.
    const alone = join(dir, "alone");
    expect((await cli("zoo", "train", "g2p-luong-local", ...args, "--out", alone)).code).toBe(0);
    expect(Buffer.compare(await readFile(join(dir, "g2p-luong-local.safetensors")), await readFile(join(alone, "g2p-luong-local.safetensors")))).toBe(0);
    // The ensemble's figures: the mean of the members' log-probabilities, members loaded from the files written.
    const summary = JSON.parse(await readFile(join(dir, "g2p-luong+g2p-luong-local.json"), "utf8"));
    const backend = createCpuBackend();
    const reference = G2PModel.ensemble([
      await G2PModel.load(zooModel("g2p-luong"), backend, readWeights(join(dir, "g2p-luong.safetensors"))),
      await G2PModel.load(zooModel("g2p-luong-local"), backend, readWeights(join(dir, "g2p-luong-local.safetensors"))),
    ]);
    const greedy = await reference.evaluate(cmudictSplits().test.slice(0, 64));
    reference.dispose();
    expect(summary.test.greedy).toEqual({ wer: greedy.wer, per: greedy.per });
    expect(summary.members.map((m: { model: string }) => m.model)).toEqual(["g2p-luong", "g2p-luong-local"]);
    expect(summary.members[1]).toEqual(JSON.parse(await readFile(join(dir, "g2p-luong-local.json"), "utf8")));
    expect(summary.minutes).toBeCloseTo(summary.members[0].minutes + summary.members[1].minutes, 12);
    expect(summary.parameters).toBe(2 * 1_216_875);
    const card = await readFile(join(dir, "g2p-luong+g2p-luong-local.md"), "utf8");
    expect(card).toMatch(/^# g2p-luong\+g2p-luong-local: an ensemble of 2 grapheme-to-phoneme models/);
    expect(card).toContain(`pnpm attn zoo train g2p-luong+g2p-luong-local --backend cpu --epochs 1 --limit 64 --out ${dir}`);
    expect(card).toMatch(/\| g2p-luong-local alone, beam 2 \| [\d.]+% \| [\d.]+% \|/);
    // A model with itself averages equal log-probabilities: the ensemble scores as the model alone.
    const twice = join(dir, "twice");
    expect((await cli("zoo", "train", "g2p-luong+g2p-luong", ...args, "--out", twice)).code).toBe(0);
    const self = JSON.parse(await readFile(join(twice, "g2p-luong+g2p-luong.json"), "utf8"));
    expect(self.test).toEqual(self.members[0].test);
    expect(self.members[0].test).toEqual(summary.members[0].test);
  }, 300_000);

  it("zoo train A+B refuses what applies to one model, and members of another task", async () => {
    for (const flag of ["--resume", "--weights", "--lr"]) {
      const r = await cli("zoo", "train", "g2p-luong+g2p-bahdanau", flag, "1");
      expect(r.code).toBe(1);
      expect(r.err).toBe(`${flag} applies to one model; train the ensemble's members one by one to use it (attn zoo train g2p-luong ${flag} …)`);
    }
    expect((await cli("zoo", "train", "g2p-luong+fashion-vit")).err).toBe("fashion-vit is a fashion model; an ensemble needs grapheme-to-phoneme models (g2p-*)");
  });

  it("zoo train --threads caps onnxruntime's threads, says so on the card, and is refused where it means nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-zoo-threads-"));
    const r = await cli("zoo", "train", "g2p-luong", "--limit", "32", "--epochs", "1", "--backend", "onnx", "--threads", "1", "--out", dir);
    expect(r.code).toBe(0);
    const card = await readFile(join(dir, "g2p-luong.md"), "utf8");
    expect(card).toContain(`pnpm attn zoo train g2p-luong --backend onnx --epochs 1 --limit 32 --threads 1 --out ${dir}`);
    expect(card).toContain("- Backend: onnx (1 onnxruntime thread). Time: ");
    expect(JSON.parse(await readFile(join(dir, "g2p-luong.json"), "utf8")).threads).toBe(1);
    const cpu = await cli("zoo", "train", "g2p-luong", "--backend", "cpu", "--threads", "2", "--out", dir);
    expect(cpu.code).toBe(1);
    expect(cpu.err).toBe('--threads applies to the onnx and onnx-web backends, not "cpu"');
    const zero = await cli("zoo", "eval", "g2p-luong", "--backend", "onnx", "--threads", "0");
    expect(zero.err).toBe('--threads must be an integer ≥ 1, got "0"');
  }, 120_000);
});
