import type { Dim } from "./dim.js";
import { formatShape } from "./dim.js";
import type { DType } from "./dtype.js";

/** The static type of an IR value: element type and (possibly symbolic) shape. */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export function formatType(t: TensorType): string {
  return `${t.dtype}${formatShape(t.shape)}`;
}
