import { attr } from "./attrs.js";
import { defineOp, type OpDef } from "./op.js";
import type { AttrSchema } from "./attrs.js";
import { broadcastShapes } from "./broadcast.js";
import type { DType } from "../dtype.js";

/** Float unary math ops: same shape in and out. */
export const UNARY_FLOAT_OPS = ["relu", "tanh", "sigmoid", "exp", "log", "neg", "sqrt", "abs", "silu"] as const;

function unary(name: string, summary: string): OpDef {
  return defineOp({
    name,
    summary,
    inputs: [{ name: "x" }],
    attrs: {},
    infer: (_ctx, [x]) => [{ dtype: "float32", shape: x!.shape }],
  });
}

export const unaryOps: OpDef<AttrSchema>[] = [
  ...UNARY_FLOAT_OPS.map((n) => unary(n, `elementwise ${n}`)),
  defineOp({
    name: "gelu",
    summary: "GELU; exact (erf) by default, as PyTorch",
    inputs: [{ name: "x" }],
    attrs: { approximate: attr.oneOf("erf or tanh approximation", ["none", "tanh"] as const, "none") },
    infer: (_ctx, [x]) => [{ dtype: "float32", shape: x!.shape }],
  }),
  defineOp({
    name: "identity",
    summary: "returns its input",
    inputs: [{ name: "x", dtypes: ["float32", "int32", "bool"] }],
    attrs: {},
    infer: (_ctx, [x]) => [x!],
  }),
  defineOp({
    name: "dropout",
    summary: "zeroes elements with probability p while training; identity at inference",
    inputs: [{ name: "x" }],
    attrs: { p: attr.float("drop probability in [0, 1)", 0.5) },
    infer: (ctx, [x], { p }) => {
      if (p < 0 || p >= 1) ctx.fail(`p must be in [0, 1), got ${p}`);
      return [x!];
    },
  }),
  defineOp({
    name: "logical_not",
    summary: "boolean not",
    inputs: [{ name: "x", dtypes: ["bool"] }],
    attrs: {},
    infer: (_ctx, [x]) => [x!],
  }),
  defineOp({
    name: "cast",
    summary: "converts the element type (bool → 0/1, float → int truncates toward zero)",
    inputs: [{ name: "x", dtypes: ["float32", "int32", "bool"] }],
    attrs: { to: attr.dtype("target dtype") },
    infer: (_ctx, [x], { to }) => [{ dtype: to, shape: x!.shape }],
  }),
];

/** Arithmetic with broadcasting: both float32 or both int32. */
export const ARITH_OPS = ["add", "sub", "mul", "div", "maximum", "minimum"] as const;
/** Comparisons with broadcasting, giving bool. */
export const COMPARE_OPS = ["equal", "not_equal", "less", "greater"] as const;
export const LOGICAL_OPS = ["logical_and", "logical_or"] as const;

function binary(name: string, inTypes: DType[], out: "same" | DType): OpDef {
  return defineOp({
    name,
    summary: `elementwise ${name} with broadcasting`,
    inputs: [
      { name: "a", dtypes: inTypes },
      { name: "b", dtypes: inTypes },
    ],
    attrs: {},
    infer: (ctx, [a, b]) => {
      if (a!.dtype !== b!.dtype) ctx.fail(`operands must have the same dtype, got ${a!.dtype} and ${b!.dtype}`);
      return [{ dtype: out === "same" ? a!.dtype : out, shape: broadcastShapes(ctx, a!.shape, b!.shape) }];
    },
  });
}

export const binaryOps: OpDef<AttrSchema>[] = [
  ...ARITH_OPS.map((n) => binary(n, ["float32", "int32"], "same")),
  ...COMPARE_OPS.map((n) => binary(n, ["float32", "int32", "bool"], "bool")),
  ...LOGICAL_OPS.map((n) => binary(n, ["bool"], "bool")),
];
