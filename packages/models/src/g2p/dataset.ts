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
 * Batches for one epoch with little padding: shuffle from (seed, epoch), cut into pools of `pool` batches,
 * sort each pool by length, cut it into batches, and shuffle the batches. Deterministic for a seed.
 */
export function bucketedBatches(examples: readonly G2PExample[], batchSize: number, seed: number, epoch: number, pool = 50): number[][] {
  const rng = new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const order = Array.from({ length: examples.length }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const key = (i: number) => examples[i].src.length * 64 + examples[i].target.length;
  const batches: number[][] = [];
  for (let p = 0; p < order.length; p += pool * batchSize) {
    const chunk = order.slice(p, p + pool * batchSize).sort((a, b) => key(a) - key(b));
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  for (let i = batches.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [batches[i], batches[j]] = [batches[j], batches[i]];
  }
  return batches;
}
