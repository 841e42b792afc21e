// ONNX exporters for the recurrent ops `gru` and `gru_cell` (the `scan` exporter lives in scan.ts).
//
// Both map onto the standard ONNX `GRU` op (opset 14/22 signature, unchanged in 17 and 23):
// - gate order: PyTorch stacks the weight rows r, z, n; ONNX stacks z, r, h. The parameters stay
//   graph inputs/initializers under their PyTorch names, so the rows are reordered inside the graph with
//   one `Gather` (axis 0, constant row indices) per weight/bias tensor.
// - `linear_before_reset = 1` gives PyTorch's candidate n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).
// - ONNX GRU is sequence-first: x [B, S, I] is transposed to [S, B, I]; Y [S, dirs, B, H] is transposed to
//   [B, S, dirs, H] and reshaped to [B, S, dirs·H] (forward features, then reverse); Y_h [dirs, B, H] is h_n.
// - W [dirs, 3H, I], R [dirs, 3H, H], B [dirs, 6H] (input biases then recurrent biases). Without biases B
//   is omitted (ONNX's default is zeros); with only one of the two, the other is a zero constant.
// - `gru_cell` is a one-step ONNX GRU: x [B, I] and h [B, H] are unsqueezed to a length-1 sequence and
//   initial state, and Y_h [1, B, H] is squeezed back. One fused op rather than the decomposed formula:
//   fewer nodes, and ONNX Runtime runs it with the same kernel as `gru`.
import type { TensorType } from "@attn/core";
import { registerExporter, type ExportContext, type NodeView } from "../op-exporter.js";

/** Row indices that turn PyTorch's r, z, n blocks (each `hidden` rows) into ONNX's z, r, h order. */
export function gruGateOrder(hidden: number): number[] {
  const block = (g: number) => Array.from({ length: hidden }, (_, i) => g * hidden + i);
  return [...block(1), ...block(0), ...block(2)];
}

function concreteDim(t: TensorType | null | undefined, axis: number): number | undefined {
  const d = t?.shape[axis];
  return typeof d === "number" ? d : undefined;
}

function unsqueeze0(ctx: ExportContext, x: string, prefix: string): string {
  const out = ctx.fresh(prefix);
  ctx.node({ opType: "Unsqueeze", inputs: [x, ctx.constInt64([0])], outputs: [out] });
  return out;
}

/** Weight or bias rows reordered r, z, n → z, r, h. */
function reorder(ctx: ExportContext, x: string, order: string, prefix: string): string {
  const out = ctx.fresh(prefix);
  ctx.node({ opType: "Gather", inputs: [x, order], outputs: [out], attributes: { axis: { int: 0 } } });
  return out;
}

interface DirectionWeights {
  readonly w: string;
  readonly r: string;
  /** [6H] (input then recurrent biases) or null when the direction has no biases. */
  readonly b: string | null;
}

/** One direction's W [3H, I], R [3H, H] and B [6H] in ONNX gate order. */
function directionWeights(ctx: ExportContext, hidden: number, order: string, wih: string, whh: string, bih: string | null, bhh: string | null): DirectionWeights {
  const w = reorder(ctx, wih, order, "gru_W");
  const r = reorder(ctx, whh, order, "gru_R");
  if (bih === null && bhh === null) return { w, r, b: null };
  const zeros = (): string => ctx.constFloat(new Array<number>(3 * hidden).fill(0), [3 * hidden]);
  const wb = bih === null ? zeros() : reorder(ctx, bih, order, "gru_Wb");
  const rb = bhh === null ? zeros() : reorder(ctx, bhh, order, "gru_Rb");
  const b = ctx.fresh("gru_B");
  ctx.node({ opType: "Concat", inputs: [wb, rb], outputs: [b], attributes: { axis: { int: 0 } } });
  return { w, r, b };
}

/** Stacks the directions' tensors into [dirs, ...] (unsqueeze, then concat for two directions). */
function stackDirections(ctx: ExportContext, xs: readonly string[], prefix: string): string {
  const us = xs.map((x) => unsqueeze0(ctx, x, prefix));
  if (us.length === 1) return us[0];
  const out = ctx.fresh(prefix);
  ctx.node({ opType: "Concat", inputs: us, outputs: [out], attributes: { axis: { int: 0 } } });
  return out;
}

