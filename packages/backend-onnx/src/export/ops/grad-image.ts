// ONNX exporters for the image backward ops.
// - `conv2d_grad`:
//   dx = ConvTranspose(dy, weight) with the conv's strides, pads, dilations and group (the conv weight
//   [O, C/groups, kh, kw] is ConvTranspose's [C_in, C_out/groups, kh, kw] layout as it is), and
//   output_padding = H − (s(Ho − 1) + d(k − 1) + 1 − 2p) (in [0, s − 1]) so dx has x's exact shape.
//   dweight = a Conv of x with dy as the kernel, batch and channels swapped: x [N, G, Cg, H, W] →
//   [Cg, G·N, H, W], dy [N, G, Og, Ho, Wo] → [O, N, Ho, Wo], group G, strides = the conv's dilation,
//   dilations = the conv's stride, same pads; the result [Cg, O, kh', kw'] (kh' ≥ kh) is sliced to
//   [Cg, O, kh, kw] and transposed to [O, Cg, kh, kw]. dbias = ReduceSum(dy, [0, 2, 3]).
// - `max_pool2d_grad`: MaxPool's Indices (flat indices into x, padding not counted; ONNX Runtime keeps the
//   first maximum of a window in row-major order, strict >) + ScatterElements with reduction "add" into
//   flat zeros, reshaped to x's shape. Overlapping windows add.
// - `avg_pool2d_grad`: ConvTranspose of dy viewed as [N·C, 1, Ho, Wo] with a constant [1, 1, kh, kw] kernel
//   of 1/(kh·kw), the pool's strides and pads (pads crop the output: padding receives nothing, but counts in
//   the divisor, count_include_pad) and output_padding to reach x's size; reshaped to x's shape.
// - `patches_grad`: the inverse of the forward Reshape/Transpose/Reshape: dy [B, nh·nw, C·p·p] →
//   [B, nh, nw, C, p, p] → Transpose perm [0, 3, 1, 4, 2, 5] → [B, C, nh, p, nw, p] → Shape(x).
// The spatial sizes (H, W, Ho, Wo) must be concrete (the forward shape functions require it); batch and
// channels may be symbolic wherever they are read from Shape at run time.
import { BackendError, type Dim } from "@attn/core";
import { registerExporter, type NodeView } from "../op-exporter.js";
import { full, input, out, reduce } from "./util.js";

function ints(v: unknown, fallback: readonly number[]): number[] {
  return Array.isArray(v) && v.length ? (v as number[]) : [...fallback];
}

/** Concrete dims `axes` of input `i`, or an error naming the op. */
function concrete(node: NodeView, i: number, axes: readonly number[]): number[] {
  const shape = node.inputTypes[i]!.shape;
  return axes.map((a) => {
    const d: Dim = shape[a];
    if (typeof d !== "number") throw new BackendError(`${node.op}: dim ${a} of input ${i} must be concrete to export to ONNX, got ${d}`, node.span);
    return d;
  });
}

registerExporter("conv2d_grad", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  const w = input(node, 1);
  const dy = input(node, 2);
  const stride = ints(node.attrs.stride, [1, 1]);
  const [ph, pw] = ints(node.attrs.padding, [0, 0]);
  const dilation = ints(node.attrs.dilation, [1, 1]);
  const G = (node.attrs.groups as number | undefined) ?? 1;
  const [H, W] = concrete(node, 0, [2, 3]);
  const [O, Cg, KH, KW] = concrete(node, 1, [0, 1, 2, 3]);
  const [Ho, Wo] = concrete(node, 2, [2, 3]);
  const pads = [ph, pw, ph, pw];
  const outPad = [H - (stride[0] * (Ho - 1) + dilation[0] * (KH - 1) + 1 - 2 * ph), W - (stride[1] * (Wo - 1) + dilation[1] * (KW - 1) + 1 - 2 * pw)];
  ctx.node({
    opType: "ConvTranspose",
    inputs: [dy, w],
    outputs: [out(node, 0)],
    attributes: { strides: { ints: stride }, pads: { ints: pads }, dilations: { ints: dilation }, group: { int: G }, kernel_shape: { ints: [KH, KW] }, output_padding: { ints: outPad } },
  });

  const Og = O / G;
  const x5 = ctx.op("Reshape", [x, ctx.constInt64([-1, G, Cg, H, W])])[0];
  const xt = ctx.op("Transpose", [x5], { perm: { ints: [2, 1, 0, 3, 4] } })[0];
  const xin = ctx.op("Reshape", [xt, ctx.constInt64([Cg, -1, H, W])])[0];
  const dy5 = ctx.op("Reshape", [dy, ctx.constInt64([-1, G, Og, Ho, Wo])])[0];
  const dyt = ctx.op("Transpose", [dy5], { perm: { ints: [1, 2, 0, 3, 4] } })[0];
  const kern = ctx.op("Reshape", [dyt, ctx.constInt64([O, -1, Ho, Wo])])[0];
  const full4 = ctx.op("Conv", [xin, kern], { strides: { ints: dilation }, dilations: { ints: stride }, pads: { ints: pads }, group: { int: G } })[0];
  const sliced = ctx.op("Slice", [full4, ctx.constInt64([0, 0]), ctx.constInt64([KH, KW]), ctx.constInt64([2, 3])])[0];
  ctx.node({ opType: "Transpose", inputs: [sliced], outputs: [out(node, 1)], attributes: { perm: { ints: [1, 0, 2, 3] } } });

  reduce(ctx, "ReduceSum", dy, [0, 2, 3], false, out(node, 2));
});

