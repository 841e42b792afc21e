import { readFileSync } from "node:fs";
import { AttnError } from "@attn/core";
import { FESTIVAL_LTS_TEST_PATH, lexiconFromTsv, type LexiconEntry } from "./cmudict.js";
import { scoreG2P, type G2PScore } from "./metrics.js";

let cached: Map<string, string[]> | undefined;

/** Festival's letter-to-sound pronunciation of every test word (committed output of tools/festival-g2p.mjs). */
export function festivalTestOutput(): Map<string, string[]> {
  cached ??= new Map(lexiconFromTsv(readFileSync(FESTIVAL_LTS_TEST_PATH, "utf8"), FESTIVAL_LTS_TEST_PATH).map((e) => [e.word, [...e.prons[0]]]));
  return cached;
}

/** WER/PER of Festival's letter-to-sound rules on `entries`, which must be test-split words. */
export function scoreFestival(entries: readonly LexiconEntry[]): G2PScore {
  const out = festivalTestOutput();
  return scoreG2P(
    entries.map((e) => {
      const prediction = out.get(e.word);
      if (!prediction) throw new AttnError(`Festival's output has no "${e.word}": only the test split's words were run (tools/festival-g2p.mjs)`);
      return { prediction, references: e.prons };
    }),
  );
}
