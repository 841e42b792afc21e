import { GraphBuilder, Session, readSafetensors, type Backend, type Graph, type Tensor } from "@attn/core";
import { compileSource } from "@attn/dsl";
import type { ConformanceCase, ModelCase, OpCase } from "./cases.js";
import { compareTensors, DEFAULT_TOLERANCE } from "./compare.js";
import { decodeTensor } from "./tensor-json.js";

/** Where a case's files (safetensors weights) come from; Node reads the fixtures folder. */
export type FileReader = (name: string) => Promise<Uint8Array>;

/** The outcome of one case: failures lists every output that differed. */
export interface CaseResult {
  readonly name: string;
  readonly failures: readonly string[];
}

/** Builds the one-node graph an op case describes (inputs in0…, outputs out0…). */
export function opCaseGraph(c: OpCase): Graph {
  const b = new GraphBuilder(c.name);
  const ids = c.inputs.map((t, i) => (t === null ? null : b.input(`in${i}`, { dtype: t.dtype as Tensor["dtype"], shape: t.shape })));
  const outs = b.add(c.op, ids, c.attrs as never);
  outs.forEach((id, i) => b.output(`out${i}`, id));
  return b.build();
}

async function runOp(backend: Backend, c: OpCase): Promise<Record<string, Tensor>> {
  const graph = opCaseGraph(c);
  const exe = await backend.compile(graph, { params: new Map() });
  try {
    const feeds: Record<string, Tensor> = {};
    c.inputs.forEach((t, i) => {
      if (t) feeds[`in${i}`] = decodeTensor(t, `${c.name} input ${i}`);
    });
    return await exe.run(feeds);
  } finally {
    exe.dispose();
  }
}

/** Lowers a model case's `.attn` source; diagnostics become one error with every message. */
export async function modelCaseGraph(c: ModelCase): Promise<Graph> {
  const res = await compileSource(c.source, { file: `${c.name}.attn`, model: c.model, hyper: c.hyper });
  if (!res.graph) throw new Error(`${c.name}: the .attn source does not compile:\n${res.diagnostics.map((d) => d.message).join("\n")}`);
  return res.graph;
}

async function runModel(backend: Backend, c: ModelCase, readFile: FileReader | undefined, optimize: boolean): Promise<Record<string, Tensor>> {
  const graph = await modelCaseGraph(c);
  let weights: Map<string, Tensor>;
  if (c.weightsFile) {
    if (!readFile) throw new Error(`${c.name}: needs a file reader for ${c.weightsFile}`);
    weights = readSafetensors(await readFile(c.weightsFile), c.weightsFile).tensors;
  } else {
    weights = new Map(Object.entries(c.weights ?? {}).map(([k, t]) => [k, decodeTensor(t, `${c.name} weight ${k}`)]));
  }
  const session = await Session.create(graph, backend, { weights, requireAll: true, optimize, source: c.weightsFile ?? `${c.name} weights` });
  try {
    const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, t]) => [k, decodeTensor(t, `${c.name} input ${k}`)]));
    return await session.run(feeds, { outputs: Object.keys(c.outputs) });
  } finally {
    session.dispose();
  }
}

/**
 * Runs one case on a backend and compares every expected output. Model cases run twice: as lowered and
 * after the optimisation passes (attention fusion), so both forms are held to the same numbers.
 */
export async function runCase(backend: Backend, c: ConformanceCase, readFile?: FileReader): Promise<CaseResult> {
  const tol = c.tolerance ?? DEFAULT_TOLERANCE;
  const failures: string[] = [];
  const expected =
    c.kind === "op"
      ? Object.fromEntries(c.outputs.map((t, i) => [`out${i}`, decodeTensor(t, `${c.name} output ${i}`)]))
      : Object.fromEntries(Object.entries(c.outputs).map(([k, t]) => [k, decodeTensor(t, `${c.name} output ${k}`)]));
  const runs: [string, Promise<Record<string, Tensor>>][] =
    c.kind === "op"
      ? [["", runOp(backend, c)]]
      : [
          ["(as lowered) ", runModel(backend, c, readFile, false)],
          ["(optimised) ", runModel(backend, c, readFile, true)],
        ];
  for (const [label, pending] of runs) {
    const got = await pending;
    for (const [k, want] of Object.entries(expected)) {
      const g = got[k];
      const diff = g ? compareTensors(g, want, tol) : "missing from the results";
      if (diff) failures.push(`${label}${k}: ${diff}`);
    }
  }
  return { name: c.name, failures };
}
