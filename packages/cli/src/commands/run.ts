import { Session, writeSafetensors, type Backend, type Graph, type Tensor } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { createOnnxBackend } from "@attn/backend-onnx";
import { createWebGpuBackend } from "@attn/backend-webgpu";
import { compileOrFail, type CompileFlags } from "../compile.js";
import { CliError, loadInputs, loadWeights, writeFileAtomic } from "../io.js";
import { describeTensor } from "../format.js";

/**
 * Backends this CLI build can run on. `threads` (the onnx backends only) caps onnxruntime's threads, so that
 * two trainings can share a machine's cores without fighting over them.
 */
export function backendByName(name: string, threads?: number): Backend {
  if (threads !== undefined && name !== "onnx" && name !== "onnx-web") throw new CliError(`--threads applies to the onnx and onnx-web backends, not "${name}"`);
  const numThreads = threads !== undefined ? { numThreads: threads } : {};
  if (name === "cpu") return createCpuBackend();
  if (name === "onnx") return createOnnxBackend({ runtime: "node", ...numThreads });
  if (name === "onnx-web") return createOnnxBackend({ runtime: "web", ...numThreads });
  if (name === "webgpu") return createWebGpuBackend();
  throw new CliError(`unknown backend "${name}" (available: cpu, onnx, onnx-web, webgpu)`);
}

/** What running a model once needs: the flags `attn run` and `attn viz attention` share. */
export interface ModelRunFlags extends CompileFlags {
  weights?: string;
  inputs?: string;
  backend: string;
  seed: number;
}

export interface RunFlags extends ModelRunFlags {
  weightsOut?: string;
  json: boolean;
}

/**
 * Compiles FILE, loads the weights (noting on `err` when parameters come from the seed instead) and the
 * inputs, and opens a Session on the chosen backend: the steps every command that runs a model shares.
 * `command` names the caller in the message for a missing --inputs. The caller disposes the session.
 */
export async function openSession(path: string, opts: ModelRunFlags, err: (s: string) => void, command = "attn run"): Promise<{ graph: Graph; session: Session; feeds: Record<string, Tensor> }> {
  const { graph } = await compileOrFail(path, opts);
  if (!opts.inputs) throw new CliError(`${command} needs --inputs FILE.json (a JSON object of input name → nested array)`);
  const weights = opts.weights ? await loadWeights(opts.weights) : new Map<string, Tensor>();
  if (!opts.weights && graph.params.length) err(`note: no --weights given; parameters are initialised from seed ${opts.seed}`);
  const feeds = await loadInputs(opts.inputs, graph);
  const session = await Session.create(graph, backendByName(opts.backend), { weights, seed: opts.seed, source: opts.weights });
  return { graph, session, feeds };
}

/** `attn run FILE --inputs X.json [--weights W.safetensors]`: prints the outputs and the named attention weights. */
export async function run(path: string, opts: RunFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const { graph, session, feeds } = await openSession(path, opts, err);
  try {
    const results = await session.run(feeds);
    if (opts.weightsOut) {
      await writeFileAtomic(opts.weightsOut, writeSafetensors(await session.readParams(), { format: "pt", producer: "attn" }));
      err(`wrote ${graph.params.length} parameter tensors to ${opts.weightsOut}`);
    }
    const roles = new Map(graph.outputs.map((o) => [o.name, o.role]));
    if (opts.json) {
      out(JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: Array.from(t.data) }])), null, 2));
      return 0;
    }
    const plain = Object.entries(results).filter(([k]) => roles.get(k) !== "attention");
    const attn = Object.entries(results).filter(([k]) => roles.get(k) === "attention");
    for (const [k, t] of plain) out(describeTensor(k, t));
    if (attn.length) {
      out("\nattention weights:");
      for (const [k, t] of attn) out(describeTensor(k, t));
    }
    return 0;
  } finally {
    session.dispose();
  }
}
