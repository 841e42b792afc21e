#!/usr/bin/env node
// Runs Festival's letter-to-sound rules for the CMU lexicon (Debian `festival` + `festlex-cmu`) on every word
// of the G2P test split and writes data/cmudict/festival-lts-test.tsv (`word<TAB>phones`), the peer's output
// that `scoreFestival` (src/g2p/festival.ts) scores. Needs `pnpm build` first.
//   apt-get install festival festlex-cmu && node packages/models/tools/festival-g2p.mjs
import { execFileSync } from "node:child_process";
import { writeFileSync, renameSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cmudictSplits, FESTIVAL_LTS_TEST_PATH, parseFestivalLexicon } from "../dist/index.js";

const words = cmudictSplits().test.map((e) => e.word);
function run(list) {
  const dir = mkdtempSync(join(tmpdir(), "attn-festival-"));
  const script = join(dir, "lts.scm");
  writeFileSync(script, `(lex.select "cmu")\n` + list.map((w) => `(print (cmu_lts_function "${w}" nil))`).join("\n") + "\n");
  // The default heap is ~40x slower on this many calls.
  const out = execFileSync("festival", ["--heap", "1000000", "-b", script], { encoding: "utf8", maxBuffer: 1 << 28 });
  rmSync(dir, { recursive: true });
  const lines = out.split("\n").filter((l) => l.startsWith("("));
  if (lines.length !== list.length) throw new Error(`festival printed ${lines.length} entries for ${list.length} words`);
  return lines.map((l) => (/ nil nil\)$/.test(l) ? [] : parseFestivalLexicon(l.replace(/^\("[^"]*"/, '("x"'))[0].prons[0]));
}
const t0 = performance.now();
const first = run(words);
const tsv = words.map((w, i) => `${w}\t${first[i].join(" ")}`).join("\n") + "\n";
writeFileSync(FESTIVAL_LTS_TEST_PATH + ".tmp", tsv);
renameSync(FESTIVAL_LTS_TEST_PATH + ".tmp", FESTIVAL_LTS_TEST_PATH);
const empty = first.filter((p) => p.length === 0).length;
console.log(`${FESTIVAL_LTS_TEST_PATH}: ${words.length} words (${empty} without output) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
