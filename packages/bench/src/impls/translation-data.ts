import type { Tensor } from "@attn/core";
import { EXAMPLES_DIR, padBatch, reverseDigitExamples } from "@attn/models";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The translation example used end to end (a GRU encoder–decoder with Bahdanau attention). */
export const TRANSLATION_FILE = "reverse_digits.attn";

export function translationSource(): { text: string; file: string } {
  const file = join(EXAMPLES_DIR, TRANSLATION_FILE);
  return { text: readFileSync(file, "utf8"), file };
}

export interface TranslationBatch {
  readonly src: Tensor;
  readonly tgt_in: Tensor;
  readonly target: Tensor;
}

/** `count` digit-reversal examples (seed 1) in batches of `batchSize`, padded. */
export function translationBatches(count: number, batchSize: number): TranslationBatch[] {
  const ex = reverseDigitExamples(count, 1);
  const out: TranslationBatch[] = [];
  for (let i = 0; i < ex.length; i += batchSize) {
    const part = ex.slice(i, i + batchSize);
    out.push({ src: padBatch(part.map((e) => e.src)), tgt_in: padBatch(part.map((e) => e.tgtIn)), target: padBatch(part.map((e) => e.target)) });
  }
  return out;
}
