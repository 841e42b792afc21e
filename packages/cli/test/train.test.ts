import { describe, expect, it, beforeAll } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng, readSafetensors, decodeCheckpoint, Tensor } from "@attn/core";
import { EXAMPLES_DIR } from "@attn/models";
import { cli, tutorialData } from "./helpers.js";

const TUTORIAL = join(EXAMPLES_DIR, "tutorial.attn");
const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));



interface LogLine {
  type: string;
  step?: number;
  loss?: number;
  trainLoss?: number;
}
const readLog = async (p: string): Promise<LogLine[]> => (await readFile(p, "utf8")).trim().split("\n").map((l) => JSON.parse(l));

let dir: string;
let data: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "attn-train-"));
  data = join(dir, "train.jsonl");
  await writeFile(data, tutorialData(48, 1));
});

describe("attn train", () => {
  it("trains the tutorial model from its train section, logging JSONL and writing weights", async () => {
    const log = join(dir, "log.jsonl");
    const w = join(dir, "w.safetensors");
    const r = await cli("train", TUTORIAL, "--data", data, "--epochs", "6", "--batch-size", "8", "--log", log, "--weights-out", w);
    expect(r.err).toMatch(/training Tutorial on cpu: 48 examples, batch 8, 6 epochs, adam lr 0\.01; 9 trainable tensors/);
    expect(r.code).toBe(0);
    const lines = await readLog(log);
    const steps = lines.filter((l) => l.type === "step");
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    const epochs = lines.filter((l) => l.type === "epoch").map((l) => l.trainLoss!);
    expect(epochs).toHaveLength(6);
    expect(epochs[5]).toBeLessThan(epochs[0] * 0.7);
    const weights = readSafetensors(new Uint8Array(await readFile(w))).tensors;
    expect([...weights.keys()].sort()).toEqual(["attn.W_k.weight", "attn.W_q.weight", "attn.v.weight", "head.bias", "head.weight", "rnn.bias_hh_l0", "rnn.bias_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l0"]);
  });

  it("fine-tunes from given weights with frozen parameters and per-group learning rates", async () => {
    const init = join(dir, "w.safetensors");
    const out = join(dir, "ft.safetensors");
    const r = await cli("train", TUTORIAL, "--data", data, "--epochs", "1", "--weights", init, "--freeze", "rnn.*", "--lr-group", "attn.*=0", "--weights-out", out);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/5 trainable tensors .*, 4 frozen/);
    const before = readSafetensors(new Uint8Array(await readFile(init))).tensors;
    const after = readSafetensors(new Uint8Array(await readFile(out))).tensors;
    const same = (k: string) => Array.from(before.get(k)!.data).every((v, i) => v === after.get(k)!.data[i]);
    for (const k of ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"]) expect(same(k), `${k} is frozen`).toBe(true);
    for (const k of ["attn.W_q.weight", "attn.W_k.weight", "attn.v.weight"]) expect(same(k), `${k} has learning rate 0`).toBe(true);
    expect(same("head.weight"), "head.weight trains").toBe(false);
  });

  it("evaluates saved weights (attn eval) and applies command-line overrides", async () => {
    const w = join(dir, "w.safetensors");
    const r = await cli("eval", TUTORIAL, "--weights", w, "--data", data, "--json");
    expect(r.code, r.err).toBe(0);
    const m = JSON.parse(r.out) as { examples: number; loss: number };
    expect(m.examples).toBe(48);
    expect(m.loss).toBeGreaterThan(0);
    const sgd = await cli("train", TUTORIAL, "--data", data, "--epochs", "1", "--optimizer", "sgd", "--lr", "0.05", "--batch-size", "12");
    expect(sgd.err).toMatch(/48 examples, batch 12, 1 epochs, sgd lr 0\.05/);
    expect((await cli("train", TUTORIAL, "--data", data, "--optimizer", "rmsprop")).err).toMatch(/--optimizer must be adam, adamw or sgd/);
  });

  it("rejects bad data and a model without a train section with clear messages", async () => {
    const bad = join(dir, "bad.jsonl");
    await writeFile(bad, '{"x": [[1,2,3,4,5,6,7,8]], "target": [0.5]}\n{"x": [[1,2]], "target": [0.5]}\n');
    const r = await cli("train", TUTORIAL, "--data", bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.jsonl:2: field "x" must have size 8 on axis 1/);
    await writeFile(bad, '{"x": [[1,2,3,4,5,6,7,8]]}\n');
    expect((await cli("train", TUTORIAL, "--data", bad)).err).toMatch(/bad\.jsonl:1: missing field "target"/);
    expect((await cli("train", join(EXAMPLES_DIR, "dot.attn"), "--data", bad)).err).toMatch(/has no `train \{ \.\.\. \}` section/);
  });
});

