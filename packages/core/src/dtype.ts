/** Element types. Compute is float32, indices int32, masks bool (stored one byte per element). */
export type DType = "float32" | "int32" | "bool";

/** The typed array that stores each dtype. */
export type TypedArrayFor<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "int32"
    ? Int32Array
    : Uint8Array;

export type AnyTypedArray = Float32Array | Int32Array | Uint8Array;

/** All dtypes, in a stable order (for messages and schema checks). */
export const DTYPES: readonly DType[] = ["float32", "int32", "bool"];

export function isDType(x: unknown): x is DType {
  return typeof x === "string" && (DTYPES as readonly string[]).includes(x);
}

/** Allocates a zero-filled array for `dtype`. */
export function allocArray(dtype: DType, size: number): AnyTypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "int32":
      return new Int32Array(size);
    case "bool":
      return new Uint8Array(size);
  }
}
