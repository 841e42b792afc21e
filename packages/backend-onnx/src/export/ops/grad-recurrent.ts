// ONNX exporters for the recurrent backward ops.
// - `gru_cell_grad`: decomposed, exactly the cpu kernel's step (PyTorch gate order r, z, n throughout, so no
//   reordering): gi = x W_ihᵀ + b_ih, gh = h W_hhᵀ + b_hh, each split in three along axis 1 (Split into equal
//   parts), r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n); from dh':
//   da_n = dh'(1 − z)(1 − n²), da_r = da_n ⊙ gh_n ⊙ r(1 − r), da_z = dh'(h − n) z(1 − z),
//   dgi = [da_r, da_z, da_n], dgh = [da_r, da_z, da_n ⊙ r],
//   dx = dgi W_ih, dh = dh' ⊙ z + dgh W_hh, dW_ih = dgiᵀ x, dW_hh = dghᵀ h, db_ih = Σ_B dgi, db_hh = Σ_B dgh.
// - `gru_grad`: backpropagation through time as one ONNX `Scan` per direction whose body is an IR graph of a
//   single `gru_cell_grad` (exported by the exporter above) plus accumulations:
//   state variables: dh [B, H] (starts at dh_n[d] or zeros), the four weight/bias gradient accumulators
//   (start at zeros), then the direction's weights/biases as pass-through captures;
//   scan inputs (axis 1): x [B, S, I], the incoming state of every step [B, S, H], and dy's slice of the
//   direction [B, S, H] when dy is given; scan output: dx of the direction [B, S, I] (axis 1).
//   The incoming states come from the forward output y (features d·H … (d+1)·H − 1): for the forward
//   direction h_in[t] = t = 0 ? h0[0] : y[t − 1], walked backwards (Scan reverse); for the reverse
//   direction h_in[t] = t = S − 1 ? h0[1] : y[t + 1], walked t = 0 … S − 1 (Scan forward). Each step adds
//   dy[t] to the carried dh before the cell step, as the cpu kernel does. dx sums the directions; dh0 stacks
//   each direction's final dh.
import { BackendError, GraphBuilder, type Dim, type ValueId } from "@attn/core";
import type { OnnxExportContext } from "../exporter.js";
import { registerExporter } from "../op-exporter.js";
import { full, input, out, reduce } from "./util.js";

function transpose2(ctx: OnnxExportContext, x: string): string {
  return ctx.op("Transpose", [x], { perm: { ints: [1, 0] } })[0];
}

registerExporter("gru_cell_grad", (c, node) => {
  const ctx = full(c);
  const x = input(node, 0);
  const h = input(node, 1);
  const wih = input(node, 2);
  const whh = input(node, 3);
  const bih = node.inputs[4] ?? null;
  const bhh = node.inputs[5] ?? null;
  const d = input(node, 6);
  const affine = (a: string, w: string, b: string | null): string => {
    const y = ctx.op("MatMul", [a, transpose2(ctx, w)])[0];
    return b ? ctx.op("Add", [y, b])[0] : y;
  };
  // Explicit split sizes: opset 18+ requires them (or num_outputs); H is concrete, as GRU weights are.
  const H = node.inputTypes[1]!.shape[1];
  if (typeof H !== "number") throw new Error(`gru_cell_grad: the hidden size must be concrete, got ${H}`);
  const thirds = ctx.constInt64([H, H, H]);
  const [gir, giz, gin] = ctx.op("Split", [affine(x, wih, bih), thirds], { axis: { int: 1 } }, 3);
  const [ghr, ghz, ghn] = ctx.op("Split", [affine(h, whh, bhh), thirds], { axis: { int: 1 } }, 3);
  const one = ctx.constFloat([1], []);
  const mul = (a: string, b: string): string => ctx.op("Mul", [a, b])[0];
  const oneMinus = (a: string): string => ctx.op("Sub", [one, a])[0];
  const r = ctx.op("Sigmoid", [ctx.op("Add", [gir, ghr])[0]])[0];
  const z = ctx.op("Sigmoid", [ctx.op("Add", [giz, ghz])[0]])[0];
  const n = ctx.op("Tanh", [ctx.op("Add", [gin, mul(r, ghn)])[0]])[0];
  const dan = mul(mul(d, oneMinus(z)), oneMinus(mul(n, n)));
  const dar = mul(mul(dan, ghn), mul(r, oneMinus(r)));
  const daz = mul(mul(d, ctx.op("Sub", [h, n])[0]), mul(z, oneMinus(z)));
  const cat = (parts: string[]): string => ctx.op("Concat", parts, { axis: { int: 1 } })[0];
  const dgi = cat([dar, daz, dan]);
  const dgh = cat([dar, daz, mul(dan, r)]);
  ctx.node({ opType: "MatMul", inputs: [dgi, wih], outputs: [out(node, 0)] });
  ctx.node({ opType: "Add", inputs: [mul(d, z), ctx.op("MatMul", [dgh, whh])[0]], outputs: [out(node, 1)] });
  ctx.node({ opType: "MatMul", inputs: [transpose2(ctx, dgi), x], outputs: [out(node, 2)] });
  ctx.node({ opType: "MatMul", inputs: [transpose2(ctx, dgh), h], outputs: [out(node, 3)] });
  reduce(ctx, "ReduceSum", dgi, [0], false, out(node, 4));
  reduce(ctx, "ReduceSum", dgh, [0], false, out(node, 5));
});

