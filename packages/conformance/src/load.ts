import { readFile, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { ConformanceCase } from "./cases.js";
import { parseCases, sortCases } from "./parse.js";

/** The fixtures folder shipped with this package. */
export const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** Reads every case under `fixtures/ops` and `fixtures/models` (Node only), sorted by name. */
export async function loadCases(dir: string = FIXTURES_DIR): Promise<ConformanceCase[]> {
  const out: ConformanceCase[] = [];
  for (const sub of ["ops", "models"]) {
    const folder = join(dir, sub);
    const files = (await readdir(folder)).filter((f) => f.endsWith(".json")).sort();
    for (const f of files) out.push(...parseCases(JSON.parse(await readFile(join(folder, f), "utf8")), `${sub}/${f}`));
  }
  return sortCases(out);
}

/** Reads a weights file that a model case names (relative to `fixtures/models`). */
export async function readCaseFile(name: string, dir: string = FIXTURES_DIR): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(dir, "models", name)));
}
