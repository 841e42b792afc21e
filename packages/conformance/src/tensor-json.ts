import { Tensor, isDType, ShapeError } from "@attn/core";

/** A tensor as the fixtures store it: flat row-major data, non-finite floats as "inf" / "-inf" / "nan". */
export interface TensorJson {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: readonly (number | string)[];
}

const SPECIAL: Record<string, number> = { inf: Infinity, "-inf": -Infinity, nan: NaN };

/** Decodes a fixture tensor; `name` is used in errors. */
export function decodeTensor(t: TensorJson, name: string): Tensor {
  if (!isDType(t.dtype)) throw new ShapeError(`${name}: unknown dtype ${JSON.stringify(t.dtype)}`);
  const values = t.data.map((v, i) => {
    if (typeof v === "number") return v;
    if (v in SPECIAL) return SPECIAL[v];
    throw new ShapeError(`${name}: element ${i} is ${JSON.stringify(v)}, not a number`);
  });
  return Tensor.from(values, { dtype: t.dtype, shape: t.shape, name });
}