/** The pool's kernel, strides (default: the kernel) and pads. */
function poolAttrs(node: NodeView): { kernel: number[]; strides: number[]; pads: number[] } {
  const kernel = ints(node.attrs.kernel, []);
  const [ph, pw] = ints(node.attrs.padding, [0, 0]);
  return { kernel, strides: ints(node.attrs.stride, kernel), pads: [ph, pw, ph, pw] };
}

registerExporter("max_pool2d_grad", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  const dy = input(node, 1);
  const { kernel, strides, pads } = poolAttrs(node);
  const [, indices] = ctx.op("MaxPool", [x], { kernel_shape: { ints: kernel }, strides: { ints: strides }, pads: { ints: pads }, storage_order: { int: 0 } }, 2);
  const flat = ctx.constInt64([-1]);
  const xShape = ctx.op("Shape", [x])[0];
  const zeros = ctx.op("ConstantOfShape", [ctx.op("Shape", [ctx.op("Reshape", [x, flat])[0]])[0]])[0];
  const scattered = ctx.op("ScatterElements", [zeros, ctx.op("Reshape", [indices, flat])[0], ctx.op("Reshape", [dy, flat])[0]], { axis: { int: 0 }, reduction: { string: "add" } })[0];
  ctx.node({ opType: "Reshape", inputs: [scattered, xShape], outputs: [out(node)] });
});

registerExporter("avg_pool2d_grad", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  const dy = input(node, 1);
  const { kernel, strides, pads } = poolAttrs(node);
  const [kh, kw] = kernel;
  const [H, W] = concrete(node, 0, [2, 3]);
  const [Ho, Wo] = concrete(node, 1, [2, 3]);
  const outPad = [H - (strides[0] * (Ho - 1) + kh - 2 * pads[0]), W - (strides[1] * (Wo - 1) + kw - 2 * pads[1])];
  const flatDy = ctx.op("Reshape", [dy, ctx.constInt64([-1, 1, Ho, Wo])])[0];
  const kern = ctx.constFloat(new Array<number>(kh * kw).fill(1 / (kh * kw)), [1, 1, kh, kw]);
  const spread = ctx.op("ConvTranspose", [flatDy, kern], { strides: { ints: strides }, pads: { ints: pads }, kernel_shape: { ints: kernel }, output_padding: { ints: outPad } })[0];
  ctx.node({ opType: "Reshape", inputs: [spread, ctx.op("Shape", [x])[0]], outputs: [out(node)] });
});

registerExporter("patches_grad", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  const dy = input(node, 1);
  const p = node.attrs.size as number;
  const shape = ctx.op("Shape", [x])[0];
  const at = (axis: number): string => ctx.op("Slice", [shape, ctx.constInt64([axis]), ctx.constInt64([axis + 1])])[0];
  const pp = ctx.constInt64([p]);
  const nh = ctx.op("Div", [at(2), pp])[0];
  const nw = ctx.op("Div", [at(3), pp])[0];
  const split = ctx.op("Concat", [at(0), nh, nw, at(1), pp, pp], { axis: { int: 0 } })[0];
  const six = ctx.op("Reshape", [dy, split])[0];
  const moved = ctx.op("Transpose", [six], { perm: { ints: [0, 3, 1, 4, 2, 5] } })[0];
  ctx.node({ opType: "Reshape", inputs: [moved, shape], outputs: [out(node)] });
});
