import { AttnError, Session, Tensor, type Backend, type Graph } from "@attn/core";

/** What a step decoder needs besides its two graphs. */
export interface StepDecoderOptions {
  readonly bos: number;
  readonly eos: number;
  /** Local attention: step t may see source positions t − window … t + window only. */
  readonly window?: number;
}

export interface DecodeOptions {
  /** Hypotheses kept per row (default 1: greedy). */
  readonly beam?: number;
  /** Longest output, in tokens before EOS (default: source length + 8). */
  readonly maxLen?: number;
  /** Also return each row's attention weights per output token ([T][S]). */
  readonly alignment?: boolean;
}

/** One decoded row: tokens without BOS/EOS, total log-probability, and (if asked) attention per token. */
export interface Decoded {
  readonly tokens: number[];
  /** Log-probability of the tokens, and of the EOS after them when `complete`. */
  readonly logp: number;
  /** Whether the output ended with EOS (false: it was cut at `maxLen`). */
  readonly complete: boolean;
  readonly alignment?: Float32Array[];
}

interface Hyp {
  readonly tokens: number[];
  readonly logp: number;
  readonly done: boolean;
  /** Row of this hypothesis in the current step's batch (its state lives there). */
  readonly row: number;
  /** Row its parent had in the step that produced it (its new state is that row of `next_state`). */
  readonly parentRow: number;
  readonly align: Float32Array[];
}

/** One model of a decoder: its encoder and step sessions, and how its step reads the source. */
interface Member {
  readonly encoder: Session;
  readonly step: Session;
  /** Recurrent steps carry `state`; prefix steps (transformers) rerun the tokens so far. */
  readonly recurrent: boolean;
  /** Local attention: step t may see source positions t − window … t + window only. */
  readonly window: number | undefined;
}

/**
 * Incremental encoder–decoder inference from two graphs that share the training model's parameters: an
 * encoder (`src` → `memory`, and `state` for a recurrent decoder) run once, and a step run once per output
 * token. A recurrent step reads `memory`, `state`, the previous `token` [B, 1] and `mask` [B, S] and returns
 * `logits` [B, 1, V], `alignment` and `next_state`; a prefix step (transformers) reads `tgt_in` (the tokens
 * so far) instead of `token`/`state`, and the last position is used. Greedy decoding is beam width 1.
 *
 * {@link StepDecoder.ensemble} joins decoders over one vocabulary: every step scores the next token by the
 * mean of their log-probabilities (alignments are the first member's).
 */
export class StepDecoder {
  private constructor(
    private readonly members: readonly Member[],
    private readonly opts: StepDecoderOptions,
  ) {}

  /** Opens sessions for the two graphs on `backend`, taking each one's parameters from `weights`. */
  static async create(encoder: Graph, step: Graph, backend: Backend, weights: ReadonlyMap<string, Tensor>, opts: StepDecoderOptions): Promise<StepDecoder> {
    const pick = (g: Graph) => {
      const missing = g.params.filter((p) => !weights.has(p.name)).map((p) => p.name);
      if (missing.length) throw new AttnError(`${g.name}: the weights lack ${missing.length} parameter(s): ${missing.slice(0, 4).join(", ")}${missing.length > 4 ? ", …" : ""}`);
      return new Map(g.params.map((p) => [p.name, weights.get(p.name)!]));
    };
    const inputs = new Set(step.inputs.map((id) => step.values[id].name));
    const recurrent = inputs.has("state");
    for (const need of recurrent ? ["memory", "state", "token", "mask"] : ["memory", "tgt_in", "mask"]) {
      if (!inputs.has(need)) throw new AttnError(`${step.name}: a ${recurrent ? "recurrent" : "prefix"} decoder step needs an input "${need}"`);
    }
    const enc = await Session.create(encoder, backend, { weights: pick(encoder) });
    const st = await Session.create(step, backend, { weights: pick(step) });
    return new StepDecoder([{ encoder: enc, step: st, recurrent, window: opts.window }], opts);
  }

