import {
  GraphBuilder, Session, bindParams, buildGradientGraph, gradName, optimize, readSafetensors, validateGraph,
  type Backend, type Graph, type Tensor,
} from "@attn/core";
import { compileSource } from "@attn/dsl";
import type { ConformanceCase, ModelCase, OpCase } from "./cases.js";
import { compareTensors, DEFAULT_TOLERANCE } from "./compare.js";
import { decodeTensor } from "./tensor-json.js";

/** Where a case's files (safetensors weights) come from; Node reads the fixtures folder. */
export type FileReader = (name: string) => Promise<Uint8Array>;

/** The outcome of one case: failures lists every output and gradient that differed. */
export interface CaseResult {
  readonly name: string;
  readonly failures: readonly string[];
  /** How many gradient tensors were compared (0 when the case has none or they were skipped). */
  readonly gradientsChecked: number;
}

/** Options of `runCase`. */
export interface RunCaseOptions {
  /** Also check the case's gradients, when it has some (default true). */
  readonly gradients?: boolean;
}

/** Builds the one-node graph an op case describes (inputs in0…, outputs out0…). */
export function opCaseGraph(c: OpCase): Graph {
  const b = new GraphBuilder(c.name);
  const ids = c.inputs.map((t, i) => (t === null ? null : b.input(`in${i}`, { dtype: t.dtype as Tensor["dtype"], shape: t.shape })));
  const outs = b.add(c.op, ids, c.attrs as never);
  outs.forEach((id, i) => b.output(`out${i}`, id));
  return b.build();
}

function opFeeds(c: OpCase): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  c.inputs.forEach((t, i) => {
    if (t) feeds[`in${i}`] = decodeTensor(t, `${c.name} input ${i}`);
  });
  return feeds;
}

async function runCompiled(backend: Backend, graph: Graph, params: ReadonlyMap<string, Tensor>, feeds: Record<string, Tensor>, outputs?: string[]): Promise<Record<string, Tensor>> {
  const exe = await backend.compile(graph, { params });
  try {
    return await exe.run(feeds, outputs ? { outputs } : undefined);
  } finally {
    exe.dispose();
  }
}

async function runOp(backend: Backend, c: OpCase): Promise<Record<string, Tensor>> {
  return runCompiled(backend, opCaseGraph(c), new Map(), opFeeds(c));
}

/**
 * The gradients of an op case: every output with an upstream gradient is seeded with it (graph input
 * `grad:outᵢ`), and the result holds `grad:inᵢ` for every input the fixture has a gradient for.
 */
async function runOpGrad(backend: Backend, c: OpCase): Promise<Record<string, Tensor>> {
  const grad = c.grad!;
  const wrt = grad.inputs.flatMap((g, i) => (g ? [`in${i}`] : []));
  const graph = opCaseGradientGraph(c);
  const feeds = opFeeds(c);
  grad.upstream.forEach((u, i) => {
    if (u) feeds[gradName(`out${i}`)] = decodeTensor(u, `${c.name} upstream gradient ${i}`);
  });
  return runCompiled(backend, graph, new Map(), feeds, wrt.map(gradName));
}

/** The backward graph the harness runs for an op case with gradients (outputs `grad:inᵢ`). */
export function opCaseGradientGraph(c: OpCase): Graph {
  const grad = c.grad!;
  const seeds = Object.fromEntries(grad.upstream.flatMap((u, i) => (u ? [[`out${i}`, "input" as const]] : [])));
  const wrt = grad.inputs.flatMap((g, i) => (g ? [`in${i}`] : []));
  return buildGradientGraph(opCaseGraph(c), { seeds, params: [], inputs: wrt });
}

/**
 * The backward graph the harness runs for a model case with gradients: of the lowered graph, or (with
 * `forward` given) of that already-optimised forward graph.
 */
export function modelCaseGradientGraph(c: ModelCase, forward: Graph): Graph {
  const grad = c.grad!;
  const seeds = Object.fromEntries(Object.keys(grad.upstream).map((k) => [k, "input" as const]));
  return buildGradientGraph(forward, { seeds, params: Object.keys(grad.params ?? {}), inputs: Object.keys(grad.inputs ?? {}) });
}

/** Lowers a model case's `.attn` source; diagnostics become one error with every message. */
export async function modelCaseGraph(c: ModelCase): Promise<Graph> {
  const res = await compileSource(c.source, { file: `${c.name}.attn`, model: c.model, hyper: c.hyper });
  if (!res.graph) throw new Error(`${c.name}: the .attn source does not compile:\n${res.diagnostics.map((d) => d.message).join("\n")}`);
  return res.graph;
}

async function modelWeights(c: ModelCase, readFile: FileReader | undefined): Promise<Map<string, Tensor>> {
  if (c.weightsFile) {
    if (!readFile) throw new Error(`${c.name}: needs a file reader for ${c.weightsFile}`);
    return readSafetensors(await readFile(c.weightsFile), c.weightsFile).tensors;
  }
  return new Map(Object.entries(c.weights ?? {}).map(([k, t]) => [k, decodeTensor(t, `${c.name} weight ${k}`)]));
}

