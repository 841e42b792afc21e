/**
 * @attn/models: the model zoo. For now, the example `.attn` files: one per attention mechanism and a few
 * complete models (translation, classification, images).
 * @packageDocumentation
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** Folder holding the example `.attn` files. */
export const EXAMPLES_DIR = fileURLToPath(new URL("../examples/", import.meta.url));

export interface Example {
  /** File name without `.attn`. */
  readonly name: string;
  readonly path: string;
  /** The first comment line of the file. */
  readonly description: string;
}

/** Every example model, sorted by name. */
export function listExamples(): Example[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith(".attn"))
    .sort()
    .map((f) => {
      const path = join(EXAMPLES_DIR, f);
      const first = readFileSync(path, "utf8").split("\n").find((l) => l.startsWith("#")) ?? "";
      return { name: f.slice(0, -5), path, description: first.replace(/^#\s*/, "") };
    });
}

export { exampleInputs } from "./example-inputs.js";
export { greedyDecode, type GreedyOptions } from "./greedy.js";
export { reverseDigitExamples, reverseDigitsJsonl, encodeDigits, padBatch, antiDiagonalShare, peakCorrelation, REVERSE_TOKENS, type ReverseExample } from "./tasks/reverse-digits.js";
export { evaluateReversal, type ReversalReport } from "./reverse-eval.js";
export { parseFestivalLexicon, lexiconToTsv, lexiconFromTsv, loadCmudict, fnv1a32, splitOf, cmudictSplits, CMUDICT_PATH, FESTIVAL_CMUDICT_PATH, FESTIVAL_LTS_TEST_PATH, G2P_WORD, type LexiconEntry, type Split } from "./g2p/cmudict.js";
export { G2P_SPECIAL, G2P_LETTERS, G2P_PHONES, G2P_SRC_VOCAB, G2P_TGT_VOCAB, encodeWord, encodePhones, decodePhones } from "./g2p/vocab.js";
export { editDistance, scoreG2P, type G2PScore } from "./g2p/metrics.js";
export { festivalTestOutput, scoreFestival } from "./g2p/festival.js";
export { g2pExamples, G2PDataset, bucketedBatches, type G2PExample } from "./g2p/dataset.js";
export { parseIdx, type IdxArray } from "./fashion/idx.js";
export { loadFashionMnist, fashionImages, FashionDataset, FASHION_CLASSES, FASHION_MEAN, FASHION_STD, FASHION_MNIST_DEBIAN_DIR, FASHION_MNIST_SLICE_DIR, type FashionMnist } from "./fashion/fashion-mnist.js";
export { DEFAULT_FASHION, DEFAULT_G2P, ZOO, zooModel, hasPretrained, shippedCard, type ZooModel, type ZooTask } from "./zoo/registry.js";
export { trainZooModel, compileZooModel, parameterCount, type ZooTrainOptions, type ZooTrainResult, type EpochRecord } from "./zoo/train.js";
export { evaluateFashion, classifyFashion } from "./zoo/evaluate.js";
export { G2PModel, readWeights, type Pronunciation, type PronounceOptions } from "./g2p/g2p-model.js";
export { modelCard, ensembleCard, machineSummary, type CardMetrics, type ZooRunSummary, type EnsembleSummary } from "./zoo/model-card.js";
export { StepDecoder, type StepDecoderOptions, type DecodeOptions, type Decoded } from "./step-decoder.js";