  /**
   * One decoder from several (they must share BOS and EOS, and their steps one vocabulary): it owns their
   * sessions from now on, and disposing it disposes them.
   */
  static ensemble(decoders: readonly StepDecoder[]): StepDecoder {
    if (decoders.length === 0) throw new AttnError("an ensemble needs at least one decoder");
    const { bos, eos } = decoders[0].opts;
    if (decoders.some((d) => d.opts.bos !== bos || d.opts.eos !== eos)) throw new AttnError("the decoders of an ensemble must share their BOS and EOS tokens");
    return new StepDecoder(decoders.flatMap((d) => d.members), { bos, eos });
  }

  /** Decodes each row of `src` [B, S] (int32, 0 = padding). */
  async decode(src: Tensor, o: DecodeOptions = {}): Promise<Decoded[]> {
    const [B, S] = src.shape;
    const K = Math.max(1, Math.floor(o.beam ?? 1));
    const maxLen = o.maxLen ?? S + 8;
    const { bos, eos } = this.opts;
    const srcPad = Array.from({ length: B * K }, (_, r) => Array.from({ length: S }, (_, j) => src.data[Math.floor(r / K) * S + j] === 0));
    const maskAt = (t: number, window: number | undefined) => {
      const mask = new Tensor("bool", [B * K, S]);
      for (let r = 0; r < B * K; r++) {
        for (let j = 0; j < S; j++) mask.data[r * S + j] = srcPad[r][j] || (window !== undefined && Math.abs(t - j) > window) ? 1 : 0;
      }
      return mask;
    };
    // Without a window the mask is the padding alone, the same at every step.
    const padMask = maskAt(0, undefined);
    const runs = await Promise.all(
      this.members.map(async (m) => {
        const enc = await m.encoder.run({ src });
        return { m, memory: repeatRows(enc.memory, K), state: m.recurrent ? repeatRows(enc.state, K) : undefined };
      }),
    );
    let beams: Hyp[][] = Array.from({ length: B }, (_, b) => [{ tokens: [bos], logp: 0, done: false, row: b * K, parentRow: b * K, align: [] }]);
    const finished = new Array<boolean>(B).fill(false);
    for (let t = 0; t < maxLen && !finished.every(Boolean); t++) {
      const L = t + 1;
      // Every member scores every row's next token; the scores are the mean of their log-softmaxes.
      let logp: Float64Array | undefined;
      let V = 0;
      let alignment: Float32Array | undefined;
      const nextStates: (Tensor | undefined)[] = [];
      // Each row's last token (recurrent steps) or its tokens so far (prefix steps): built once per step,
      // whichever kind of member asks first.
      let token: Tensor | undefined;
      let tgt: Tensor | undefined;
      for (const run of runs) {
        const { m } = run;
        const feeds: Record<string, Tensor> = { memory: run.memory, mask: m.window === undefined ? padMask : maskAt(t, m.window) };
        if (m.recurrent) {
          if (!token) {
            token = new Tensor("int32", [B * K, 1]);
            for (const hyps of beams) for (const h of hyps) token.data[h.row] = h.tokens[h.tokens.length - 1];
          }
          feeds.token = token;
          feeds.state = run.state!;
        } else {
          if (!tgt) {
            tgt = new Tensor("int32", [B * K, L]);
            for (const hyps of beams) for (const h of hyps) for (let j = 0; j < L; j++) tgt.data[h.row * L + j] = h.tokens[j] ?? eos;
          }
          feeds.tgt_in = tgt;
        }
        const out = await m.step.run(feeds, { outputs: ["logits", "alignment", ...(m.recurrent ? ["next_state"] : [])] });
        nextStates.push(out.next_state);
        const [, P, Vm] = out.logits.shape;
        if (logp && Vm !== V) throw new AttnError(`the decoders of an ensemble must share one vocabulary (${V} and ${Vm} tokens)`);
        V = Vm;
        logp ??= new Float64Array(B * K * V);
        addLogSoftmax(out.logits.data as Float32Array, P, V, B * K, 1 / runs.length, logp);
        // Rows of the step's outputs: the last position of each row.
        if (o.alignment && !alignment) {
          const Pa = out.alignment.shape[1];
          alignment = new Float32Array(B * K * S);
          for (let r = 0; r < B * K; r++) alignment.set(out.alignment.data.subarray((r * Pa + Pa - 1) * S, (r * Pa + Pa) * S) as Float32Array, r * S);
        }
      }
      const nextBeams = beams.map((hyps, b) => {
        if (finished[b]) return hyps;
        const cands: (Omit<Hyp, "row" | "parentRow" | "align"> & { parent: Hyp; grow: boolean })[] = [];
        for (const h of hyps) {
          if (h.done) {
            cands.push({ tokens: h.tokens, logp: h.logp, done: true, parent: h, grow: false });
            continue;
          }
          for (let v = 0; v < V; v++) cands.push({ tokens: [...h.tokens, v], logp: h.logp + logp![h.row * V + v], done: v === eos, parent: h, grow: true });
        }
        cands.sort((x, y) => y.logp - x.logp);
        const next = cands.slice(0, K).map((c, k): Hyp => ({
          tokens: c.tokens,
          logp: c.logp,
          done: c.done,
          row: b * K + k,
          parentRow: c.parent.row,
          align: o.alignment && c.grow ? [...c.parent.align, alignment!.slice(c.parent.row * S, c.parent.row * S + S)] : c.parent.align,
        }));
        const bestDone = next.find((h) => h.done);
        const bestOpen = next.find((h) => !h.done);
        // Scores only fall as a hypothesis grows: once a finished one leads every open one, the row is decided.
        if (!bestOpen || (bestDone && bestDone.logp >= bestOpen.logp)) finished[b] = true;
        return next;
      });
      runs.forEach((run, i) => {
        const ns = nextStates[i];
        if (!ns) return;
        // Each hypothesis continues from its parent's new state.
        const H = ns.shape[1];
        const moved = new Tensor("float32", [B * K, H]);
        for (const hyps of nextBeams) for (const h of hyps) moved.data.set(ns.data.subarray(h.parentRow * H, h.parentRow * H + H), h.row * H);
        run.state = moved;
      });
      beams = nextBeams;
    }
    return beams.map((hyps) => {
      const best = hyps.find((h) => h.done) ?? hyps[0];
      const body = best.tokens.slice(1);
      const end = body.indexOf(eos);
      const tokens = end < 0 ? body : body.slice(0, end);
      return { tokens, logp: best.logp, complete: best.done, ...(o.alignment ? { alignment: best.align.slice(0, tokens.length + (end < 0 ? 0 : 1)) } : {}) };
    });
  }

  dispose(): void {
    for (const m of this.members) {
      m.encoder.dispose();
      m.step.dispose();
    }
  }
}

/**
 * Adds `scale` × log-softmax of the last position of each of `rows` rows of `logits` [rows, P, V] to `acc`
 * [rows, V] (in float64: the mean over an ensemble's members).
 */
function addLogSoftmax(logits: Float32Array, P: number, V: number, rows: number, scale: number, acc: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const off = (r * P + P - 1) * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[off + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[off + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) acc[r * V + v] += scale * (logits[off + v] - lse);
  }
}

/** Repeats each row (axis 0) of `t` `k` times: row r of the result is row ⌊r / k⌋ of `t`. */
function repeatRows(t: Tensor, k: number): Tensor {
  if (k === 1) return t;
  const rowSize = t.data.length / t.shape[0];
  const out = new Tensor(t.dtype, [t.shape[0] * k, ...t.shape.slice(1)]);
  for (let r = 0; r < t.shape[0] * k; r++) out.data.set(t.data.subarray(Math.floor(r / k) * rowSize, (Math.floor(r / k) + 1) * rowSize), r * rowSize);
  return out;
}
