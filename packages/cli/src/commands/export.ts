import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { AttnError, bindParams, graphFromJson, optimize, type Graph, type Tensor } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { exportModel } from "@attn/backend-onnx";
import { compileOrFail, type CompileFlags } from "../compile.js";
import { CliError, loadWeights, writeFileAtomic } from "../io.js";

export interface ExportFlags extends CompileFlags {
  weights?: string;
  out?: string;
  opset?: string;
  /** Store large initializers (over 1 KiB) in `<out>.data` next to the model (ONNX external data). */
  externalData?: boolean;
  seed: number;
}

/**
 * `attn export FILE [--weights W] -o model.onnx [--opset 17|23] [--external-data]`: the model's inference
 * graph (after the optimisation passes) as a standard ONNX file, parameters as initializers. FILE is a `.attn`
 * source or an IR JSON dump (`attn graph --format json`). Without --weights, parameters are initialised from
 * the seed. With --external-data, initializers over 1 KiB go to `model.onnx.data` beside the model (named
 * after `-o`; the model refers to it by that relative name, so keep the two files together).
 */
export async function exportCommand(path: string, opts: ExportFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (!opts.out) throw new CliError("attn export needs -o FILE.onnx");
  const opset = opts.opset === undefined ? 17 : Number(opts.opset);
  if (opset !== 17 && opset !== 23) throw new CliError(`--opset must be 17 or 23, got "${opts.opset}"`);
  let graph: Graph;
  if (path.endsWith(".json")) {
    try {
      graph = graphFromJson(await readFile(path, "utf8"));
    } catch (e) {
      throw new CliError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else {
    graph = (await compileOrFail(path, opts)).graph;
  }
  const weights = opts.weights ? await loadWeights(opts.weights) : new Map<string, Tensor>();
  if (!opts.weights && graph.params.length) err(`note: no --weights given; parameters are initialised from seed ${opts.seed}`);
  const params = bindParams(graph, weights, { seed: opts.seed, source: opts.weights });
  const cpu = createCpuBackend();
  const optimized = optimize(graph, { evaluate: cpu.evaluateNode.bind(cpu) });
  let result;
  try {
    result = exportModel(optimized, { opset, params, producer: "attn export", externalData: opts.externalData ? `${basename(opts.out)}.data` : undefined });
  } catch (e) {
    if (e instanceof AttnError) throw new CliError(e.message);
    throw e;
  }
  // The data file first: a model on disk never refers to a data file that is not there yet.
  const ext = result.externalData?.bytes.length ? result.externalData : undefined;
  if (ext) await writeFileAtomic(join(dirname(opts.out), ext.location), ext.bytes);
  await writeFileAtomic(opts.out, result.bytes);
  const data = ext ? ` + ${join(dirname(opts.out), ext.location)} (${ext.bytes.length} bytes of external data)` : "";
  out(`wrote ${opts.out} (ONNX opset ${opset}, ${result.bytes.length} bytes)${data}: inputs ${result.inputNames.join(", ")}; outputs ${result.outputNames.join(", ")}`);
  return 0;
}