/** Runs the built CLI as a child process; `killWhen` is polled on the log and SIGKILLs the process. */
function runChild(args: string[], killWhen?: () => Promise<boolean>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    let timer: NodeJS.Timeout | undefined;
    if (killWhen) {
      timer = setInterval(async () => {
        if (await killWhen().catch(() => false)) {
          clearInterval(timer);
          child.kill("SIGKILL");
        }
      }, 5);
    }
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe("checkpoints and resume (child processes)", () => {
  const args = (extra: string[]) => ["train", TUTORIAL, "--data", data, "--epochs", "40", "--batch-size", "4", ...extra];

  it("needs the built CLI", () => {
    expect(existsSync(BIN), `${BIN} is missing: run \`pnpm build\` first (pnpm test does)`).toBe(true);
  });

  it("continues a killed run from its last checkpoint with exactly the uninterrupted loss curve", async () => {
    const full = join(dir, "full.jsonl");
    const r0 = await runChild(args(["--log", full]));
    expect(r0.code, r0.stderr).toBe(0);
    const ck = join(dir, "resume.ckpt");
    const part = join(dir, "part.jsonl");
    const killed = await runChild(args(["--log", part, "--checkpoint", ck, "--checkpoint-every", "7"]), async () => {
      const l = existsSync(part) ? await readLog(part) : [];
      return l.filter((x) => x.type === "step").length >= 60;
    });
    expect(killed.signal).toBe("SIGKILL");
    const saved = decodeCheckpoint(new Uint8Array(await readFile(ck)), ck).progress.step;
    expect(saved).toBeGreaterThan(0);
    const rest = join(dir, "rest.jsonl");
    const r1 = await runChild(args(["--log", rest, "--checkpoint", ck, "--resume", ck]));
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr).toMatch(new RegExp(`resumed at step ${saved} `));
    const want = new Map((await readLog(full)).filter((l) => l.type === "step").map((l) => [l.step!, l.loss!]));
    const got = (await readLog(rest)).filter((l) => l.type === "step");
    expect(got[0].step).toBe(saved + 1);
    expect(got.at(-1)!.step).toBe(Math.max(...want.keys()));
    for (const g of got) expect(g.loss, `step ${g.step}`).toBe(want.get(g.step!));
  }, 60_000);

  it("a process killed while writing checkpoints always leaves a loadable one", async () => {
    const ck = join(dir, "atomic.ckpt");
    const rng = new Rng(3);
    let loaded = 0;
    for (let round = 0; round < 6; round++) {
      // Kill at a random moment once this round has written a checkpoint of its own (one per step, so the
      // kill often lands mid-write): keyed on progress, not wall time, which a loaded machine stretches.
      const before = existsSync(ck) ? statSync(ck).mtimeMs : -1;
      const extra = Math.floor(rng.uniform() * 400);
      let wroteAt = 0;
      await runChild(args(["--checkpoint", ck, "--checkpoint-every", "1", ...(existsSync(ck) ? ["--resume", ck] : [])]), async () => {
        if (!wroteAt && existsSync(ck) && statSync(ck).mtimeMs !== before) wroteAt = Date.now();
        return wroteAt > 0 && Date.now() - wroteAt > extra;
      });
      if (!existsSync(ck)) continue;
      const c = decodeCheckpoint(new Uint8Array(await readFile(ck)), ck);
      expect(c.tensors.get("head.weight")).toBeInstanceOf(Tensor);
      loaded++;
    }
    // Each round killed the writer at a random moment (often mid-write, one checkpoint per step); every time
    // the file at the checkpoint path decoded whole, since writes go to a temporary file that is renamed.
    expect(loaded).toBe(6);
  }, 60_000);
});
