import { describe, expect, it } from "vitest";
import {
  bucketedBatches, cmudictSplits, decodePhones, editDistance, encodePhones, encodeWord, festivalTestOutput, fnv1a32, g2pExamples, G2PDataset,
  G2P_PHONES, G2P_SPECIAL, lexiconFromTsv, lexiconToTsv, loadCmudict, parseFestivalLexicon, scoreFestival, scoreG2P, splitOf,
} from "../src/index.js";

describe("CMU dictionary 0.4 (processed copy)", () => {
  it("parses Festival's lexicon format: stress and POS dropped, entries of a word merged, capitalised words skipped", () => {
    const text = [
      "MNCL",
      '("live" j (((l ay v) 1)))',
      '("live" v (((l ih v) 1)))',
      '("live" n (((l ay v) 0)))',
      '("AWOL" n (((ey) 1) ((w ao l) 0)))',
      '("aardvark" nil (((aa r d) 1) ((v aa r k) 1)))',
    ].join("\n");
    const e = parseFestivalLexicon(text);
    expect(e).toEqual([
      { word: "aardvark", prons: [["aa", "r", "d", "v", "aa", "r", "k"]] },
      { word: "live", prons: [["l", "ay", "v"], ["l", "ih", "v"]] },
    ]);
    expect(lexiconFromTsv(lexiconToTsv(e))).toEqual(e);
    expect(() => parseFestivalLexicon('MNCL\n("x" nil (((ax) 1)))\ngarbage', "lex.out")).toThrow(/lex\.out:3: not a Festival lexicon entry/);
  });

  it("FNV-1a-32 matches the published test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("splits 105,538 words by FNV-1a bucket into 94,967 / 5,288 / 5,283", () => {
    const all = loadCmudict();
    expect(all.length).toBe(105538);
    const s = cmudictSplits(all);
    expect([s.train.length, s.valid.length, s.test.length]).toEqual([94967, 5288, 5283]);
    for (const e of s.test.slice(0, 50)) expect(fnv1a32(e.word) % 100).toBeLessThan(5);
    expect(s.test.filter((e) => e.prons.length > 1).length).toBe(9);
    expect(splitOf("tensor")).toBe(["test", "valid", "train"][fnv1a32("tensor") % 100 < 5 ? 0 : fnv1a32("tensor") % 100 < 10 ? 1 : 2]);
    // every phone of the data is in the vocabulary
    const phones = new Set(all.flatMap((e) => e.prons.flat()));
    expect([...phones].sort()).toEqual([...G2P_PHONES].sort());
  });
});

describe("G2P vocabulary and examples", () => {
  it("encodes words and phones with the specials first, and decodes back", () => {
    expect(encodeWord("Ab'c")).toEqual([3, 4, 5]);
    expect(() => encodeWord("tensor2")).toThrow(/character "2" at position 7/);
    expect(() => encodeWord("")).toThrow(/empty/);
    const ids = encodePhones(["t", "eh", "n", "s", "er"]);
    expect(decodePhones([G2P_SPECIAL.bos, ...ids, G2P_SPECIAL.eos, 0])).toEqual(["t", "eh", "n", "s", "er"]);
    expect(() => encodePhones(["t", "EH1"])).toThrow(/unknown phone "EH1"/);
  });

  it("builds teacher-forcing examples and zero-padded batches", () => {
    const ex = g2pExamples([{ word: "ab", prons: [["ey", "b"], ["ae", "b"]] }, { word: "c", prons: [["s", "iy"]] }]);
    expect(ex.length).toBe(3);
    expect(ex[0].tgtIn[0]).toBe(G2P_SPECIAL.bos);
    expect(ex[0].target.at(-1)).toBe(G2P_SPECIAL.eos);
    const b = new G2PDataset(ex).batch([2, 0]);
    expect(b.src.shape).toEqual([2, 2]);
    expect(Array.from(b.src.data)).toEqual([5, 0, 3, 4]);
    expect(b.target.shape).toEqual([2, 3]);
  });
});

describe("length-bucketed training batches", () => {
  const examples = g2pExamples(cmudictSplits().train.slice(0, 3000));

  it("cover every example once per epoch, each batch one source length and at most the batch size", () => {
    const batches = bucketedBatches(examples, 64, 0, 0);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(examples.map((_, i) => i));
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(64);
      expect(new Set(b.map((i) => examples[i].src.length)).size).toBe(1);
    }
    // one partial batch per source length at most
    const lengths = new Set(examples.map((e) => e.src.length)).size;
    expect(batches.filter((b) => b.length < 64).length).toBeLessThanOrEqual(lengths);
  });

  it("are the same for a (seed, epoch) and differ between epochs and seeds", () => {
    expect(bucketedBatches(examples, 64, 3, 1)).toEqual(bucketedBatches(examples, 64, 3, 1));
    expect(bucketedBatches(examples, 64, 3, 2)).not.toEqual(bucketedBatches(examples, 64, 3, 1));
    expect(bucketedBatches(examples, 64, 4, 1)).not.toEqual(bucketedBatches(examples, 64, 3, 1));
  });
});

describe("WER and PER", () => {
  it("edit distance counts substitutions, insertions and deletions", () => {
    expect(editDistance("kitten".split(""), "sitting".split(""))).toBe(3);
    expect(editDistance([], ["a", "b"])).toBe(2);
    expect(editDistance(["a"], ["a"])).toBe(0);
  });

  it("a word is right if it matches any reference; PER uses the closest reference", () => {
    const s = scoreG2P([
      { prediction: ["r", "eh", "d"], references: [["r", "iy", "d"], ["r", "eh", "d"]] },
      { prediction: ["k", "ae"], references: [["k", "ae", "t"]] },
      { prediction: ["d", "ao", "g", "z"], references: [["d", "ao", "g"], ["d", "aa", "g", "z", "z"]] },
    ]);
    expect(s.wrongWords).toBe(2);
    expect(s.wer).toBeCloseTo(200 / 3, 10);
    // 0/3 + 1/3 + (distance 1 to "d ao g" and 2 to the other: the closer, length 3)
    expect(s.phoneErrors).toBe(2);
    expect(s.refPhones).toBe(9);
  });

  it("Festival's letter-to-sound output on the test split scores WER 30.72%, PER 6.42%", () => {
    const test = cmudictSplits().test;
    expect(festivalTestOutput().size).toBe(test.length);
    const s = scoreFestival(test);
    expect(s.wrongWords).toBe(1623);
    expect(s.wer).toBeCloseTo(30.72, 2);
    expect(s.per).toBeCloseTo(6.42, 2);
    expect(() => scoreFestival(cmudictSplits().train.slice(0, 1))).toThrow(/Festival's output has no "[a-z]+": only the test split's words/);
  });
});
