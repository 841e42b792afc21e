// ONNX exporter for `scan` → the standard ONNX `Scan` op (opset 9+ signature; 17 and 23 alike).
//
// Our scan: operands = carries (N), sequences (M, iterated along axis 1), captures (K); body inputs in that
// order; outputs = final carries, per-step outputs stacked on axis 1 (a scalar per-step value stacks to
// [T]), then with `saveCarries` each step's incoming carries stacked the same way.
//
// ONNX Scan: inputs = state variables, then scan inputs; body inputs = states, then scan slices; body
// outputs = new states, then per-step scan outputs. The mapping:
// - state variables = carries, then captures. Captures are passed as extra state variables that the body
//   returns unchanged (an `Identity`), rather than referenced from the outer scope: `ExportContext.subgraph`
//   declares every body graph input, and explicit states keep the body self-contained (the checker and
//   ONNX Runtime both accept it). Their final values are fresh, unused outputs.
// - scan inputs = the sequences, `scan_input_axes` = 1.
// - scan outputs = per-step outputs (`scan_output_axes` 1, or 0 for a scalar per-step value), then with
//   `saveCarries` the incoming carries (the body returns its carry inputs through an `Identity`).
// - `reverse` → `scan_input_directions` and `scan_output_directions` all 1 (iterate T−1…0; prepending
//   each step's output puts step t's output at index t, as ours).
// - a scan without sequences (`length` attribute) gets a dummy scan input of zeros, shape [length] (axis 0):
//   ONNX Scan takes its trip count from its scan inputs. A symbolic length is computed from the graph
//   inputs' shapes (ConstantOfShape of the run-time dim).
// The body is re-listed before export (inputs and outputs in Scan's order); `ExportContext.subgraph` adds
// the `Identity` nodes for outputs that are body inputs (captures, saved carries) or repeat a value.
import type { Dim, Graph, Value, ValueId } from "@attn/core";
import { registerExporter, type ExportContext, type NodeView } from "../op-exporter.js";
import { full } from "./util.js";

interface BodyPlan {
  readonly graph: Graph;
  /** Ranks of the per-step scan outputs (per-step outputs, then saved carries). */
  readonly scanOutputRanks: readonly number[];
}

/**
 * Rewrites the IR body into ONNX Scan's order: inputs carries, captures, slices (plus a dummy slice when
 * `dummySlice`); outputs new carries, captures (unchanged), per-step outputs, then incoming carries when
 * `saveCarries`.
 */
function planBody(body: Graph, numCarries: number, numSequences: number, saveCarries: boolean, dummySlice: boolean): BodyPlan {
  const values: Value[] = [...body.values];
  const names = new Set(values.map((v) => v.name));
  const inputs = body.inputs;
  const carries = inputs.slice(0, numCarries);
  const slices = inputs.slice(numCarries, numCarries + numSequences);
  const captures = inputs.slice(numCarries + numSequences);
  const extraInputs: ValueId[] = [];
  if (dummySlice) {
    const id = values.length;
    let name = "scan_step";
    for (let k = 1; names.has(name); k++) name = `scan_step_${k}`;
    values.push({ id, name, type: { dtype: "float32", shape: [] } });
    extraInputs.push(id);
  }
  const bodyOuts = body.outputs.map((o) => o.value);
  const newCarries = bodyOuts.slice(0, numCarries);
  const perStep = bodyOuts.slice(numCarries);
  const saved = saveCarries ? carries : [];
  const outs = [...newCarries, ...captures, ...perStep, ...saved];
  const graph: Graph = {
    name: body.name,
    values,
    inputs: [...carries, ...captures, ...slices, ...extraInputs],
    params: body.params,
    nodes: body.nodes,
    outputs: outs.map((value, i) => ({ name: `${values[value].name}__scan_out${i}`, value })),
  };
  return { graph, scanOutputRanks: [...perStep, ...saved].map((v) => values[v].type.shape.length) };
}

registerExporter("scan", (ctx: ExportContext, node: NodeView) => {
  const body = node.attrs.body as Graph;
  const numCarries = node.attrs.numCarries as number;
  const numSequences = node.attrs.numSequences as number;
  const reverse = node.attrs.reverse === true;
  const saveCarries = node.attrs.saveCarries === true;
  const operands = node.inputs.map((n, i) => {
    if (n === null) throw new Error(`scan: operand ${i} is absent`);
    return n;
  });
  const carries = operands.slice(0, numCarries);
  const sequences = operands.slice(numCarries, numCarries + numSequences);
  const captures = operands.slice(numCarries + numSequences);

  const scanInputs = [...sequences];
  const scanInputAxes = sequences.map(() => 1);
  if (numSequences === 0) {
    const length = node.attrs.length as Dim | null;
    if (length === null) throw new Error("scan: a scan without sequences needs a length");
    if (typeof length === "number") scanInputs.push(ctx.constFloat(new Array<number>(length).fill(0), [length]));
    else {
      // a symbolic length is computed from the graph inputs' shapes at run time
      const steps = ctx.fresh("scan_steps");
      ctx.node({ opType: "ConstantOfShape", inputs: [full(ctx).dim(length)], outputs: [steps] });
      scanInputs.push(steps);
    }
    scanInputAxes.push(0);
  }

  const plan = planBody(body, numCarries, numSequences, saveCarries, numSequences === 0);
  const inputNames = plan.graph.inputs.map((id) => ctx.fresh(`scan_in_${plan.graph.values[id].name}`));
  const outputNames = plan.graph.outputs.map((o) => ctx.fresh(`scan_out_${plan.graph.values[o.value].name}`));
  const bodyProto = ctx.subgraph(plan.graph, inputNames, outputNames);

  const numPerStep = body.outputs.length - numCarries;
  const finalCarries = node.outputs.slice(0, numCarries);
  const finalCaptures = captures.map(() => ctx.fresh("scan_capture_final"));
  const scanOutputs = node.outputs.slice(numCarries, numCarries + numPerStep + (saveCarries ? numCarries : 0));
  const attributes: Record<string, { int: number } | { ints: number[] } | { graph: unknown }> = {
    body: { graph: bodyProto },
    num_scan_inputs: { int: scanInputs.length },
    scan_input_axes: { ints: scanInputAxes },
    scan_output_axes: { ints: plan.scanOutputRanks.map((r) => (r === 0 ? 0 : 1)) },
  };
  if (reverse) {
    attributes.scan_input_directions = { ints: scanInputs.map(() => 1) };
    if (scanOutputs.length) attributes.scan_output_directions = { ints: scanOutputs.map(() => 1) };
  }
  ctx.node({
    opType: "Scan",
    inputs: [...carries, ...captures, ...scanInputs],
    outputs: [...finalCarries, ...finalCaptures, ...scanOutputs],
    attributes,
  });
});