const f32 = (shape: readonly Dim[]) => ({ dtype: "float32" as const, shape });

/**
 * The Scan body of one direction, in Scan's order: inputs dh, the four accumulators, the weights/biases
 * present, then the slices x_t, h_t (and dy_t); outputs the new dh and accumulators, the weights/biases
 * unchanged, then dx_t.
 */
function stepBody(B: Dim, I: number, H: number, hasBih: boolean, hasBhh: boolean, hasDy: boolean) {
  const b = new GraphBuilder("gru_grad_step");
  const dh = b.input("dh", f32([B, H]));
  const acc = [b.input("acc_wih", f32([3 * H, I])), b.input("acc_whh", f32([3 * H, H])), b.input("acc_bih", f32([3 * H])), b.input("acc_bhh", f32([3 * H]))];
  const wih = b.input("w_ih", f32([3 * H, I]));
  const whh = b.input("w_hh", f32([3 * H, H]));
  const bih = hasBih ? b.input("b_ih", f32([3 * H])) : null;
  const bhh = hasBhh ? b.input("b_hh", f32([3 * H])) : null;
  const xt = b.input("x_t", f32([B, I]));
  const ht = b.input("h_t", f32([B, H]));
  const dyt = hasDy ? b.input("dy_t", f32([B, H])) : null;
  const dhTot = dyt === null ? dh : b.add1("add", [dh, dyt]);
  const [dx, dhPrev, ...grads] = b.add("gru_cell_grad", [xt, ht, wih, whh, bih, bhh, dhTot]);
  b.output("dh_prev", dhPrev);
  const names = ["wih", "whh", "bih", "bhh"];
  grads.forEach((g, i) => b.output(`acc_${names[i]}_next`, b.add1("add", [acc[i], g])));
  const captures: ValueId[] = [wih, whh, ...(bih === null ? [] : [bih]), ...(bhh === null ? [] : [bhh])];
  captures.forEach((v, i) => b.output(`capture_${i}`, v));
  b.output("dx_t", dx);
  return b.build();
}

