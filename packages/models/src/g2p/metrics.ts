/** Levenshtein distance between two token sequences (unit costs). */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}

/** WER and PER of a set of predictions. */
export interface G2PScore {
  /** Words scored. */
  readonly words: number;
  /** Words whose prediction equals none of their references. */
  readonly wrongWords: number;
  /** Word error rate, percent. */
  readonly wer: number;
  /** Phone error rate, percent: Σ edit distance to the closest reference ÷ Σ that reference's length. */
  readonly per: number;
  readonly phoneErrors: number;
  readonly refPhones: number;
}

/**
 * Scores predictions against references: a word is right if its prediction equals any reference; its
 * phone errors are the edit distance to the closest reference (the shorter one on ties), divided in the
 * total by that reference's length.
 */
export function scoreG2P(items: readonly { readonly prediction: readonly string[]; readonly references: readonly (readonly string[])[] }[]): G2PScore {
  let wrongWords = 0;
  let phoneErrors = 0;
  let refPhones = 0;
  for (const { prediction, references } of items) {
    let best = Infinity;
    let bestLen = 0;
    for (const ref of references) {
      const d = editDistance(prediction, ref);
      if (d < best || (d === best && ref.length < bestLen)) {
        best = d;
        bestLen = ref.length;
      }
    }
    if (best > 0) wrongWords++;
    phoneErrors += best;
    refPhones += bestLen;
  }
  const words = items.length;
  return { words, wrongWords, wer: words ? (100 * wrongWords) / words : 0, per: refPhones ? (100 * phoneErrors) / refPhones : 0, phoneErrors, refPhones };
}
