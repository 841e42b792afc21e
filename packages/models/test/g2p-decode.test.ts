import { describe, expect, it } from "vitest";
import { bindParams, Session, Tensor, type Graph } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { compileZooModel, encodePhones, encodeWord, G2PModel, G2P_SPECIAL, greedyDecode, StepDecoder, ZOO, zooModel } from "../src/index.js";
import { compileFile } from "@attn/dsl";

// Decoding runs on separate encoder and step graphs (zoo/g2p_decode.attn) that must share the training
// model's parameters and compute the same function. The reference is the training graph itself, rerun on
// every prefix (teacher forcing): no shared code with the step path.
const WORDS = ["tensor", "attention", "a", "phoneme", "zyzzyva", "of"];

function srcBatch(words: readonly string[]): Tensor {
  const ids = words.map(encodeWord);
  const S = Math.max(...ids.map((r) => r.length));
  const t = new Tensor("int32", [words.length, S]);
  ids.forEach((r, b) => t.data.set(r, b * S));
  return t;
}

/** Log-probability of `tokens` (+ EOS where `withEos`) for each row under the teacher-forced training graph. */
async function sequenceLogp(session: Session, src: Tensor, rows: readonly (readonly number[])[], withEos: readonly boolean[] = rows.map(() => true)): Promise<number[]> {
  const T = Math.max(...rows.map((r) => r.length)) + 1;
  const tgt = new Tensor("int32", [rows.length, T]);
  rows.forEach((r, b) => tgt.data.set([G2P_SPECIAL.bos, ...r], b * T));
  const { logits } = await session.run({ src, tgt_in: tgt }, { outputs: ["logits"] });
  const V = logits.shape[2];
  return rows.map((r, b) => {
    let lp = 0;
    (withEos[b] ? [...r, G2P_SPECIAL.eos] : r).forEach((tok, t) => {
      const off = (b * T + t) * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits.data[off + v]);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(logits.data[off + v] - max);
      lp += logits.data[off + tok] - max - Math.log(s);
    });
    return lp;
  });
}

async function seeded(graph: Graph, seed: number) {
  return bindParams(graph, new Map(), { seed });
}

