import { AttnError } from "@attn/core";

/** Token ids shared by the G2P source (letters) and target (phones) vocabularies. */
export const G2P_SPECIAL = { pad: 0, bos: 1, eos: 2 } as const;

/**
 * Letters the source vocabulary knows, in id order after the three specials. The CMU dictionary 0.4 has no
 * apostrophes (Festival splits `don't` before lookup), so the model never sees id 29; {@link encodeWord}
 * drops apostrophes.
 */
export const G2P_LETTERS = "abcdefghijklmnopqrstuvwxyz'".split("");

/** Festival's CMU phone set (stress dropped), in id order after the three specials. */
export const G2P_PHONES = "aa ae ah ao aw ax ay b ch d dh eh er ey f g hh ih iy jh k l m n ng ow oy p r s sh t th uh uw v w y z zh".split(" ");

/** Source vocabulary size (pad, bos, eos and the letters). */
export const G2P_SRC_VOCAB = 3 + G2P_LETTERS.length;
/** Target vocabulary size (pad, bos, eos and the phones). */
export const G2P_TGT_VOCAB = 3 + G2P_PHONES.length;

const letterId = new Map(G2P_LETTERS.map((c, i) => [c, i + 3]));
const phoneId = new Map(G2P_PHONES.map((p, i) => [p, i + 3]));

/** A word as source token ids: upper case folded, apostrophes dropped. Throws on other characters, naming them. */
export function encodeWord(word: string): number[] {
  const w = word.toLowerCase().replaceAll("'", "");
  if (!w.length) throw new AttnError(`cannot pronounce an empty word`);
  return [...w].map((c, i) => {
    const id = letterId.get(c);
    if (id === undefined) throw new AttnError(`cannot pronounce "${word}": character ${JSON.stringify(c)} at position ${i + 1} is not a letter a–z or an apostrophe`);
    return id;
  });
}

/** Phones as target token ids. */
export function encodePhones(phones: readonly string[]): number[] {
  return phones.map((p) => {
    const id = phoneId.get(p);
    if (id === undefined) throw new AttnError(`unknown phone "${p}" (expected one of ${G2P_PHONES.join(" ")})`);
    return id;
  });
}

/** Target token ids back to phones; specials are dropped. */
export function decodePhones(ids: readonly number[]): string[] {
  return ids.filter((id) => id >= 3 && id < G2P_TGT_VOCAB).map((id) => G2P_PHONES[id - 3]);
}
