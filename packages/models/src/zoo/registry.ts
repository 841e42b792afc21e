import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AttnError } from "@attn/core";

/** The two tasks of the zoo: spelling → pronunciation, and clothing images → class. */
export type ZooTask = "g2p" | "fashion";

/** One model of the zoo: its `.attn` file (which holds its training settings) and where its weights ship. */
export interface ZooModel {
  /** Name used on the command line, e.g. `g2p-luong`. */
  readonly name: string;
  readonly task: ZooTask;
  /** One line: the mechanism. */
  readonly title: string;
  /** The `.attn` file; its `train { }` section says how the model trains. */
  readonly file: string;
  /** Where the pretrained weights are (or would be) shipped, safetensors. */
  readonly weights: string;
  /** The model card next to the weights. */
  readonly card: string;
  /** G2P models: the encoder and step models (in `zoo/g2p_decode.attn`) that decode with the same weights. */
  readonly decode?: { readonly file: string; readonly encoder: string; readonly step: string; readonly window?: number };
}

const ZOO_DIR = new URL("../../zoo/", import.meta.url);
const WEIGHTS_DIR = new URL("../../weights/", import.meta.url);

function entry(name: string, task: ZooTask, title: string, file: string, decode?: { encoder: string; step: string; window?: number }): ZooModel {
  return {
    name,
    task,
    title,
    ...(decode ? { decode: { file: fileURLToPath(new URL("g2p_decode.attn", ZOO_DIR)), ...decode } } : {}),
    file: fileURLToPath(new URL(file, ZOO_DIR)),
    weights: fileURLToPath(new URL(`${name}.safetensors`, WEIGHTS_DIR)),
    card: fileURLToPath(new URL(`${name}.md`, WEIGHTS_DIR)),
  };
}

/** Every zoo model. */
export const ZOO: readonly ZooModel[] = [
  entry("g2p-bahdanau", "g2p", "GRU encoder–decoder, Bahdanau (additive) attention", "g2p_bahdanau.attn", { encoder: "G2PGruEncoder", step: "G2PBahdanauStep" }),
  entry("g2p-luong", "g2p", "GRU encoder–decoder, Luong global attention (general)", "g2p_luong.attn", { encoder: "G2PGruEncoder", step: "G2PLuongStep" }),
  entry("g2p-luong-local", "g2p", "GRU encoder–decoder, Luong local attention (general, window ±3)", "g2p_luong_local.attn", { encoder: "G2PGruEncoder", step: "G2PLuongStep", window: 3 }),
  entry("g2p-transformer", "g2p", "transformer encoder–decoder (3 + 3 layers, 4 heads)", "g2p_transformer.attn", { encoder: "G2PTransformerEncoder", step: "G2PTransformerStep" }),
  entry("fashion-attention-pool", "fashion", "conv stem + spatial attention pooling", "fashion_attention_pool.attn"),
  entry("fashion-hard-attention", "fashion", "conv stem + top-k hard attention over 7×7 cells", "fashion_hard_attention.attn"),
  entry("fashion-vit", "fashion", "vision transformer over 4×4 patches, attention pooling", "fashion_vit.attn"),
];

/**
 * The G2P model the CLI and the demo use: the best of the comparison in docs/zoo.md, an ensemble of two
 * shipped models (`a+b`: each phone by the mean of their log-probabilities, see `G2PModel.ensemble`).
 */
export const DEFAULT_G2P = "g2p-bahdanau+g2p-transformer";

/** The Fashion-MNIST classifier `attn predict` uses unless told otherwise. */
export const DEFAULT_FASHION = "fashion-attention-pool";

/** The model called `name`; throws naming the models there are. */
export function zooModel(name: string): ZooModel {
  const m = ZOO.find((z) => z.name === name);
  if (!m) throw new AttnError(`no zoo model "${name}"; the zoo has ${ZOO.map((z) => z.name).join(", ")}`);
  return m;
}

/** Whether the package ships pretrained weights for `model`. */
export function hasPretrained(model: ZooModel): boolean {
  return existsSync(model.weights);
}

/**
 * Where the card (`.md`) and the summary (`.json`, the card's figures as data) of a zoo model or of an
 * ensemble `a+b` ship, beside the weights; `attn zoo train` writes both.
 */
export function shippedCard(name: string): { readonly card: string; readonly summary: string } {
  return { card: fileURLToPath(new URL(`${name}.md`, WEIGHTS_DIR)), summary: fileURLToPath(new URL(`${name}.json`, WEIGHTS_DIR)) };
}
