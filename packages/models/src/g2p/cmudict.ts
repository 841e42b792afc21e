import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { AttnError } from "@attn/core";

/** One dictionary word with every pronunciation it has (phones without stress, Festival's CMU phone set). */
export interface LexiconEntry {
  readonly word: string;
  readonly prons: readonly (readonly string[])[];
}

/** The processed CMU dictionary 0.4 that ships with this package (gzipped TSV: `word<TAB>phones`). */
export const CMUDICT_PATH = fileURLToPath(new URL("../../data/cmudict/cmudict-0.4.tsv.gz", import.meta.url));

/** Festival's letter-to-sound output for every test word (`word<TAB>phones`), from `tools/festival-g2p.mjs`. */
export const FESTIVAL_LTS_TEST_PATH = fileURLToPath(new URL("../../data/cmudict/festival-lts-test.tsv", import.meta.url));

/** Where Debian's `festlex-cmu` installs the dictionary in Festival's lexicon format. */
export const FESTIVAL_CMUDICT_PATH = "/usr/share/festival/dicts/cmu/cmudict-0.4.out";

/** Words the G2P task keeps: lower-case letters and apostrophes (drops 126 capitalised entries such as `AWOL`). */
export const G2P_WORD = /^[a-z']+$/;

/**
 * Parses a Festival compiled lexicon (`("word" pos (((ph ph) stress) ...))` per line, a `MNCL` header) into
 * entries with stress dropped. Entries for the same word (different parts of speech) merge; identical
 * pronunciations count once. Lines for words outside {@link G2P_WORD} are skipped.
 */
export function parseFestivalLexicon(text: string, source = "lexicon"): LexiconEntry[] {
  const byWord = new Map<string, string[][]>();
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line === "MNCL") return;
    const m = /^\("((?:[^"\\]|\\.)*)"\s+(\S+)\s+\((.*)\)\)$/.exec(line);
    if (!m) throw new AttnError(`${source}:${i + 1}: not a Festival lexicon entry: ${line.slice(0, 60)}`);
    const word = m[1];
    if (!G2P_WORD.test(word)) return;
    // Syllables look like ((ph ph) stress); keep the phones in order.
    const phones: string[] = [];
    for (const syl of m[3].matchAll(/\(\(([^()]*)\)\s*\d\)/g)) phones.push(...syl[1].trim().split(/\s+/).filter(Boolean));
    if (!phones.length) throw new AttnError(`${source}:${i + 1}: entry "${word}" has no phones`);
    const prons = byWord.get(word) ?? [];
    if (!prons.some((p) => p.join(" ") === phones.join(" "))) prons.push(phones);
    byWord.set(word, prons);
  });
  return [...byWord].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([word, prons]) => ({ word, prons }));
}

/** The entries as TSV, one line per pronunciation: `word<TAB>ph ph ph`. */
export function lexiconToTsv(entries: readonly LexiconEntry[]): string {
  return entries.flatMap((e) => e.prons.map((p) => `${e.word}\t${p.join(" ")}`)).join("\n") + "\n";
}

/** Reads TSV lines written by {@link lexiconToTsv}. */
export function lexiconFromTsv(text: string, source = "lexicon.tsv"): LexiconEntry[] {
  const out: { word: string; prons: string[][] }[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line) return;
    const tab = line.indexOf("\t");
    const word = line.slice(0, tab);
    const phones = line.slice(tab + 1).split(" ").filter(Boolean);
    if (tab <= 0 || !G2P_WORD.test(word) || !phones.length) throw new AttnError(`${source}:${i + 1}: expected "word<TAB>phones", got "${line.slice(0, 60)}"`);
    const last = out[out.length - 1];
    if (last?.word === word) last.prons.push(phones);
    else out.push({ word, prons: [phones] });
  });
  return out;
}

let cached: LexiconEntry[] | undefined;

/** The CMU dictionary 0.4 shipped with this package (about 105.7k words), sorted by word. */
export function loadCmudict(path = CMUDICT_PATH): LexiconEntry[] {
  if (path === CMUDICT_PATH && cached) return cached;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new AttnError(`cannot read the CMU dictionary at ${path}: ${(e as Error).message}`);
  }
  const text = path.endsWith(".gz") ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8");
  const entries = text.startsWith("MNCL") ? parseFestivalLexicon(text, path) : lexiconFromTsv(text, path);
  if (path === CMUDICT_PATH) cached = entries;
  return entries;
}

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export type Split = "train" | "valid" | "test";

/** The split a word belongs to: bucket = FNV-1a-32(word) mod 100; test < 5, valid 5–9, train the rest. */
export function splitOf(word: string): Split {
  const bucket = fnv1a32(word) % 100;
  return bucket < 5 ? "test" : bucket < 10 ? "valid" : "train";
}

/** The dictionary split by word. */
export function cmudictSplits(entries: readonly LexiconEntry[] = loadCmudict()): Record<Split, LexiconEntry[]> {
  const out: Record<Split, LexiconEntry[]> = { train: [], valid: [], test: [] };
  for (const e of entries) out[splitOf(e.word)].push(e);
  return out;
}
