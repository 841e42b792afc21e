import { readFile, rename, writeFile, unlink } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";
import { Tensor, readSafetensors, isDType, type Graph, type DType, AttnError } from "@attn/core";

/** A user-facing failure: printed as one message, exit code 1. */
export class CliError extends Error {}

/** Reads a file or fails with a message naming it (no stack traces for a missing file). */
export async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === "ENOENT" ? `${what} ${path} does not exist` : code === "EISDIR" ? `${what} ${path} is a directory` : `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** Writes through a temporary file in the same folder and renames it, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export async function loadWeights(path: string): Promise<Map<string, Tensor>> {
  return readSafetensors(new Uint8Array(await readInput(path, "weights file")), path).tensors;
}

type Nested = number | boolean | Nested[];

/**
 * Reads inputs from JSON: `{ "name": nested arrays }` (dtype taken from the model's declaration) or
 * `{ "name": { "dtype", "shape", "data" } }`.
 */
export async function loadInputs(path: string, graph: Graph): Promise<Record<string, Tensor>> {
  const text = (await readInput(path, "inputs file")).toString("utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new CliError(`${path}: expected an object mapping input names to tensors`);
  const declared = new Map(graph.inputs.map((id) => [graph.values[id].name, graph.values[id].type.dtype]));
  const out: Record<string, Tensor> = {};
  for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
    const where = `${path}: input "${name}"`;
    const dtype: DType = declared.get(name) ?? "float32";
    try {
      if (v && typeof v === "object" && !Array.isArray(v)) {
        const t = v as { dtype?: unknown; shape?: unknown; data?: unknown };
        if (t.dtype !== undefined && !isDType(t.dtype)) throw new CliError(`${where}: unknown dtype ${JSON.stringify(t.dtype)}`);
        if (!Array.isArray(t.data)) throw new CliError(`${where}: expected "data" to be an array`);
        out[name] = Tensor.from(t.data as Nested[], { dtype: (t.dtype as DType) ?? dtype, shape: t.shape as number[] | undefined, name: where });
      } else {
        out[name] = Tensor.from(v as Nested, { dtype, name: where });
      }
    } catch (e) {
      if (e instanceof AttnError || e instanceof CliError) throw new CliError(e.message);
      throw e;
    }
  }
  return out;
}

/** Parses `--set name=value` overrides of hyperparameters. */
export function parseOverrides(sets: readonly string[] | undefined): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const s of sets ?? []) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new CliError(`--set expects name=value, got "${s}"`);
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    out[key] = raw === "true" ? true : raw === "false" ? false : raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}
