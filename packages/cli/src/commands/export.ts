import { readFile } from "node:fs/promises";
import { AttnError, bindParams, graphFromJson, optimize, type Graph, type Tensor } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { exportModel } from "@attn/backend-onnx";
import { compileOrFail, type CompileFlags } from "../compile.js";
import { CliError, loadWeights, writeFileAtomic } from "../io.js";

export interface ExportFlags extends CompileFlags {
  weights?: string;
  out?: string;
  opset?: string;
  seed: number;
}

/**
 * `attn export FILE [--weights W] -o model.onnx [--opset 17|23]`: the model's inference graph (after the
 * optimisation passes) as a standard ONNX file, parameters as initializers. FILE is a `.attn` source or an IR
 * JSON dump (`attn graph --format json`). Without --weights, parameters are initialised from the seed.
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
    result = exportModel(optimized, { opset, params, producer: "attn export" });
  } catch (e) {
    if (e instanceof AttnError) throw new CliError(e.message);
    throw e;
  }
  await writeFileAtomic(opts.out, result.bytes);
  out(`wrote ${opts.out} (ONNX opset ${opset}, ${result.bytes.length} bytes): inputs ${result.inputNames.join(", ")}; outputs ${result.outputNames.join(", ")}`);
  return 0;
}
