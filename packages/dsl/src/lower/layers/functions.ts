import { UNARY_FLOAT_OPS } from "@attn/core";
import type { Emitter } from "./nn.js";

const unary = (op: string): Emitter => (ctx, a) => [ctx.add1(op, [a.tensor("x")])];
const axisOp = (op: string): Emitter => (ctx, a) => [ctx.add1(op, [a.tensor("x")], { axis: a.int("axis") })];
const reduce = (op: string): Emitter => (ctx, a) => [ctx.add1(op, [a.tensor("x")], { axes: a.ints("axis"), keepdims: a.bool("keepdims") })];
const pool = (op: string): Emitter => (ctx, a) => {
  const kernel = a.pair("kernel");
  return [ctx.add1(op, [a.tensor("x")], { kernel, stride: a.has("stride") ? a.pair("stride") : kernel, padding: a.pair("padding") })];
};

/** Functions without parameters, by the name the language uses (see layers/catalogue.ts). */
export const FUNCTIONS: Record<string, Emitter> = {
  ...Object.fromEntries(UNARY_FLOAT_OPS.filter((op) => op !== "neg").map((op) => [op, unary(op)])),
  dropout: (ctx, a) => [ctx.add1("dropout", [a.tensor("x")], { p: a.float("p") })],
  gelu: (ctx, a) => [ctx.add1("gelu", [a.tensor("x")], { approximate: a.word("approximate") })],
  softmax: axisOp("softmax"),
  log_softmax: axisOp("log_softmax"),
  concat: (ctx, a) => [ctx.add1("concat", a.tensors(0), { axis: a.int("axis") })],
  split: (ctx, a) => ctx.add("split", [a.tensor("x")], { axis: a.int("axis"), sizes: a.dims("sizes") }),
  reshape: (ctx, a) => [ctx.add1("reshape", [a.tensor("x")], { shape: a.dims("shape") })],
  transpose: (ctx, a) => [ctx.add1("transpose", [a.tensor("x")], { perm: a.ints("perm") })],
  squeeze: (ctx, a) => [ctx.add1("squeeze", [a.tensor("x")], { axes: a.ints("axis") })],
  unsqueeze: (ctx, a) => [ctx.add1("unsqueeze", [a.tensor("x")], { axes: a.ints("axis") })],
  slice: (ctx, a) => [ctx.add1("slice", [a.tensor("x")], { axis: a.int("axis"), start: a.int("start"), end: a.optionalInt("end"), step: a.int("step") })],
  select: (ctx, a) => [ctx.add1("select", [a.tensor("x")], { axis: a.int("axis"), index: a.int("index") })],
  sum: reduce("reduce_sum"),
  mean: reduce("reduce_mean"),
  max: reduce("reduce_max"),
  argmax: (ctx, a) => [ctx.add1("argmax", [a.tensor("x")], { axis: a.int("axis"), keepdims: a.bool("keepdims") })],
  maxpool2d: pool("max_pool2d"),
  avgpool2d: pool("avg_pool2d"),
  patches: (ctx, a) => [ctx.add1("patches", [a.tensor("x")], { size: a.int("size", 1) })],
  positional: (ctx, a) => [ctx.add1("positional_encoding", [a.tensor("x")])],
  cast: (ctx, a) => [ctx.add1("cast", [a.tensor("x")], { to: a.dtype("to") })],
};
