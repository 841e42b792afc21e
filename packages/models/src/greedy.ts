import { Tensor, type Session } from "@attn/core";

export interface GreedyOptions {
  readonly bos: number;
  readonly eos: number;
  readonly maxLen: number;
  /** Input names of the teacher-forced model (default `src`, `tgt_in`) and its logits output. */
  readonly srcInput?: string;
  readonly tgtInput?: string;
  readonly logits?: string;
  /** Other outputs to return from the final step (e.g. `alignment`). */
  readonly extra?: readonly string[];
}

/**
 * Greedy decoding with a teacher-forced encoder–decoder graph: starting from BOS, run the model on the
 * tokens so far and append the argmax of the last position, until every row has produced EOS or `maxLen`
 * tokens. Each step reruns the whole (short) prefix, which keeps the model file the same for training and
 * decoding.
 */
export async function greedyDecode(session: Session, src: Tensor, opts: GreedyOptions): Promise<{ tokens: number[][]; extra: Record<string, Tensor> }> {
  const B = src.shape[0];
  const rows = Array.from({ length: B }, () => [opts.bos]);
  const done = new Array<boolean>(B).fill(false);
  let extra: Record<string, Tensor> = {};
  for (let t = 0; t < opts.maxLen && !done.every(Boolean); t++) {
    const tgt = new Tensor("int32", [B, t + 1]);
    rows.forEach((r, b) => tgt.data.set(r, b * (t + 1)));
    const logitsName = opts.logits ?? "logits";
    const out = await session.run({ [opts.srcInput ?? "src"]: src, [opts.tgtInput ?? "tgt_in"]: tgt }, { outputs: [logitsName, ...(opts.extra ?? [])] });
    const logits = out[logitsName];
    const V = logits.shape[2];
    for (let b = 0; b < B; b++) {
      if (done[b]) {
        rows[b].push(opts.eos);
        continue;
      }
      const off = (b * (t + 1) + t) * V;
      let best = 0;
      for (let v = 1; v < V; v++) if (logits.data[off + v] > logits.data[off + best]) best = v;
      rows[b].push(best);
      if (best === opts.eos) done[b] = true;
    }
    extra = Object.fromEntries((opts.extra ?? []).map((k) => [k, out[k]]));
  }
  // Drop BOS and everything from EOS on.
  const tokens = rows.map((r) => {
    const body = r.slice(1);
    const end = body.indexOf(opts.eos);
    return end < 0 ? body : body.slice(0, end);
  });
  return { tokens, extra };
}
