import { attr } from "./attrs.js";
import { defineOp } from "./op.js";
import { isDType, type DType } from "../dtype.js";
import { sizeOf } from "../tensor.js";

/** JSON form of a constant tensor attribute. */
export interface ConstantValue {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

export const constantOp = defineOp({
  name: "constant",
  summary: "a tensor literal",
  inputs: [],
  attrs: { value: attr.json<ConstantValue>("{ dtype, shape, data } with concrete shape") },
  infer: (ctx, _inputs, { value }) => {
    if (!value || !isDType(value.dtype) || !Array.isArray(value.shape) || !Array.isArray(value.data)) {
      ctx.fail("value must be { dtype, shape, data }");
    }
    if (sizeOf(value.shape) !== value.data.length) {
      ctx.fail(`value of shape [${value.shape.join(", ")}] needs ${sizeOf(value.shape)} elements, got ${value.data.length}`);
    }
    return [{ dtype: value.dtype, shape: value.shape }];
  },
});
