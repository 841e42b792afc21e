import type { Backend, Executable, RunOptions } from "../backend.js";
import type { Graph } from "../ir/graph.js";
import { optimize } from "../passes/optimize.js";
import { validateGraph } from "../ir/validate.js";
import { bindParams, type BindParamsOptions } from "../weights/bind-params.js";
import type { Tensor } from "../tensor.js";

export interface SessionOptions extends BindParamsOptions {
  /** Loaded weights by full parameter name; the rest are initialised from `seed`. */
  weights?: ReadonlyMap<string, Tensor>;
  /** Run the optimisation passes first (default true). */
  optimize?: boolean;
}

/**
 * Inference on any backend: validates the graph, binds parameters (loaded or seeded), optimises and
 * compiles once, then runs feeds.
 */
export class Session {
  private constructor(
    readonly graph: Graph,
    readonly backend: Backend,
    private readonly exe: Executable,
  ) {}

  static async create(graph: Graph, backend: Backend, opts: SessionOptions = {}): Promise<Session> {
    validateGraph(graph);
    const params = bindParams(graph, opts.weights, opts);
    const plan = opts.optimize === false ? graph : optimize(graph, { evaluate: backend.evaluateNode?.bind(backend) });
    const exe = await backend.compile(plan, { params });
    return new Session(graph, backend, exe);
  }

  /** Runs the graph; returns the requested outputs (all by default) by name. */
  run(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Promise<Record<string, Tensor>> {
    return this.exe.run(feeds, opts);
  }

  readParams(): Promise<Map<string, Tensor>> {
    return this.exe.readParams();
  }

  dispose(): void {
    this.exe.dispose();
  }
}
