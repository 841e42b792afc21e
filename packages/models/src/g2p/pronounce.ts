import { Tensor, type Session } from "@attn/core";
import { greedyDecode } from "../greedy.js";
import { G2P_SPECIAL, decodePhones, encodeWord } from "./vocab.js";

export interface PronounceOptions {
  /** Words per model call (default 256). */
  readonly batchSize?: number;
  /** Longest pronunciation produced, in phones (default: word length + 8). */
  readonly maxLen?: number;
}

/** Greedy pronunciations of `words` with a teacher-forced G2P model (inputs `src`, `tgt_in`; output `logits`). */
export async function pronounce(session: Session, words: readonly string[], opts: PronounceOptions = {}): Promise<string[][]> {
  const bs = opts.batchSize ?? 256;
  const out: string[][] = [];
  // Sorting by length keeps padding (and the decode length) small within a batch.
  const order = words.map((w, i) => ({ i, src: encodeWord(w) })).sort((a, b) => a.src.length - b.src.length);
  const result = new Array<string[]>(words.length);
  for (let k = 0; k < order.length; k += bs) {
    const chunk = order.slice(k, k + bs);
    const S = Math.max(...chunk.map((c) => c.src.length));
    const src = new Tensor("int32", [chunk.length, S]);
    chunk.forEach((c, b) => src.data.set(c.src, b * S));
    const { tokens } = await greedyDecode(session, src, { bos: G2P_SPECIAL.bos, eos: G2P_SPECIAL.eos, maxLen: opts.maxLen ?? S + 8 });
    chunk.forEach((c, b) => (result[c.i] = decodePhones(tokens[b])));
  }
  out.push(...result);
  return out;
}
