import type { Tensor} from "@attn/core";
import { type Session } from "@attn/core";
import { fashionImages, type FashionMnist } from "../fashion/fashion-mnist.js";

/** Class scores and attention over the 7×7 cells for images `indices` of a Fashion-MNIST split. */
export async function classifyFashion(session: Session, set: FashionMnist, indices: readonly number[]): Promise<{ predicted: number[]; where: Tensor; logits: Tensor }> {
  const out = await session.run({ image: fashionImages(set, indices) }, { outputs: ["logits", "where"] });
  const logits = out.logits;
  const C = logits.shape[1];
  const predicted = indices.map((_, b) => {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits.data[b * C + c] > logits.data[b * C + best]) best = c;
    return best;
  });
  return { predicted, where: out.where, logits };
}

/** Accuracy (percent) of a Fashion-MNIST classifier on a whole split, with the confusion matrix [true][predicted]. */
export async function evaluateFashion(session: Session, set: FashionMnist, opts: { batchSize?: number } = {}): Promise<{ accuracy: number; correct: number; count: number; confusion: number[][] }> {
  const bs = opts.batchSize ?? 500;
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  let correct = 0;
  for (let k = 0; k < set.count; k += bs) {
    const idx = Array.from({ length: Math.min(bs, set.count - k) }, (_, i) => k + i);
    const { predicted } = await classifyFashion(session, set, idx);
    idx.forEach((i, b) => {
      confusion[set.labels[i]][predicted[b]]++;
      if (predicted[b] === set.labels[i]) correct++;
    });
  }
  return { accuracy: (100 * correct) / set.count, correct, count: set.count, confusion };
}
