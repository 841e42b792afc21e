import { formatShape, type Tensor } from "@attn/core";
import { CliError } from "../io.js";

/** One [rows, cols] attention matrix taken from a model output, and how it was taken. */
export interface AttentionMatrix {
  /** Row-major, `rows * cols` weights. */
  readonly weights: Float32Array;
  readonly rows: number;
  readonly cols: number;
  /** What was done to reach two axes ("batch item 0 of 5, mean over 4 heads"), empty for a plain matrix. */
  readonly note: string;
}

/**
 * The matrix to draw from an attention-weights output whose last two axes are [rows, cols]:
 * [rows, cols] as is, [B, rows, cols] its first batch item, and [B, heads, rows, cols] the first batch
 * item averaged over heads (the view PyTorch's MultiheadAttention returns by default).
 *
 * @throws CliError for other ranks or an empty tensor, naming the output and its shape.
 */
export function attentionMatrix(t: Tensor, name: string): AttentionMatrix {
  const shape = t.shape;
  if (shape.length < 2 || shape.length > 4) {
    throw new CliError(`output "${name}" has shape ${formatShape(shape)}; expected attention weights [rows, cols], [B, rows, cols] or [B, heads, rows, cols]`);
  }
  if (shape.some((d) => d === 0)) throw new CliError(`output "${name}" is empty (shape ${formatShape(shape)})`);
  const rows = shape[shape.length - 2];
  const cols = shape[shape.length - 1];
  const size = rows * cols;
  // bool or int32 outputs (e.g. a hard-attention mask) are drawn as 0/1 weights.
  const data = Float32Array.from(t.data as ArrayLike<number>);
  if (shape.length === 2) return { weights: data, rows, cols, note: "" };
  const batch = `batch item 0 of ${shape[0]}`;
  if (shape.length === 3) return { weights: data.slice(0, size), rows, cols, note: batch };
  const heads = shape[1];
  const mean = new Float32Array(size);
  // Batch item 0 is the first heads × rows × cols values; sum each head's matrix, then divide once.
  for (let h = 0; h < heads; h++) for (let i = 0; i < size; i++) mean[i] += data[h * size + i];
  for (let i = 0; i < size; i++) mean[i] /= heads;
  return { weights: mean, rows, cols, note: `${batch}, mean over ${heads} head${heads === 1 ? "" : "s"}` };
}
