import { AttnError, readSafetensors, Tensor, type Backend } from "@attn/core";
import { compileFile, type HyperValues } from "@attn/dsl";
import { readFileSync } from "node:fs";
import { StepDecoder } from "../step-decoder.js";
import { zooModel, type ZooModel } from "../zoo/registry.js";
import type { LexiconEntry } from "./cmudict.js";
import { scoreG2P, type G2PScore } from "./metrics.js";
import { G2P_SPECIAL, decodePhones, encodeWord } from "./vocab.js";

/** A word's predicted pronunciation, with the attention of each output phone over the letters if asked. */
export interface Pronunciation {
  readonly word: string;
  readonly phones: string[];
  /** One row per output phone (and EOS): weights over the word's letters. */
  readonly alignment?: Float32Array[];
}

export interface PronounceOptions {
  /** Beam width (default 1: greedy). */
  readonly beam?: number;
  /** Words per call (default 256). */
  readonly batchSize?: number;
  readonly alignment?: boolean;
}

async function compileNamed(file: string, model: string, hyper: HyperValues) {
  const r = await compileFile(file, { model, hyper });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.graph || errors.length) throw new AttnError(`${file} (${model}): ${errors.map((d) => d.message).join("; ")}`);
  return r.graph;
}

/**
 * The widths of the GRU decode models, read off the weights (the encoder GRU's input-to-hidden matrix is
 * [3·hidden, emb]) so that weights trained at any width load; other models use their files' defaults.
 */
function decodeHyper(weights: ReadonlyMap<string, Tensor>): HyperValues {
  const ih = weights.get("enc.rnn.weight_ih_l0");
  return ih && ih.shape.length === 2 ? { emb: ih.shape[1], hidden: ih.shape[0] / 3 } : {};
}

/**
 * A grapheme-to-phoneme model of the zoo, ready to pronounce words: its encoder and decoder-step graphs
 * (zoo/g2p_decode.attn) on a backend with the training model's weights (the shipped ones by default), or an
 * ensemble of such models ({@link G2PModel.ensemble}).
 */
export class G2PModel {
  private constructor(
    /** The zoo models it decodes with: one, or an ensemble's members. */
    readonly models: readonly ZooModel[],
    private readonly decoder: StepDecoder,
  ) {}

  /** Its name: the zoo model's, or the members' joined by "+" (`g2p-bahdanau+g2p-transformer`). */
  get name(): string {
    return this.models.map((m) => m.name).join("+");
  }

  static async load(model: ZooModel, backend: Backend, weights?: ReadonlyMap<string, Tensor>): Promise<G2PModel> {
    if (model.task !== "g2p" || !model.decode) throw new AttnError(`${model.name} is not a grapheme-to-phoneme model`);
    const w = weights ?? readWeights(model.weights);
    const d = model.decode;
    const hyper = d.encoder === "G2PGruEncoder" ? decodeHyper(w) : {};
    const decoder = await StepDecoder.create(await compileNamed(d.file, d.encoder, hyper), await compileNamed(d.file, d.step, hyper), backend, w, {
      bos: G2P_SPECIAL.bos,
      eos: G2P_SPECIAL.eos,
      ...(d.window !== undefined ? { window: d.window } : {}),
    });
    return new G2PModel([model], decoder);
  }

  /**
   * The zoo model called `name`, or the ensemble `a+b` of several, with their shipped weights (the default:
   * the CLI's and the demo's model).
   */
  static async loadNamed(name: string, backend: Backend): Promise<G2PModel> {
    return G2PModel.loadMembers(name.split("+").map((n) => ({ model: zooModel(n) })), backend);
  }

  /**
   * Several zoo models, each with the given weights (or its shipped ones), as one: the model itself when
   * there is one, else their {@link G2PModel.ensemble}.
   */
  static async loadMembers(members: readonly { model: ZooModel; weights?: ReadonlyMap<string, Tensor> }[], backend: Backend): Promise<G2PModel> {
    if (members.length === 0) throw new AttnError("an ensemble needs at least one model");
    const loaded: G2PModel[] = [];
    try {
      for (const m of members) loaded.push(await G2PModel.load(m.model, backend, m.weights));
    } catch (e) {
      for (const g of loaded) g.dispose();
      throw e;
    }
    return loaded.length === 1 ? loaded[0] : G2PModel.ensemble(loaded);
  }

  /**
   * One model from several loaded ones: each output phone is chosen by the mean of their log-probabilities
   * (attention heatmaps are the first one's). It owns them from now on: disposing it disposes them.
   */
  static ensemble(models: readonly G2PModel[]): G2PModel {
    return new G2PModel(
      models.flatMap((m) => m.models),
      StepDecoder.ensemble(models.map((m) => m.decoder)),
    );
  }

  /** Pronounces `words` (letters a–z; case folded, apostrophes dropped). */
  async pronounce(words: readonly string[], o: PronounceOptions = {}): Promise<Pronunciation[]> {
    const bs = o.batchSize ?? 256;
    // Each batch holds words of one length: the GRU encoders read every position, padding included (their
    // backward direction would start on it), so a word's pronunciation must not depend on its neighbours.
    const order = words.map((w, i) => ({ i, src: encodeWord(w) })).sort((a, b) => a.src.length - b.src.length);
    const batches: (typeof order)[] = [];
    for (const c of order) {
      const last = batches.at(-1);
      if (last && last.length < bs && last[0].src.length === c.src.length) last.push(c);
      else batches.push([c]);
    }
    const result = new Array<Pronunciation>(words.length);
    for (const chunk of batches) {
      const S = chunk[0].src.length;
      const src = new Tensor("int32", [chunk.length, S]);
      chunk.forEach((c, b) => src.data.set(c.src, b * S));
      const decoded = await this.decoder.decode(src, { beam: o.beam ?? 1, ...(o.alignment ? { alignment: true } : {}) });
      chunk.forEach((c, b) => {
        const d = decoded[b];
        result[c.i] = { word: words[c.i], phones: decodePhones(d.tokens), ...(d.alignment ? { alignment: d.alignment.map((row) => row.slice(0, c.src.length)) } : {}) };
      });
    }
    return result;
  }

  /** WER/PER on dictionary entries, with every prediction. */
  async evaluate(entries: readonly LexiconEntry[], o: PronounceOptions = {}): Promise<G2PScore & { predictions: string[][] }> {
    const predictions = (await this.pronounce(entries.map((e) => e.word), o)).map((p) => p.phones);
    return { ...scoreG2P(entries.map((e, i) => ({ prediction: predictions[i], references: e.prons }))), predictions };
  }

  dispose(): void {
    this.decoder.dispose();
  }
}

/** Reads a safetensors weights file, naming it in errors. */
export function readWeights(path: string): Map<string, Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new AttnError(`cannot read weights ${path}: ${(e as Error).message}`);
  }
  return readSafetensors(bytes, path).tensors;
}
