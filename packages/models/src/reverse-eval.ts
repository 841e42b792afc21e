import { Session, type Backend, type Graph, type Tensor } from "@attn/core";
import { greedyDecode } from "./greedy.js";
import { antiDiagonalShare, peakCorrelation, padBatch, REVERSE_TOKENS, type ReverseExample } from "./tasks/reverse-digits.js";

export interface ReversalReport {
  /** Fraction of strings reversed exactly by greedy decoding. */
  readonly exactMatch: number;
  /** Mean share of teacher-forced attention mass exactly on the anti-diagonal (s = n−1−t). */
  readonly antiDiagonal: number;
  /** Mean share within one position of it (|s − (n−1−t)| ≤ 1). */
  readonly antiDiagonalBand: number;
  /** Mean correlation between step and attention peak (−1: perfectly anti-diagonal in shape). */
  readonly peakCorrelation: number;
  readonly examples: number;
}

/** Evaluates a digit-reversal model (reverse_digits.attn) with `weights` on held-out examples. */
export async function evaluateReversal(graph: Graph, backend: Backend, weights: ReadonlyMap<string, Tensor>, examples: readonly ReverseExample[], chunk = 250): Promise<ReversalReport> {
  const session = await Session.create(graph, backend, { weights, requireAll: true });
  try {
    let exact = 0;
    let diag = 0;
    let band = 0;
    let corr = 0;
    for (let i = 0; i < examples.length; i += chunk) {
      const part = examples.slice(i, i + chunk);
      const src = padBatch(part.map((e) => e.src));
      const { tokens } = await greedyDecode(session, src, { bos: REVERSE_TOKENS.bos, eos: REVERSE_TOKENS.eos, maxLen: Math.max(...part.map((e) => e.src.length)) + 2 });
      part.forEach((e, k) => {
        if (tokens[k].join(",") === [...e.src].reverse().join(",")) exact++;
      });
      // Alignment under teacher forcing, one example at a time (no padding in the way).
      for (const e of part) {
        const out = await session.run({ src: padBatch([e.src]), tgt_in: padBatch([e.tgtIn]) }, { outputs: ["alignment"] });
        diag += antiDiagonalShare(out.alignment, e.digits.length);
        band += antiDiagonalShare(out.alignment, e.digits.length, 1);
        corr += peakCorrelation(out.alignment, e.digits.length);
      }
    }
    return { exactMatch: exact / examples.length, antiDiagonal: diag / examples.length, antiDiagonalBand: band / examples.length, peakCorrelation: corr / examples.length, examples: examples.length };
  } finally {
    session.dispose();
  }
}
