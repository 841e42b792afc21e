import { GraphError } from "../../errors.js";
import type { Graph, ValueId } from "../../ir/graph.js";
import { inlineGraph } from "../../ir/inline.js";
import type { TensorType } from "../../types.js";
import { buildGradientGraph, gradName } from "../backward.js";
import type { GradContext } from "../grad-context.js";
import { registerGrad } from "../grad-registry.js";

interface ScanAttrs {
  body: Graph;
  numCarries: number;
  numSequences: number;
  length: number | string | null;
  reverse: boolean;
  saveCarries: boolean;
}

/**
 * A stacked per-step tensor [B, T, ...] (or [T] for a scalar per step) used as a sequence of the reverse
 * scan. Sequences need rank ≥ 2, so a [T] stack is read as [1, T] and each step's [1] slice is turned
 * back into a scalar inside the body.
 */
interface SeqOperand {
  readonly value: ValueId;
  /** The per-step type the body works with. */
  readonly step: TensorType;
  readonly scalar: boolean;
}

function seqOperand(g: GradContext, stacked: ValueId): SeqOperand {
  const t = g.typeOf(stacked);
  if (t.shape.length === 1) return { value: g.add1("unsqueeze", [stacked], { axes: [0] }), step: { dtype: t.dtype, shape: [] }, scalar: true };
  return { value: stacked, step: { dtype: t.dtype, shape: t.shape.filter((_, i) => i !== 1) }, scalar: false };
}

/**
 * The gradient of `scan` is a scan running the other way whose body is the vector-Jacobian product of
 * the forward body:
 *
 * - carries: d(carry) for each float carry (starting from the final carries' gradient, or zeros), then
 *   one accumulator per float capture (captures are read at every step — parameters included — so their
 *   gradients add up over the steps);
 * - sequences: each step's incoming carries (saved by the forward scan, `saveCarries`), the forward
 *   sequences, the upstream gradients of the per-step outputs that have one, and of the saved carries
 *   when something reads those;
 * - captures: the forward captures.
 *
 * Each step replays the forward body from its saved carries (recomputing its intermediates) and
 * back-propagates through it; the per-step outputs are the sequences' gradients. The VJP body is
 * `buildGradientGraph` of the forward body, inlined into a wrapper with the reverse scan's input order,
 * so a scan nested in the body is differentiated by this same function.
 */
