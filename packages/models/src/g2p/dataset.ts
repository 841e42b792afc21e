import { Rng, type Dataset, type Tensor } from "@attn/core";
import { padBatch } from "../tasks/reverse-digits.js";
import type { LexiconEntry } from "./cmudict.js";
import { G2P_SPECIAL, encodePhones, encodeWord } from "./vocab.js";

/** One training pair: a word's letters and one of its pronunciations. */
export interface G2PExample {
  readonly word: string;
  readonly src: readonly number[];
  /** BOS + phones (the decoder input, teacher forcing). */
  readonly tgtIn: readonly number[];
  /** phones + EOS. */
  readonly target: readonly number[];
}

/** Every (word, pronunciation) pair of `entries` as examples. */
export function g2pExamples(entries: readonly LexiconEntry[]): G2PExample[] {
  return entries.flatMap((e) =>
    e.prons.map((p) => {
      const ph = encodePhones(p);
      return { word: e.word, src: encodeWord(e.word), tgtIn: [G2P_SPECIAL.bos, ...ph], target: [...ph, G2P_SPECIAL.eos] };
    }),
  );
}

/** The examples as a Trainer dataset with feeds `src`, `tgt_in` and `target` (zero-padded). */
export class G2PDataset implements Dataset {
  constructor(readonly examples: readonly G2PExample[]) {}

  get size(): number {
    return this.examples.length;
  }

  batch(indices: readonly number[]): Record<string, Tensor> {
    const ex = indices.map((i) => this.examples[i]);
    return { src: padBatch(ex.map((e) => e.src)), tgt_in: padBatch(ex.map((e) => e.tgtIn)), target: padBatch(ex.map((e) => e.target)) };
  }
}

/**
 * Batches for one epoch: every batch holds words of one length (the GRU encoders read padding as input, and
 * a bidirectional one would start its backward pass on it, so a batch never pads its source), and within a
 * length, pools of `pool` batches are sorted by target length to keep the decoder's padding small. The
 * order within each length and the order of the batches are shuffled from (seed, epoch): deterministic.
 */
export function bucketedBatches(examples: readonly G2PExample[], batchSize: number, seed: number, epoch: number, pool = 50): number[][] {
  const rng = new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const byLength = new Map<number, number[]>();
  examples.forEach((e, i) => {
    const group = byLength.get(e.src.length);
    if (group) group.push(i);
    else byLength.set(e.src.length, [i]);
  });
  const batches: number[][] = [];
  for (const length of [...byLength.keys()].sort((a, b) => a - b)) {
    const order = rng.shuffle(byLength.get(length)!);
    for (let p = 0; p < order.length; p += pool * batchSize) {
      const chunk = order.slice(p, p + pool * batchSize).sort((a, b) => examples[a].target.length - examples[b].target.length);
      for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
    }
  }
  return rng.shuffle(batches);
}