describe("step decoding of the G2P zoo models", () => {
  const backend = createCpuBackend();
  // Every G2P model at its file's widths, and one GRU model at other widths (G2PModel reads them off the weights).
  const cases = [...ZOO.filter((m) => m.task === "g2p").map((model) => ({ model, hyper: undefined })), { model: zooModel("g2p-bahdanau"), hyper: { emb: 24, hidden: 40 } }];
  for (const { model, hyper } of cases) {
    it(`${model.name}${hyper ? ` (emb ${hyper.emb}, hidden ${hyper.hidden})` : ""}: greedy step decoding equals greedy decoding with the training graph, with the same log-probability`, async () => {
      const graph = hyper ? (await compileFile(model.file, { hyper })).graph! : (await compileZooModel(model)).graph;
      const weights = await seeded(graph, 11);
      const g2p = await G2PModel.load(model, backend, weights);
      const session = await Session.create(graph, backend, { weights });
      const src = srcBatch(WORDS);
      const ref = await greedyDecode(session, src, { bos: G2P_SPECIAL.bos, eos: G2P_SPECIAL.eos, maxLen: src.shape[1] + 8 });
      const dec = await (g2p as unknown as { decoder: StepDecoder }).decoder.decode(src);
      expect(dec.map((d) => d.tokens)).toEqual(ref.tokens);
      // pronounce() batches words of one length only, so each word comes out as if decoded alone (the padded
      // batch above is another input for the GRU encoders, whose backward direction reads the padding first)
      const got = await g2p.pronounce(WORDS, { alignment: true });
      for (const [i, w] of WORDS.entries()) {
        const alone = await greedyDecode(session, srcBatch([w]), { bos: G2P_SPECIAL.bos, eos: G2P_SPECIAL.eos, maxLen: w.length + 8 });
        expect(encodePhones(got[i].phones)).toEqual(alone.tokens[0].filter((x) => x > 2));
        const [single] = await g2p.pronounce([w], { alignment: true });
        expect(got[i].alignment!.flat()).toEqual(single.alignment!.flat());
      }
      session.dispose();
      g2p.dispose();
      const lp = await sequenceLogp(await Session.create(graph, backend, { weights }), src, dec.map((d) => d.tokens), dec.map((d) => d.complete));
      dec.forEach((d, i) => expect(d.logp).toBeCloseTo(lp[i], 3));
    });
  }

  for (const name of ["g2p-luong", "g2p-transformer"]) {
    it(`${name}: a beam as wide as every candidate finds the most probable output of up to two phones (exhaustive check)`, async () => {
      const model = zooModel(name);
      const { graph } = await compileZooModel(model);
      const weights = await seeded(graph, 5);
      const file = model.decode!.file;
      const enc = (await compileFile(file, { model: model.decode!.encoder })).graph!;
      const step = (await compileFile(file, { model: model.decode!.step })).graph!;
      const decoder = await StepDecoder.create(enc, step, backend, weights, { bos: G2P_SPECIAL.bos, eos: G2P_SPECIAL.eos });
      const src = srcBatch(["ox"]);
      const V = 43;
      const [best] = await decoder.decode(src, { beam: V * V, maxLen: 2 });
      decoder.dispose();
      // Every output of 0, 1 or 2 non-EOS tokens that ends in EOS within two steps: [], [x].
      const rows: number[][] = [[]];
      for (let a = 0; a < V; a++) if (a !== G2P_SPECIAL.eos) rows.push([a]);
      const session = await Session.create(graph, backend, { weights });
      const lp = await sequenceLogp(session, new Tensor("int32", [rows.length, 2], Int32Array.from(rows.flatMap(() => Array.from(src.data)))), rows);
      session.dispose();
      const argmax = lp.indexOf(Math.max(...lp));
      expect(best.tokens).toEqual(rows[argmax]);
      expect(best.logp).toBeCloseTo(lp[argmax], 3);
    });
  }

  it("G2PModel.ensemble pronounces each word as greedy decoding with the mean of its members' training graphs does", async () => {
    const names = ["g2p-bahdanau", "g2p-transformer"];
    const members: G2PModel[] = [];
    const sessions: Session[] = [];
    for (const [i, name] of names.entries()) {
      const model = zooModel(name);
      const { graph } = await compileZooModel(model);
      const weights = await seeded(graph, 20 + i);
      members.push(await G2PModel.load(model, backend, weights));
      sessions.push(await Session.create(graph, backend, { weights }));
    }
    const ensemble = G2PModel.ensemble(members);
    expect(ensemble.name).toBe("g2p-bahdanau+g2p-transformer");
    const words = ["ox", "tensor"];
    const got = await ensemble.pronounce(words);
    // Each member alone says something else, so the check tells the ensemble from either.
    for (const m of members) expect((await m.pronounce(words)).map((p) => p.phones)).not.toEqual(got.map((p) => p.phones));
    ensemble.dispose();
    for (const [w, word] of words.entries()) {
      // Teacher-forced reference: rerun both training graphs on the prefix, take the best mean next phone.
      const src = srcBatch([word]);
      const prefix: number[] = [G2P_SPECIAL.bos];
      while (prefix.length <= word.length + 8) {
        const mean = new Float64Array(43);
        for (const session of sessions) {
          const tgt = new Tensor("int32", [1, prefix.length], Int32Array.from(prefix));
          const { logits } = await session.run({ src, tgt_in: tgt }, { outputs: ["logits"] });
          const row = Array.from(logits.data.subarray((prefix.length - 1) * 43, prefix.length * 43));
          const lse = Math.max(...row) + Math.log(row.reduce((a, x) => a + Math.exp(x - Math.max(...row)), 0));
          row.forEach((x, v) => (mean[v] += (x - lse) / sessions.length));
        }
        const next = mean.indexOf(Math.max(...mean));
        if (next === G2P_SPECIAL.eos) break;
        prefix.push(next);
      }
      expect(encodePhones(got[w].phones)).toEqual(prefix.slice(1));
    }
    for (const session of sessions) session.dispose();
  });

  it("an ensemble (recurrent + prefix member) picks the first phone with the best mean log-probability over every phone", async () => {
    const members = [
      { model: zooModel("g2p-luong"), seed: 5 },
      { model: zooModel("g2p-transformer"), seed: 6 },
    ];
    const src = srcBatch(["ox"]);
    const V = 43;
    // One greedy step: EOS (the empty output, complete) or another phone (the output cut at maxLen 1).
    const rows = Array.from({ length: V }, (_, v) => (v === G2P_SPECIAL.eos ? [] : [v]));
    const withEos = rows.map((r) => r.length === 0);
    const srcRows = new Tensor("int32", [rows.length, 2], Int32Array.from(rows.flatMap(() => Array.from(src.data))));
    const decoders: StepDecoder[] = [];
    const mean = new Array<number>(rows.length).fill(0);
    const own: number[][] = [];
    for (const { model, seed } of members) {
      const { graph } = await compileZooModel(model);
      const weights = await seeded(graph, seed);
      const file = model.decode!.file;
      const enc = (await compileFile(file, { model: model.decode!.encoder })).graph!;
      const step = (await compileFile(file, { model: model.decode!.step })).graph!;
      decoders.push(await StepDecoder.create(enc, step, backend, weights, { bos: G2P_SPECIAL.bos, eos: G2P_SPECIAL.eos }));
      const session = await Session.create(graph, backend, { weights });
      const lps = await sequenceLogp(session, srcRows, rows, withEos);
      session.dispose();
      lps.forEach((lp, i) => (mean[i] += lp / members.length));
      own.push(lps);
    }
    const ensemble = StepDecoder.ensemble(decoders);
    const [best] = await ensemble.decode(src, { maxLen: 1 });
    ensemble.dispose();
    const argmax = mean.indexOf(Math.max(...mean));
    expect(best.tokens).toEqual(rows[argmax]);
    expect(best.complete).toBe(withEos[argmax]);
    expect(best.logp).toBeCloseTo(mean[argmax], 3);
    // Either member alone gives that output another log-probability, so the check tells the mean from each.
    for (const lps of own) expect(Math.abs(lps[argmax] - mean[argmax])).toBeGreaterThan(0.01);
    expect(() => StepDecoder.ensemble([])).toThrow(/at least one decoder/);
  });
});
