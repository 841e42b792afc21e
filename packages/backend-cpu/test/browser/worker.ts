/**
 * The dedicated Web Worker of the Chromium test (bundled by esbuild in `browser.test.ts`, started by
 * page.ts): the one place in a browser where `"wasm-simd-threads"` can run, since the calling thread
 * blocks in `Atomics.wait`. It runs shared conformance cases on that path (every call through the worker
 * threads) and larger attention and GEMM graphs with the default thresholds, bit for bit against
 * `"wasm-simd"`, and reports the pool's counters so the test can tell the workers really ran chunks.
 */
import { parseCases, runCase, type ConformanceCase } from "@attn/conformance/browser";
import { Tensor, type Attrs } from "@attn/core";
import { createCpuBackend, resolveKernels, threadsUnavailable, type CpuBackend } from "../../src/index.js";
import { lcgFloats, opGraph } from "../op-graph.js";

/** What the test asks the worker to run: fixture files (relative to the fixtures folder) and cases by name. */
export interface WorkerPlan {
  readonly files: readonly string[];
  readonly cases: readonly string[];
}

/** One conformance case's outcome. */
export interface CaseOutcome {
  readonly name: string;
  readonly failures: readonly string[];
  readonly gradientsChecked: number;
}

/** One graph run on both paths: whether every output matched bit for bit, and the chunks workers took for it. */
export interface Comparison {
  readonly name: string;
  readonly mismatches: readonly string[];
  readonly workerChunks: number;
}

/** A thread pool's counters after a backend's runs. */
export interface PoolCounters {
  readonly workers: number;
  readonly readyWorkers: number;
  readonly workerChunks: number;
}

/** The worker's report (or, where threads cannot run here, only why: `unavailable`). */
export interface WorkerReport {
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
  readonly unavailable: string | null;
  /** What `kernels: "auto"` resolves to in this worker. */
  readonly auto: string;
  /** The error of an explicit `"wasm-simd-threads"` request, when there was one. */
  readonly explicitError: string | null;
  readonly kernels?: string;
  readonly cases?: readonly CaseOutcome[];
  readonly conformancePool?: PoolCounters;
  readonly comparisons?: readonly Comparison[];
  readonly comparePool?: PoolCounters;
  /** The pool's counters right after the first `compile` of a fresh backend, before any run. */
  readonly afterCompile?: PoolCounters;
  /** Milliseconds that first `compile` took (it waits for the workers to serve). */
  readonly compileMs?: number;
  /** What a chunk that throws on a worker surfaced as on this thread (`name: message`). */
  readonly workerFault?: string;
}

const scope = globalThis as unknown as {
  crossOriginIsolated?: boolean;
  navigator: { hardwareConcurrency: number };
  onmessage: ((e: { data: WorkerPlan }) => void) | null;
  postMessage(m: unknown): void;
};

