import { Rng, Tensor } from "@attn/core";

/** Token ids of the digit-reversal task. */
export const REVERSE_TOKENS = { pad: 0, bos: 1, eos: 2, digit0: 3, vocab: 13 } as const;

/** One example: source digits, the decoder input (BOS + reversed) and the target (reversed + EOS). */
export interface ReverseExample {
  readonly digits: readonly number[];
  readonly src: readonly number[];
  readonly tgtIn: readonly number[];
  readonly target: readonly number[];
}

/** A digit string as token ids. */
export function encodeDigits(digits: readonly number[]): number[] {
  return digits.map((d) => d + REVERSE_TOKENS.digit0);
}

/**
 * `count` random digit strings of length `minLen`…`maxLen` from `seed`, as reversal examples. Different
 * seeds give (almost surely) disjoint sets; `exclude` drops strings seen elsewhere (held-out evaluation).
 */
export function reverseDigitExamples(count: number, seed: number, opts: { minLen?: number; maxLen?: number; exclude?: ReadonlySet<string> } = {}): ReverseExample[] {
  const rng = new Rng(seed);
  const lo = opts.minLen ?? 5;
  const hi = opts.maxLen ?? 12;
  const out: ReverseExample[] = [];
  while (out.length < count) {
    const n = lo + Math.floor(rng.uniform() * (hi - lo + 1));
    const digits = Array.from({ length: n }, () => Math.floor(rng.uniform() * 10));
    if (opts.exclude?.has(digits.join(""))) continue;
    const src = encodeDigits(digits);
    const rev = [...src].reverse();
    out.push({ digits, src, tgtIn: [REVERSE_TOKENS.bos, ...rev], target: [...rev, REVERSE_TOKENS.eos] });
  }
  return out;
}

/** The examples as JSON Lines for `attn train` (fields `src`, `tgt_in`, `target`). */
export function reverseDigitsJsonl(examples: readonly ReverseExample[]): string {
  return examples.map((e) => JSON.stringify({ src: e.src, tgt_in: e.tgtIn, target: e.target })).join("\n") + "\n";
}

/** A padded int32 batch [B, maxLen] of token rows. */
export function padBatch(rows: readonly (readonly number[])[]): Tensor {
  const len = Math.max(...rows.map((r) => r.length));
  const t = new Tensor("int32", [rows.length, len]);
  rows.forEach((r, b) => t.data.set(r, b * len));
  return t;
}

/**
 * Share of attention mass near the anti-diagonal for one example: decoder step t emits source digit n−1−t,
 * so reversed attention puts its mass at position n−1−t. Counts the mass at |s − (n−1−t)| ≤ `band`
 * (band 0: exactly on it). `alignment` is [T, S] (or the first item of [B, T, S]); only the n digit steps
 * count (not the final EOS step).
 */
export function antiDiagonalShare(alignment: Tensor, n: number, band = 0): number {
  const S = alignment.shape[alignment.rank - 1];
  let on = 0;
  let all = 0;
  for (let t = 0; t < n; t++) {
    for (let s = 0; s < S; s++) {
      const w = alignment.data[t * S + s];
      all += w;
      if (Math.abs(s - (n - 1 - t)) <= band) on += w;
    }
  }
  return all > 0 ? on / all : 0;
}

/**
 * Pearson correlation between decoder step t and the source position its attention peaks at, over the n
 * digit steps: −1 for a perfectly anti-diagonal matrix (each step looks one position further left).
 */
export function peakCorrelation(alignment: Tensor, n: number): number {
  const S = alignment.shape[alignment.rank - 1];
  const peaks: number[] = [];
  for (let t = 0; t < n; t++) {
    let best = 0;
    for (let s = 1; s < S; s++) if (alignment.data[t * S + s] > alignment.data[t * S + best]) best = s;
    peaks.push(best);
  }
  const mt = (n - 1) / 2;
  const mp = peaks.reduce((a, b) => a + b, 0) / n;
  let cov = 0;
  let vt = 0;
  let vp = 0;
  peaks.forEach((p, t) => {
    cov += (t - mt) * (p - mp);
    vt += (t - mt) ** 2;
    vp += (p - mp) ** 2;
  });
  return vp === 0 || vt === 0 ? 0 : cov / Math.sqrt(vt * vp);
}
