/**
 * Recording a graph's nodes into one command encoder, shared by a run's top graph and by scan bodies.
 *
 * A run never reads back before it finishes, so a scan body is recorded once per iteration into the
 * same encoder as everything else: sizes come from the shape env, and the pool hands out a released
 * buffer only to later dispatches in encoder order, so releasing right after recording a value's last
 * reader is safe. Each body's liveness is planned once (bodies always compute all their outputs).
 */
import { AttnError, BackendError, isGraph, planLiveness, type Graph, type Node, type SourceSpan, type ValueId } from "@attn/core";
import type { GpuTensor } from "./buffers.js";
import type { CheckChannel } from "./checks.js";
import type { Kernel, KernelContext } from "./kernel.js";
import { getKernel } from "./registry.js";

/** One node of a schedule, with the values that die after it. */
export interface Step {
  readonly node: Node;
  readonly kernel: Kernel;
  /** Values whose last reader is this node (or that nobody reads): back to the pool after it. */
  readonly release: readonly ValueId[];
  /** Per node output: whether a later step reads it or the run requests it. */
  readonly used: readonly boolean[];
  /** Graph names of the node's inputs (null for an absent optional one), for data-check messages. */
  readonly inputNames: readonly (string | null)[];
}

/** What recording needs besides the values: the run's context without a node's op (and without what recording provides per node). */
export interface RecordContext extends Omit<KernelContext, "op" | "runGraph" | "outputUsed" | "inputNames" | "check"> {
  /** Resident parameters by name: a body declaring its own parameters binds them from here. */
  readonly paramsByName: ReadonlyMap<string, GpuTensor>;
  /** The run's status channel: data checks register their slots here. */
  readonly checks: CheckChannel;
  /** The scan nodes whose bodies are being recorded, innermost first (empty at the top graph). */
  readonly enclosing?: readonly Node[];
}

/** Attaches `node`'s op and `.attn` span to an error raised while recording it (an error with a span, e.g. from inside a scan body, is kept). */
export function locate(e: unknown, node: Node): Error {
  if (e instanceof AttnError) {
    if (e.span) return e;
    const Ctor = e.constructor as new (message: string, span?: SourceSpan) => AttnError;
    return new Ctor(e.detail.startsWith(`${node.op}`) ? e.detail : `${node.op}: ${e.detail}`, node.span);
  }
  const err = new BackendError(`${node.op}: ${e instanceof Error ? e.message : String(e)}`, node.span);
  Object.defineProperty(err, "cause", { value: e, enumerable: false });
  return err;
}

/** `graph`'s nodes and, recursively, those of its subgraphs (scan bodies). */
export function allNodes(graph: Graph): Node[] {
  const out: Node[] = [];
  for (const node of graph.nodes) {
    out.push(node);
    for (const v of Object.values(node.attrs)) if (isGraph(v)) out.push(...allNodes(v));
  }
  return out;
}

/** The first node of `graph` or of a subgraph whose op has no WGSL kernel, with the graph holding it. */
export function firstUnsupported(graph: Graph): { node: Node; graph: Graph } | undefined {
  for (const node of graph.nodes) {
    for (const v of Object.values(node.attrs)) {
      if (!isGraph(v)) continue;
      const inner = firstUnsupported(v);
      if (inner) return inner;
    }
    if (!getKernel(node.op)) return { node, graph };
  }
  return undefined;
}

/** The steps computing `outputs` of `graph`: only the nodes they need, each with the values that die after it. */
export function planSteps(graph: Graph, outputs: readonly ValueId[], resident: Iterable<ValueId>): Step[] {
  const planned = planLiveness(graph, outputs, resident);
  const read = new Set<ValueId>(outputs);
  for (const { node } of planned) for (const i of node.inputs) if (i !== null) read.add(i);
  const name = (id: ValueId | null) => (id === null ? null : (graph.values[id]?.name ?? `#${id}`));
  return planned.map(({ node, release }) => ({
    node, kernel: getKernel(node.op)!, release, used: node.outputs.map((o) => read.has(o)), inputNames: node.inputs.map(name),
  }));
}

/** Body plans, by body graph (a body always computes all its outputs, its parameters being resident). */
const bodyPlans = new WeakMap<Graph, Step[]>();

function bodyPlan(body: Graph): Step[] {
  let steps = bodyPlans.get(body);
  if (!steps) {
    steps = planSteps(body, body.outputs.map((o) => o.value), body.params.map((p) => p.value));
    bodyPlans.set(body, steps);
  }
  return steps;
}

/**
 * Records `steps` into `rc.encoder`, reading and writing `vals` (value id to device tensor): each node's
 * outputs are added, and each value is released to the pool right after its last reader is recorded.
 */
export function recordSteps(steps: readonly Step[], vals: Map<ValueId, GpuTensor>, rc: RecordContext): void {
  const enclosing = rc.enclosing ?? [];
  for (const step of steps) {
    const node = step.node;
    const ins = node.inputs.map((id) => (id === null ? null : vals.get(id)!));
    const ctx: KernelContext = {
      ...rc,
      op: node.op,
      // a body recorded for this node (a scan) reports its data errors through this node too
      runGraph: (body, inputs) => recordBody(body, inputs, { ...rc, enclosing: [node, ...enclosing] }),
      outputUsed: (i) => step.used[i] ?? true,
      inputNames: step.inputNames,
      check: (name, describe) => rc.checks.slot(name, [node, ...enclosing], describe),
    };
    let outs: GpuTensor[];
    try {
      outs = step.kernel(ins, node.attrs, ctx);
    } catch (e) {
      throw locate(e, node);
    }
    node.outputs.forEach((o, i) => vals.set(o, outs[i]));
    for (const id of step.release) {
      rc.pool.release(vals.get(id)!);
      vals.delete(id);
    }
  }
}

/**
 * Records one pass of a subgraph. The inputs (and parameters) stay the caller's; every output comes back
 * as one new reference (a view, so an output that is an input, a parameter or another output's value
 * is safe to release independently), and the body's own values are released.
 */
function recordBody(body: Graph, inputs: readonly GpuTensor[], rc: RecordContext): GpuTensor[] {
  if (inputs.length !== body.inputs.length) throw new BackendError(`${body.name} takes ${body.inputs.length} inputs, got ${inputs.length}`);
  const vals = new Map<ValueId, GpuTensor>();
  const borrowed = new Set<ValueId>(body.inputs);
  body.inputs.forEach((id, i) => vals.set(id, inputs[i]));
  for (const p of body.params) {
    const t = rc.paramsByName.get(p.name);
    if (!t) throw new BackendError(`${body.name} reads parameter "${p.name}", which the compiled graph does not bind`, p.span);
    vals.set(p.value, t);
    borrowed.add(p.value);
  }
  recordSteps(bodyPlan(body), vals, rc);
  const outs = body.outputs.map((o) => {
    const t = vals.get(o.value);
    if (!t) throw new BackendError(`${body.name}: output "${o.name}" was not computed (internal scheduling error)`);
    return t.view(t.shape);
  });
  for (const id of new Set(body.outputs.map((o) => o.value))) if (!borrowed.has(id)) rc.pool.release(vals.get(id)!);
  return outs;
}
