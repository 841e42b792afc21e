import { ShapeError } from "../errors.js";
import type { DType } from "../dtype.js";
import { Tensor, sizeOf } from "../tensor.js";
import type { Dataset } from "./dataset.js";

type Nested = number | boolean | Nested[];

/**
 * The fields an example must have: dtype and rank (without the batch axis), and optionally the sizes an
 * axis must have (null where it may vary between examples, e.g. sequence length).
 */
export type ExampleSchema = Readonly<Record<string, { readonly dtype: DType; readonly rank: number; readonly shape?: readonly (number | null)[] }>>;

function shapeOf(v: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

/**
 * A dataset held in memory, read from JSON Lines: one example per line, an object mapping each field (the
 * model's inputs and the loss target) to a nested array without the batch axis. A batch stacks its
 * examples on a new axis 0, zero-padding any axis whose length varies (variable-length sequences; pad with
 * the padding id 0 and mask it in the model).
 */
export class JsonlDataset implements Dataset {
  private constructor(
    private readonly examples: readonly Readonly<Record<string, Tensor>>[],
    readonly schema: ExampleSchema,
  ) {}

  get size(): number {
    return this.examples.length;
  }

  /** Parses JSONL text; `source` names it in errors (`data.jsonl:12: field "x" ...`). */
  static parse(text: string, schema: ExampleSchema, source = "data"): JsonlDataset {
    const examples: Record<string, Tensor>[] = [];
    const lines = text.split("\n");
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (!line) return;
      const where = `${source}:${i + 1}`;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new ShapeError(`${where}: not valid JSON (${(e as Error).message})`);
      }
      if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new ShapeError(`${where}: expected an object of fields`);
      const ex: Record<string, Tensor> = {};
      for (const [name, spec] of Object.entries(schema)) {
        const v = (obj as Record<string, Nested>)[name];
        if (v === undefined) throw new ShapeError(`${where}: missing field "${name}" (fields needed: ${Object.keys(schema).join(", ")})`);
        const t = Tensor.from(v, { dtype: spec.dtype, name: `${where}: field "${name}"` });
        if (t.rank !== spec.rank) {
          throw new ShapeError(`${where}: field "${name}" must have rank ${spec.rank} (without the batch axis), got shape [${shapeOf(v).join(", ")}]`);
        }
        spec.shape?.forEach((d, k) => {
          if (d !== null && t.shape[k] !== d) {
            throw new ShapeError(`${where}: field "${name}" must have size ${d} on axis ${k} (shape [${spec.shape!.map((x) => x ?? "*").join(", ")}]), got [${t.shape.join(", ")}]`);
          }
        });
        ex[name] = t;
      }
      for (const k of Object.keys(obj)) if (!(k in schema)) throw new ShapeError(`${where}: unknown field "${k}" (fields: ${Object.keys(schema).join(", ")})`);
      examples.push(ex);
    });
    if (examples.length === 0) throw new ShapeError(`${source}: no examples`);
    return new JsonlDataset(examples, schema);
  }

  /** A dataset from in-memory examples (same rules as JSONL). */
  static fromExamples(examples: readonly Readonly<Record<string, Tensor>>[], schema: ExampleSchema): JsonlDataset {
    return new JsonlDataset(examples, schema);
  }

  batch(indices: readonly number[]): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, spec] of Object.entries(this.schema)) out[name] = stack(indices.map((i) => this.examples[i][name]), spec.dtype);
    return out;
  }
}

/** Stacks tensors of equal rank on a new axis 0, zero-padding each axis to the largest length. */
export function stack(items: readonly Tensor[], dtype: DType): Tensor {
  const rank = items[0].rank;
  const shape = Array.from({ length: rank }, (_, k) => Math.max(...items.map((t) => t.shape[k])));
  const out = new Tensor(dtype, [items.length, ...shape]);
  const inner = sizeOf(shape);
  items.forEach((t, b) => {
    if (t.shape.every((d, k) => d === shape[k])) {
      out.data.set(t.data, b * inner);
      return;
    }
    // Copy row-major with padding: walk the source index and map it to the padded layout.
    const idx = new Array<number>(rank).fill(0);
    for (let s = 0; s < t.size; s++) {
      let off = 0;
      for (let k = 0; k < rank; k++) off = off * shape[k] + idx[k];
      out.data[b * inner + off] = t.data[s];
      for (let k = rank - 1; k >= 0; k--) {
        if (++idx[k] < t.shape[k]) break;
        idx[k] = 0;
      }
    }
  });
  return out;
}