const modelFeeds = (c: ModelCase) => Object.fromEntries(Object.entries(c.inputs).map(([k, t]) => [k, decodeTensor(t, `${c.name} input ${k}`)]));

async function runModel(backend: Backend, c: ModelCase, readFile: FileReader | undefined, optimized: boolean): Promise<Record<string, Tensor>> {
  const graph = await modelCaseGraph(c);
  const weights = await modelWeights(c, readFile);
  const session = await Session.create(graph, backend, { weights, requireAll: true, optimize: optimized, source: c.weightsFile ?? `${c.name} weights` });
  try {
    return await session.run(modelFeeds(c), { outputs: Object.keys(c.outputs) });
  } finally {
    session.dispose();
  }
}

/**
 * The gradients of a model case w.r.t. its parameters and the listed float inputs, every upstream
 * gradient fed as `grad:<output>`. With `optimized`, the passes run before differentiation, so the
 * backward graph differentiates the fused forms (the attention op's own gradient).
 */
async function runModelGrad(backend: Backend, c: ModelCase, readFile: FileReader | undefined, optimized: boolean): Promise<Record<string, Tensor>> {
  const grad = c.grad!;
  const lowered = await modelCaseGraph(c);
  validateGraph(lowered);
  const forward = optimized ? optimize(lowered, { evaluate: backend.evaluateNode?.bind(backend) }) : lowered;
  const params = Object.keys(grad.params ?? {});
  const inputs = Object.keys(grad.inputs ?? {});
  const graph = modelCaseGradientGraph(c, forward);
  const bound = bindParams(forward, await modelWeights(c, readFile), { requireAll: true, source: c.weightsFile ?? `${c.name} weights` });
  const feeds = modelFeeds(c);
  for (const [k, t] of Object.entries(grad.upstream)) feeds[gradName(k)] = decodeTensor(t, `${c.name} upstream gradient ${k}`);
  return runCompiled(backend, graph, bound, feeds, [...params, ...inputs].map(gradName));
}

/** The expected gradients of a case, by gradient output name (`grad:in0`, `grad:encoder.rnn.weight_ih_l0`). */
function expectedGradients(c: ConformanceCase): Record<string, Tensor> {
  if (!c.grad) return {};
  if (c.kind === "op") {
    return Object.fromEntries(c.grad.inputs.flatMap((t, i) => (t ? [[gradName(`in${i}`), decodeTensor(t, `${c.name} gradient of input ${i}`)]] : [])));
  }
  const named = { ...c.grad.params, ...c.grad.inputs };
  return Object.fromEntries(Object.entries(named).map(([k, t]) => [gradName(k), decodeTensor(t, `${c.name} gradient of ${k}`)]));
}

/**
 * Runs one case on a backend and compares every expected output, then (unless `opts.gradients` is false)
 * every expected gradient: the backward graph of core's autodiff runs on the same backend. Model cases
 * run twice: as lowered and after the optimisation passes (attention fusion), so both forms, and both
 * forms' gradients, are held to the same numbers. Failures name the output or gradient (`grad:<name>`).
 */
export async function runCase(backend: Backend, c: ConformanceCase, readFile?: FileReader, opts: RunCaseOptions = {}): Promise<CaseResult> {
  const tol = c.tolerance ?? DEFAULT_TOLERANCE;
  const failures: string[] = [];
  const check = (label: string, got: Record<string, Tensor>, expected: Record<string, Tensor>) => {
    for (const [k, want] of Object.entries(expected)) {
      const g = got[k];
      const diff = g ? compareTensors(g, want, tol) : "missing from the results";
      if (diff) failures.push(`${label}${k}: ${diff}`);
    }
  };
  const expected =
    c.kind === "op"
      ? Object.fromEntries(c.outputs.map((t, i) => [`out${i}`, decodeTensor(t, `${c.name} output ${i}`)]))
      : Object.fromEntries(Object.entries(c.outputs).map(([k, t]) => [k, decodeTensor(t, `${c.name} output ${k}`)]));
  const forms: [string, boolean][] = c.kind === "op" ? [["", false]] : [["(as lowered) ", false], ["(optimised) ", true]];
  for (const [label, optimized] of forms) {
    check(label, await (c.kind === "op" ? runOp(backend, c) : runModel(backend, c, readFile, optimized)), expected);
  }
  const wantGrads = opts.gradients === false ? {} : expectedGradients(c);
  const n = Object.keys(wantGrads).length;
  if (n > 0) {
    for (const [label, optimized] of forms) {
      let got: Record<string, Tensor>;
      try {
        got = await (c.kind === "op" ? runOpGrad(backend, c) : runModelGrad(backend, c, readFile, optimized));
      } catch (e) {
        failures.push(`${label}gradients: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      check(label, got, wantGrads);
    }
  }
  return { name: c.name, failures, gradientsChecked: n * forms.length };
}
