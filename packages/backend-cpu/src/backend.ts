import { AttnError, BackendError, ShapeEnv, getOp, type Backend, type CompileOptions, type Graph, type Node, type Tensor } from "@attn/core";
import { CpuExecutable, Executor, locate } from "./executor.js";
import type { KernelContext } from "./kernel.js";
import { getKernel, supports, supportedOps } from "./registry.js";

/**
 * The reference CPU backend: float32 kernels for every op of the IR catalogue (docs/ir.md), computed in
 * double where it is cheap (sums, dot products, softmax), run node by node over host tensors.
 */
export class CpuBackend implements Backend {
  readonly name = "cpu";

  supports(op: string): boolean {
    return supports(op);
  }

  /** The ops this backend implements, sorted. */
  ops(): string[] {
    return supportedOps();
  }

  /**
   * Checks every node (scan bodies included) against the kernel registry, binds the parameters and
   * plans the run. Rejects with a BackendError naming an unsupported op and its `.attn` span, or a
   * missing or mis-shaped parameter.
   */
  async compile(graph: Graph, opts?: CompileOptions): Promise<CpuExecutable> {
    return this.compileSync(graph, opts);
  }

  /** `compile`, synchronously. */
  compileSync(graph: Graph, opts?: CompileOptions): CpuExecutable {
    return new CpuExecutable(graph, opts?.params ?? new Map());
  }

  /**
   * Evaluates one node on host tensors (core's constant folding). `inputs` holds the node's present
   * inputs in order. Returns `[]` (leave the node unfolded) when the node cannot be evaluated without the
   * feeds, e.g. a reshape to `[B, 4]` whose `B` only the feeds bind, and also on any other attn error: a
   * node that really is wrong then fails at run time, where the error carries the run's bindings and the
   * node's span. Errors that are not attn errors (bugs) propagate.
   */
  evaluateNode(node: Node, inputs: readonly Tensor[]): Tensor[] {
    const kernel = getKernel(node.op);
    if (!kernel) throw new BackendError(`the cpu backend has no kernel for op "${node.op}"`, node.span);
    let next = 0;
    const ins = inputs.length === node.inputs.length ? [...inputs] : node.inputs.map((id) => (id === null ? null : (inputs[next++] ?? null)));
    const specs = getOp(node.op).inputs;
    const variadic = specs.findIndex((s) => s.variadic);
    const inputNames = ins.map((_, i) => specs[variadic >= 0 && i >= variadic ? variadic : i]?.name ?? null);
    const executor = new Executor(new Map());
    const env = new ShapeEnv();
    const ctx: KernelContext = {
      op: node.op,
      env,
      inputNames,
      runGraph: (body, bodyInputs) => {
        const plan = executor.plan(body);
        return executor.execute(plan, bodyInputs, plan.allOutputs, env);
      },
    };
    try {
      return kernel(ins, node.attrs, ctx);
    } catch (e) {
      if (e instanceof AttnError) return [];
      throw locate(e, node);
    }
  }
}

/** A new CPU backend. */
export function createCpuBackend(): CpuBackend {
  return new CpuBackend();
}
