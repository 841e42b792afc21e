// ONNX exporters for the image ops.
// - `conv2d` → Conv (NCHW and PyTorch's [O, C/groups, kh, kw] weight layout are ONNX's): pads
//   [ph, pw, ph, pw], strides, dilations, group, kernel_shape from the weight.
// - `max_pool2d` → MaxPool (ONNX pads are ignored by the max, as PyTorch's -inf padding).
// - `avg_pool2d` → AveragePool with count_include_pad = 1 (padding counts as zeros, PyTorch's default).
// - `patches` → Reshape [B, C, nh, p, nw, p] → Transpose [B, nh, nw, C, p, p] → Reshape [B, nh·nw, C·p·p]:
//   patch index row-major over the grid, each patch flattened channel-major (C, p, p), as docs/ir.md.
//   Concrete dims are constants; symbolic ones are read from Shape(x) at run time.
import type { Dim } from "@attn/core";
import { registerExporter, type ExportContext, type NodeView } from "../op-exporter.js";

function ints(v: unknown, fallback: readonly number[]): number[] {
  return Array.isArray(v) && v.length ? (v as number[]) : [...fallback];
}

registerExporter("conv2d", (ctx: ExportContext, node: NodeView) => {
  const [x, w, b] = node.inputs;
  const [ph, pw] = ints(node.attrs.padding, [0, 0]);
  const wShape = node.inputTypes[1]?.shape ?? [];
  const attributes: Record<string, { int: number } | { ints: number[] }> = {
    pads: { ints: [ph, pw, ph, pw] },
    strides: { ints: ints(node.attrs.stride, [1, 1]) },
    dilations: { ints: ints(node.attrs.dilation, [1, 1]) },
    group: { int: (node.attrs.groups as number | undefined) ?? 1 },
  };
  if (typeof wShape[2] === "number" && typeof wShape[3] === "number") attributes.kernel_shape = { ints: [wShape[2], wShape[3]] };
  ctx.node({ opType: "Conv", inputs: b ? [x!, w!, b] : [x!, w!], outputs: [node.outputs[0]], attributes });
});

function exportPool(opType: "MaxPool" | "AveragePool") {
  return (ctx: ExportContext, node: NodeView): void => {
    const kernel = ints(node.attrs.kernel, []);
    const [ph, pw] = ints(node.attrs.padding, [0, 0]);
    const attributes: Record<string, { int: number } | { ints: number[] }> = {
      kernel_shape: { ints: kernel },
      strides: { ints: ints(node.attrs.stride, kernel) },
      pads: { ints: [ph, pw, ph, pw] },
    };
    if (opType === "AveragePool") attributes.count_include_pad = { int: 1 };
    ctx.node({ opType, inputs: [node.inputs[0]!], outputs: [node.outputs[0]], attributes });
  };
}

registerExporter("max_pool2d", exportPool("MaxPool"));
registerExporter("avg_pool2d", exportPool("AveragePool"));

/** A run-time dim: Shape(x)[axis] / div · mul. */
interface DynDim {
  readonly axis: number;
  readonly div: number;
  readonly mul?: number;
}

/** A 1-D int64 tensor name holding `parts` (numbers are constants; a DynDim is computed from Shape(x)). */
function shapeTensor(ctx: ExportContext, x: string, parts: readonly (number | DynDim)[]): string {
  if (parts.every((p) => typeof p === "number")) return ctx.constInt64(parts as number[]);
  const shape = ctx.fresh("patches_shape");
  ctx.node({ opType: "Shape", inputs: [x], outputs: [shape] });
  const pieces = parts.map((p) => {
    if (typeof p === "number") return ctx.constInt64([p]);
    const dim = ctx.fresh("patches_dim");
    ctx.node({ opType: "Gather", inputs: [shape, ctx.constInt64([p.axis])], outputs: [dim], attributes: { axis: { int: 0 } } });
    let out = dim;
    for (const [opType, k] of [["Div", p.div], ["Mul", p.mul ?? 1]] as const) {
      if (k === 1) continue;
      const q = ctx.fresh("patches_dim");
      ctx.node({ opType, inputs: [out, ctx.constInt64([k])], outputs: [q] });
      out = q;
    }
    return out;
  });
  const out = ctx.fresh("patches_shape");
  ctx.node({ opType: "Concat", inputs: pieces, outputs: [out], attributes: { axis: { int: 0 } } });
  return out;
}

registerExporter("patches", (ctx: ExportContext, node: NodeView) => {
  const x = node.inputs[0]!;
  const p = node.attrs.size as number;
  const [, C, H, W] = node.inputTypes[0]!.shape as readonly Dim[];
  const byAxis = (d: Dim, axis: number, div: number): number | DynDim => (typeof d === "number" ? d / div : { axis, div });
  // Reshape's 0 copies the input dim at the same index: B (and C) need no Shape.
  const split = ctx.fresh("patches_split");
  ctx.node({ opType: "Reshape", inputs: [x, shapeTensor(ctx, x, [0, 0, byAxis(H, 2, p), p, byAxis(W, 3, p), p])], outputs: [split] });
  const moved = ctx.fresh("patches_moved");
  ctx.node({ opType: "Transpose", inputs: [split], outputs: [moved], attributes: { perm: { ints: [0, 2, 4, 1, 3, 5] } } });
  // grid size by -1; C·p·p from the type, or Shape(x)[1]·p·p when C is symbolic
  const cpp = typeof C === "number" ? C * p * p : { axis: 1, div: 1, mul: p * p };
  ctx.node({ opType: "Reshape", inputs: [moved, shapeTensor(ctx, x, [0, -1, cpp])], outputs: [node.outputs[0]] });
});
