import type { AttrValue, Attrs } from "../ir/graph.js";
import { isGraph } from "../ir/graph.js";
import { isDType } from "../dtype.js";
import { GraphError } from "../errors.js";

/**
 * Attribute schemas. Each op declares its attributes once; `normalize` checks types, fills defaults and
 * rejects unknown names, so kernels and exporters read attributes without re-validating them.
 */
export interface AttrSpec<T> {
  readonly doc: string;
  /** Holds dims (possibly symbolic text) that must be resolved with the graph's symbol bindings. */
  readonly dims?: boolean;
  /** Returns the checked value, or a string saying what was expected. */
  check(v: AttrValue | undefined): T | { error: string };
}

type Result<T> = T | { error: string };
const bad = (error: string): { error: string } => ({ error });
const isErr = (x: unknown): x is { error: string } =>
  typeof x === "object" && x !== null && !Array.isArray(x) && Object.keys(x).length === 1 && "error" in x;

function spec<T>(doc: string, dflt: T | undefined, fn: (v: AttrValue) => Result<T>): AttrSpec<T> {
  return {
    doc,
    check(v) {
      if (v === undefined) return dflt === undefined ? bad("is required") : dflt;
      return fn(v);
    },
  };
}

const isInt = (v: AttrValue): v is number => typeof v === "number" && Number.isInteger(v);
const isDimValue = (v: AttrValue): v is number | string => isInt(v) || (typeof v === "string" && v.length > 0);

export const attr = {
  int: (doc: string, dflt?: number) => spec<number>(doc, dflt, (v) => (isInt(v) ? v : bad("must be an integer"))),
  float: (doc: string, dflt?: number) =>
    spec<number>(doc, dflt, (v) => (typeof v === "number" && Number.isFinite(v) ? v : bad("must be a finite number"))),
  bool: (doc: string, dflt?: boolean) => spec<boolean>(doc, dflt, (v) => (typeof v === "boolean" ? v : bad("must be true or false"))),
  ints: (doc: string, dflt?: number[]) =>
    spec<number[]>(doc, dflt, (v) => (Array.isArray(v) && v.every(isInt) ? (v as number[]) : bad("must be a list of integers"))),
  /** Dims may be symbolic text (`"B"`, `"2*S"`) evaluated at run time. */
  dims: (doc: string, dflt?: (number | string)[]): AttrSpec<(number | string)[]> => ({
    ...spec<(number | string)[]>(doc, dflt, (v) =>
      Array.isArray(v) && v.every(isDimValue) ? (v as (number | string)[]) : bad("must be a list of dimensions"),
    ),
    dims: true,
  }),
  oneOf: <S extends string>(doc: string, options: readonly S[], dflt?: S) =>
    spec<S>(doc, dflt, (v) => (typeof v === "string" && (options as readonly string[]).includes(v) ? (v as S) : bad(`must be one of ${options.map((o) => `"${o}"`).join(", ")}`))),
  dtype: (doc: string) => spec(doc, undefined, (v) => (isDType(v) ? v : bad("must be a dtype (float32, int32, bool)"))),
  optionalInt: (doc: string) =>
    spec<number | null>(doc, null, (v) => (v === null || isInt(v) ? v : bad("must be an integer or null"))),
  graph: (doc: string) => spec(doc, undefined, (v) => (isGraph(v) ? v : bad("must be a graph"))),
  json: <T>(doc: string, dflt?: T) => spec<T>(doc, dflt, (v) => v as unknown as T),
};

export type AttrSchema = Readonly<Record<string, AttrSpec<unknown>>>;
export type AttrsOf<S extends AttrSchema> = { readonly [K in keyof S]: S[K] extends AttrSpec<infer T> ? T : never };

/** Checks `raw` against `schema`; throws a GraphError naming the op and attribute. */
export function normalizeAttrs<S extends AttrSchema>(op: string, schema: S, raw: Attrs): AttrsOf<S> {
  for (const k of Object.keys(raw)) {
    if (!(k in schema)) {
      const known = Object.keys(schema);
      throw new GraphError(`${op} has no attribute "${k}"${known.length ? ` (it has ${known.join(", ")})` : ""}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema)) {
    const r = s.check(raw[k]);
    if (isErr(r)) throw new GraphError(`attribute "${k}" of ${op} ${r.error}, got ${JSON.stringify(raw[k]) ?? "nothing"}`);
    out[k] = r;
  }
  return out as AttrsOf<S>;
}