/**
 * Emits an ONNX GRU over a sequence-first x [S, B, I]; returns the names of Y [S, dirs, B, H] and
 * Y_h [dirs, B, H] (`yh` given to name the latter directly).
 */
function emitGru(
  ctx: ExportContext,
  hidden: number,
  xSeqFirst: string,
  dirs: readonly (readonly [string, string, string | null, string | null])[],
  h0: string | null,
  outs: { y: string; yh: string },
): void {
  const order = ctx.constInt64(gruGateOrder(hidden));
  const ws = dirs.map(([wih, whh, bih, bhh]) => directionWeights(ctx, hidden, order, wih, whh, bih, bhh));
  const W = stackDirections(ctx, ws.map((d) => d.w), "gru_W_all");
  const R = stackDirections(ctx, ws.map((d) => d.r), "gru_R_all");
  let B = "";
  if (ws.some((d) => d.b !== null)) {
    const zeros = (): string => ctx.constFloat(new Array<number>(6 * hidden).fill(0), [6 * hidden]);
    B = stackDirections(ctx, ws.map((d) => d.b ?? zeros()), "gru_B_all");
  }
  ctx.node({
    opType: "GRU",
    inputs: [xSeqFirst, W, R, B, "", h0 ?? ""],
    outputs: [outs.y, outs.yh],
    attributes: {
      hidden_size: { int: hidden },
      direction: { string: dirs.length === 2 ? "bidirectional" : "forward" },
      linear_before_reset: { int: 1 },
    },
  });
}

registerExporter("gru", (ctx: ExportContext, node: NodeView) => {
  const hidden = node.attrs.hidden as number;
  const bidirectional = node.attrs.bidirectional === true;
  const inp = node.inputs;
  const x = inp[0]!;
  const xt = ctx.fresh("gru_x_sbi");
  ctx.node({ opType: "Transpose", inputs: [x], outputs: [xt], attributes: { perm: { ints: [1, 0, 2] } } });
  const dirs: [string, string, string | null, string | null][] = [[inp[1]!, inp[2]!, inp[3] ?? null, inp[4] ?? null]];
  if (bidirectional) dirs.push([inp[5]!, inp[6]!, inp[7] ?? null, inp[8] ?? null]);
  const Y = ctx.fresh("gru_Y");
  emitGru(ctx, hidden, xt, dirs, inp[9] ?? null, { y: Y, yh: node.outputs[1] });
  // Y [S, dirs, B, H] → [B, S, dirs, H] → [B, S, dirs·H]
  const yt = ctx.fresh("gru_Y_bsdh");
  ctx.node({ opType: "Transpose", inputs: [Y], outputs: [yt], attributes: { perm: { ints: [2, 0, 1, 3] } } });
  ctx.node({ opType: "Reshape", inputs: [yt, ctx.constInt64([0, 0, dirs.length * hidden])], outputs: [node.outputs[0]] });
});

registerExporter("gru_cell", (ctx: ExportContext, node: NodeView) => {
  const [x, h, wih, whh, bih, bhh] = node.inputs;
  const hidden = concreteDim(node.inputTypes[3], 1) ?? concreteDim(node.inputTypes[1], 1) ?? concreteDim(node.outputTypes[0], 1);
  if (hidden === undefined) throw new Error(`gru_cell: the hidden size must be concrete to export to ONNX`);
  const xs = unsqueeze0(ctx, x!, "gru_cell_x");
  const h0 = unsqueeze0(ctx, h!, "gru_cell_h");
  const yh = ctx.fresh("gru_cell_Yh");
  emitGru(ctx, hidden, xs, [[wih!, whh!, bih ?? null, bhh ?? null]], h0, { y: "", yh });
  ctx.node({ opType: "Squeeze", inputs: [yh, ctx.constInt64([0])], outputs: [node.outputs[0]] });
});