registerExporter("gru_grad", (c, node) => {
  const ctx = full(c);
  const H = node.attrs.hidden as number;
  const dirs = node.attrs.bidirectional === true ? 2 : 1;
  const x = input(node, 0);
  const xShape = node.inputTypes[0]!.shape;
  const I = xShape[2];
  if (typeof I !== "number") throw new BackendError(`gru_grad: the input size must be concrete to export to ONNX, got ${I}`, node.span);
  const B = xShape[0];
  const h0 = node.inputs[9] ?? null;
  const y = input(node, 10);
  const dy = node.inputs[11] ?? null;
  const dhn = node.inputs[12] ?? null;
  const batch = ctx.op("Shape", [x], { start: { int: 0 }, end: { int: 1 } })[0];
  const zerosOf = (dims: readonly number[]): string => ctx.op("ConstantOfShape", [ctx.op("Concat", [batch, ctx.constInt64(dims)], { axis: { int: 0 } })[0]])[0];
  const featureSlice = (t: string, d: number): string =>
    ctx.op("Slice", [t, ctx.constInt64([d * H]), ctx.constInt64([(d + 1) * H]), ctx.constInt64([2])])[0];
  const stepSlice = (t: string, start: number, end: number): string => ctx.op("Slice", [t, ctx.constInt64([start]), ctx.constInt64([end]), ctx.constInt64([1])])[0];
  const pick = (t: string, d: number): string => ctx.op("Gather", [t, ctx.constInt64([d], [])], { axis: { int: 0 } })[0];
  const BIG = 2 ** 62;

  const dxs: string[] = [];
  const dh0s: string[] = [];
  for (let d = 0; d < dirs; d++) {
    const [wih, whh] = [input(node, 1 + 4 * d), input(node, 2 + 4 * d)];
    const bih = node.inputs[3 + 4 * d] ?? null;
    const bhh = node.inputs[4 + 4 * d] ?? null;
    const yd = featureSlice(y, d);
    const h0d = h0 ? ctx.op("Unsqueeze", [pick(h0, d), ctx.constInt64([1])])[0] : zerosOf([1, H]);
    const hIn = d === 0
      ? ctx.op("Concat", [h0d, stepSlice(yd, 0, -1)], { axis: { int: 1 } })[0]
      : ctx.op("Concat", [stepSlice(yd, 1, BIG), h0d], { axis: { int: 1 } })[0];
    const scanInputs = [x, hIn, ...(dy ? [featureSlice(dy, d)] : [])];
    const dhInit = dhn ? pick(dhn, d) : zerosOf([H]);
    const accInit = [
      ctx.op("ConstantOfShape", [ctx.op("Shape", [wih])[0]])[0],
      ctx.op("ConstantOfShape", [ctx.op("Shape", [whh])[0]])[0],
      ctx.constFloat(new Array<number>(3 * H).fill(0), [3 * H]),
      ctx.constFloat(new Array<number>(3 * H).fill(0), [3 * H]),
    ];
    const captures = [wih, whh, ...(bih ? [bih] : []), ...(bhh ? [bhh] : [])];
    const body = stepBody(B, I, H, bih !== null, bhh !== null, dy !== null);
    const inputNames = body.inputs.map((id) => ctx.fresh(`gru_grad_in_${body.values[id].name}`));
    const outputNames = body.outputs.map((o) => ctx.fresh(`gru_grad_out_${o.name}`));
    const proto = ctx.subgraph(body, inputNames, outputNames);
    const dhFinal = ctx.fresh("gru_grad_dh0");
    const dx = ctx.fresh("gru_grad_dx");
    const reverse = d === 0 ? 1 : 0;
    ctx.node({
      opType: "Scan",
      inputs: [dhInit, ...accInit, ...captures, ...scanInputs],
      outputs: [dhFinal, ...[1, 2, 3, 4].map((k) => out(node, 4 * d + k)), ...captures.map(() => ctx.fresh("gru_grad_capture_final")), dx],
      attributes: {
        body: { graph: proto },
        num_scan_inputs: { int: scanInputs.length },
        scan_input_axes: { ints: scanInputs.map(() => 1) },
        scan_input_directions: { ints: scanInputs.map(() => reverse) },
        scan_output_axes: { ints: [1] },
        scan_output_directions: { ints: [reverse] },
      },
    });
    dxs.push(dx);
    dh0s.push(ctx.op("Unsqueeze", [dhFinal, ctx.constInt64([0])])[0]);
  }
  ctx.node({ opType: dirs === 2 ? "Add" : "Identity", inputs: dxs, outputs: [out(node, 0)] });
  ctx.node(dirs === 2 ? { opType: "Concat", inputs: dh0s, outputs: [out(node, 1 + 4 * dirs)], attributes: { axis: { int: 0 } } } : { opType: "Identity", inputs: dh0s, outputs: [out(node, 1 + 4 * dirs)] });
});