async function fetchOk(path: string): Promise<Response> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${r.statusText}`);
  return r;
}

const tensor = (shape: number[], seed: number) => new Tensor("float32", shape, lcgFloats(shape.reduce((a, b) => a * b, 1), seed));

/** Runs a one-node graph of `op` on `be`; the outputs' data. */
async function runNode(be: CpuBackend, op: string, inputs: readonly (Tensor | null)[], attrs: Attrs): Promise<Float32Array[]> {
  const { graph, feeds, outs } = opGraph(op, inputs, attrs);
  const res = await (await be.compile(graph, { params: new Map() })).run(feeds);
  return outs.map((o) => res[o].data as Float32Array);
}

const counters = (be: CpuBackend): PoolCounters => {
  const p = be.threadPool!;
  return { workers: p.workers, readyWorkers: p.readyWorkers, workerChunks: p.workerChunks };
};

async function run(plan: WorkerPlan): Promise<WorkerReport> {
  const unavailable = threadsUnavailable();
  const base = {
    crossOriginIsolated: scope.crossOriginIsolated === true,
    hardwareConcurrency: scope.navigator.hardwareConcurrency,
    unavailable,
    auto: resolveKernels("auto"),
  };
  let explicit: CpuBackend;
  try {
    explicit = createCpuBackend({ kernels: "wasm-simd-threads", threads: 2, threadMinFlops: 0, fuseSmallAttention: true });
  } catch (e) {
    return { ...base, explicitError: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }

  // Shared conformance cases, outputs and gradients, every GEMM and attention call through the threads.
  const byName = new Map<string, ConformanceCase>();
  for (const f of plan.files) for (const c of parseCases(await (await fetchOk(`/fixtures/${f}`)).json(), f)) byName.set(c.name, c);
  const readFile = async (name: string) => new Uint8Array(await (await fetchOk(`/fixtures/models/${name}`)).arrayBuffer());
  const cases: CaseOutcome[] = [];
  for (const name of plan.cases) {
    const c = byName.get(name);
    if (!c) {
      cases.push({ name, failures: [`no case named ${name}`], gradientsChecked: 0 });
      continue;
    }
    try {
      const r = await runCase(explicit, c, readFile);
      cases.push({ name, failures: r.failures, gradientsChecked: r.gradientsChecked });
    } catch (e) {
      cases.push({ name, failures: [`threw: ${e instanceof Error ? e.message : String(e)}`], gradientsChecked: 0 });
    }
  }
  const conformancePool = counters(explicit);
  await explicit.dispose();

  // Calls above the default threshold (2²³ flops) on a backend made as a user would, against "wasm-simd".
  const threads = createCpuBackend({ kernels: "wasm-simd-threads", threads: 2 });
  const simd = createCpuBackend({ kernels: "wasm-simd" });
  const x = tensor([1, 4, 256, 64], 1);
  const k = tensor([1, 4, 256, 64], 2);
  const v = tensor([1, 4, 256, 64], 3);
  const d = tensor([1, 4, 256, 64], 4);
  const big: [string, string, (Tensor | null)[], Attrs][] = [
    ["attention (4 heads, 256 × 256, d 64)", "attention", [x, k, v, null], { causal: false, scale: 0.125, window: null }],
    ["attention_grad (4 heads, causal)", "attention_grad", [x, k, v, null, d, null], { causal: true, scale: 0.125, window: null }],
    ["matmul [4, 256, 192] × [192, 256]", "matmul", [tensor([4, 256, 192], 5), tensor([192, 256], 6)], {}],
    ["linear [512, 256] → 384 with bias", "linear", [tensor([512, 256], 7), tensor([384, 256], 8), tensor([384], 9)], {}],
  ];
  const comparisons: Comparison[] = [];
  // compile starts the Web Workers and waits for them (this thread never yields while the kernels run).
  const t0 = performance.now();
  await threads.compile(opGraph("matmul", [tensor([8, 8], 10), tensor([8, 8], 11)], {}).graph, { params: new Map() });
  const compileMs = performance.now() - t0;
  const afterCompile = counters(threads);
  for (const [name, op, ins, attrs] of big) {
    const before = threads.threadPool!.workerChunks;
    const got = await runNode(threads, op, ins, attrs);
    const chunks = threads.threadPool!.workerChunks - before;
    const want = await runNode(simd, op, ins, attrs);
    const mismatches: string[] = [];
    want.forEach((w, o) => {
      const g = got[o];
      const at = g.length !== w.length ? -2 : w.findIndex((e, i) => !Object.is(e, g[i]));
      if (at === -2) mismatches.push(`output ${o}: length ${g.length}, want ${w.length}`);
      else if (at >= 0) mismatches.push(`output ${o}[${at}]: ${g[at]}, want ${w[at]}`);
    });
    comparisons.push({ name, mismatches, workerChunks: chunks });
  }
  const comparePool = counters(threads);
  // A chunk that throws on a worker (the calling thread takes no chunk of this job).
  let workerFault = "no error";
  try {
    threads.threadPool!.fault(64, 63, true);
  } catch (e) {
    workerFault = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  await threads.dispose();
  return { ...base, explicitError: null, kernels: explicit.kernels, cases, conformancePool, comparisons, comparePool, afterCompile, compileMs, workerFault };
}

scope.onmessage = (e) => {
  run(e.data).then(
    (report) => scope.postMessage({ report }),
    (err: unknown) => scope.postMessage({ error: err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err) }),
  );
};
