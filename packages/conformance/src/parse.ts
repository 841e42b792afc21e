import type { ConformanceCase } from "./cases.js";

/**
 * The cases of one fixture file's parsed JSON (one case or an array), checked for a name and a kind.
 * No file system here: Node's `loadCases` and a browser page that fetched the JSON both call it.
 * `source` names the file in errors (`ops/softmax.json`).
 */
export function parseCases(parsed: unknown, source: string): ConformanceCase[] {
  const list = Array.isArray(parsed) ? parsed : [parsed];
  for (const c of list as ConformanceCase[]) {
    if (!c || typeof c.name !== "string" || (c.kind !== "op" && c.kind !== "model")) {
      throw new Error(`${source}: every case needs a "name" and a "kind" of "op" or "model"`);
    }
  }
  return list as ConformanceCase[];
}

/** Sorts cases by name, rejecting two cases with one name. */
export function sortCases(cases: readonly ConformanceCase[]): ConformanceCase[] {
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.name)) throw new Error(`two conformance cases are named "${c.name}"`);
    seen.add(c.name);
  }
  return [...cases].sort((a, b) => (a.name < b.name ? -1 : 1));
}
