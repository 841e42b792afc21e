#!/usr/bin/env node
// Regenerates data/cmudict/cmudict-0.4.tsv.gz from Debian's festlex-cmu (Festival's CMU lexicon 0.4):
//   apt-get install festlex-cmu && node packages/models/tools/prepare-cmudict.mjs [LEXICON.out]
// Needs `pnpm build` first (it uses the package's own parser from dist).
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { FESTIVAL_CMUDICT_PATH, CMUDICT_PATH, parseFestivalLexicon, lexiconToTsv } from "../dist/index.js";

const src = process.argv[2] ?? FESTIVAL_CMUDICT_PATH;
const entries = parseFestivalLexicon(readFileSync(src, "utf8"), src);
const gz = gzipSync(Buffer.from(lexiconToTsv(entries)), { level: 9 });
writeFileSync(CMUDICT_PATH + ".tmp", gz);
renameSync(CMUDICT_PATH + ".tmp", CMUDICT_PATH);
const prons = entries.reduce((n, e) => n + e.prons.length, 0);
console.log(`${CMUDICT_PATH}: ${entries.length} words, ${prons} pronunciations, ${gz.length} bytes`);
