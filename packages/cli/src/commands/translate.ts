import { DEFAULT_G2P, G2PModel, encodeWord, hasPretrained, readWeights, zooModel, type ZooModel } from "@attn/models";
import type { Backend, Tensor } from "@attn/core";
import { CliError, writeFileAtomic } from "../io.js";
import { attentionHeatmapSvg } from "../viz/attention-heatmap.js";
import { gridSvg } from "../viz/grid.js";
import { backendByName } from "./run.js";

export interface TranslateFlags {
  model?: string;
  weights?: string;
  backend: string;
  beam?: number;
  svg?: string;
  json: boolean;
}

/** A zoo model by name, or a clear error naming the models there are. */
export function zooModelNamed(name: string): ZooModel {
  try {
    return zooModel(name);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** Why a model of another task cannot be an ensemble's member. */
export const ENSEMBLE_NEEDS = "an ensemble needs grapheme-to-phoneme models";

/** A G2P zoo model by name, or a clear error; `user` says what needs one. */
export function g2pModel(name: string, user = "attn translate needs a grapheme-to-phoneme model"): ZooModel {
  const m = zooModelNamed(name);
  if (m.task !== "g2p") throw new CliError(`${m.name} is a ${m.task} model; ${user} (g2p-*)`);
  return m;
}

/** Throws a clear error when this install lacks `model`'s pretrained weights. */
function requirePretrained(model: ZooModel): void {
  if (!hasPretrained(model)) throw new CliError(`${model.name} has no pretrained weights in this install (${model.weights}); pass --weights, or train them: pnpm attn zoo train ${model.name} --out DIR`);
}

/** The weights at `path`, or the model's shipped weights; a clear error when neither exists. */
export function pretrainedOr(model: ZooModel, path: string | undefined): Map<string, Tensor> {
  if (!path) requirePretrained(model);
  try {
    return readWeights(path ?? model.weights);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/**
 * A G2P zoo model with its shipped weights (or `weightsPath`), or an ensemble written `a+b`, whose members
 * decode together ({@link G2PModel.ensemble}), each with its shipped weights.
 */
export async function loadG2P(spec: string | undefined, backend: Backend, weightsPath: string | undefined): Promise<G2PModel> {
  const name = spec ?? DEFAULT_G2P;
  const parts = name.split("+");
  const models = parts.map((n) => (parts.length > 1 ? g2pModel(n, ENSEMBLE_NEEDS) : g2pModel(n)));
  if (weightsPath) {
    if (models.length > 1) throw new CliError(`--weights holds one model's weights; the ensemble ${name} loads each member's shipped weights`);
    return G2PModel.load(models[0], backend, pretrainedOr(models[0], weightsPath));
  }
  models.forEach(requirePretrained);
  return G2PModel.loadMembers(models.map((model) => ({ model })), backend);
}

/** The SVG heatmap of one word's attention: phones (and the end) down, letters across. */
export function pronunciationHeatmap(word: string, phones: readonly string[], alignment: readonly Float32Array[], title?: string): string {
  const rows = alignment.length;
  const cols = word.replaceAll("'", "").length;
  const weights = new Float32Array(rows * cols);
  alignment.forEach((r, i) => weights.set(r.subarray(0, cols), i * cols));
  return attentionHeatmapSvg({
    weights, rows, cols,
    rowLabels: [...phones, "</s>"].slice(0, rows),
    colLabels: [...word.toLowerCase().replaceAll("'", "")],
    title: title ?? `${word} → ${phones.join(" ")}`,
    rowAxis: "phones (output)", colAxis: "letters (input)",
  });
}

/** `attn translate WORD...`: pronounces words with a G2P zoo model; `--svg` draws each word's attention. */
export async function translate(words: readonly string[], f: TranslateFlags, out: (s: string) => void): Promise<number> {
  if (!words.length) throw new CliError("attn translate needs at least one word (attn translate tensor attention)");
  // Spelling mistakes are cheaper to report before the model loads.
  for (const w of words) {
    try {
      encodeWord(w);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  const g2p = await loadG2P(f.model, backendByName(f.backend), f.weights);
  try {
    let result;
    try {
      result = await g2p.pronounce(words, { beam: f.beam ?? 1, alignment: Boolean(f.svg) });
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    if (f.json) out(JSON.stringify(result.map((r) => ({ word: r.word, phones: r.phones }))));
    else {
      const w = Math.max(...words.map((x) => x.length));
      for (const r of result) out(`${r.word.padEnd(w)}  ${r.phones.join(" ")}`);
    }
    if (f.svg) {
      await writeFileAtomic(f.svg, gridSvg(result.map((r) => pronunciationHeatmap(r.word, r.phones, r.alignment!)), 3));
      out(`wrote ${f.svg}`);
    }
    return 0;
  } finally {
    g2p.dispose();
  }
}