registerGrad("scan", (g, node, dys) => {
  const a = node.attrs as unknown as ScanAttrs;
  const body = a.body;
  const nc = a.numCarries;
  const ns = a.numSequences;
  const nOut = body.outputs.length;
  if (!a.saveCarries || node.outputs.length !== nOut + nc) throw new GraphError("the gradient of scan needs the per-step carries: the forward scan must run with saveCarries");
  const carries = node.inputs.slice(0, nc) as ValueId[];
  const seqs = node.inputs.slice(nc, nc + ns) as ValueId[];
  const caps = node.inputs.slice(nc + ns) as ValueId[];
  const isFloat = (v: ValueId) => g.typeOf(v).dtype === "float32";
  const inName = (i: number) => body.values[body.inputs[i]].name;
  const outName = (i: number) => body.outputs[i].name;

  const fCarries = carries.map((_, i) => i).filter((i) => isFloat(carries[i]));
  const fSeqs = seqs.map((_, i) => i).filter((i) => isFloat(seqs[i]));
  const fCaps = caps.map((_, i) => i).filter((i) => isFloat(caps[i]));
  const dYields = [...Array(nOut - nc).keys()].filter((j) => dys[nc + j] !== null);
  const dSaved = fCarries.filter((i) => (dys[nOut + i] ?? null) !== null);

  // The forward body's VJP: seeds are the new carries and the yields that receive gradient.
  const seeds: Record<string, "input"> = {};
  for (const i of fCarries) seeds[outName(i)] = "input";
  for (const j of dYields) seeds[outName(nc + j)] = "input";
  const wrt = [...fCarries.map(inName), ...fSeqs.map((i) => inName(nc + i)), ...fCaps.map((i) => inName(nc + ns + i))];
  const vjp = buildGradientGraph(body, { seeds, params: [], inputs: wrt });

  // Operands of the reverse scan, and the wrapper body's matching inputs.
  const savedSeqs = node.outputs.slice(nOut).map((v) => seqOperand(g, v));
  const fwdSeqs = seqs.map((v) => seqOperand(g, v));
  const dySeqs = dYields.map((j) => seqOperand(g, dys[nc + j]!));
  const dSavedSeqs = dSaved.map((i) => seqOperand(g, dys[nOut + i]!));

  const w = g.b.subgraph(`${body.name}_vjp`);
  const slice = (s: SeqOperand, name: string) => {
    const id = w.input(name, s.scalar ? { dtype: s.step.dtype, shape: [1] } : s.step);
    return s.scalar ? w.add1("reshape", [id], { shape: [] }) : id;
  };
  const dcIn = fCarries.map((i) => w.input(gradName(inName(i)), g.typeOf(carries[i])));
  const accIn = fCaps.map((i) => w.input(`acc:${inName(nc + ns + i)}`, g.typeOf(caps[i])));
  const savedIn = savedSeqs.map((s, i) => slice(s, inName(i)));
  const seqIn = fwdSeqs.map((s, i) => slice(s, inName(nc + i)));
  const dyIn = dySeqs.map((s, k) => slice(s, gradName(outName(nc + dYields[k]))));
  const dSavedIn = dSavedSeqs.map((s, k) => slice(s, `saved:${gradName(inName(dSaved[k]))}`));
  const capIn = caps.map((c, i) => w.input(inName(nc + ns + i), g.typeOf(c)));

  const byName = new Map<string, ValueId>();
  [...savedIn, ...seqIn, ...capIn].forEach((id, i) => byName.set(inName(i), id));
  fCarries.forEach((i, k) => byName.set(gradName(outName(i)), dcIn[k]));
  dYields.forEach((j, k) => byName.set(gradName(outName(nc + j)), dyIn[k]));
  const vjpOut = inlineGraph(w, vjp, vjp.inputs.map((id) => {
    const v = byName.get(vjp.values[id].name);
    if (v === undefined) throw new GraphError(`scan gradient: no operand for input "${vjp.values[id].name}" of ${vjp.name}`);
    return v;
  }));
  const gradOf = (i: number) => vjpOut[vjp.outputs.findIndex((o) => o.name === gradName(inName(i)))];

  fCarries.forEach((i) => {
    const k = dSaved.indexOf(i);
    w.output(gradName(inName(i)), k < 0 ? gradOf(i) : w.add1("add", [gradOf(i), dSavedIn[k]]));
  });
  fCaps.forEach((i, k) => w.output(`acc:${inName(nc + ns + i)}`, w.add1("add", [accIn[k], gradOf(nc + ns + i)])));
  fSeqs.forEach((i) => w.output(gradName(inName(nc + i)), gradOf(nc + i)));
  const wrapper = w.build();

  const operands = [
    ...fCarries.map((i) => dys[i] ?? g.zerosLike(carries[i])),
    ...fCaps.map((i) => g.zerosLike(caps[i])),
    ...[...savedSeqs, ...fwdSeqs, ...dySeqs, ...dSavedSeqs].map((s) => s.value),
    ...caps,
  ];
  const outs = g.add("scan", operands, {
    body: wrapper,
    numCarries: fCarries.length + fCaps.length,
    numSequences: savedSeqs.length + fwdSeqs.length + dySeqs.length + dSavedSeqs.length,
    length: a.length,
    reverse: !a.reverse,
  });

  const grads = new Array<ValueId | null>(node.inputs.length).fill(null);
  fCarries.forEach((i, k) => (grads[i] = outs[k]));
  fCaps.forEach((i, k) => (grads[nc + ns + i] = outs[fCarries.length + k]));
  fSeqs.forEach((i, k) => (grads[nc + i] = outs[fCarries.length + fCaps.length + k]));
  return grads;
});
