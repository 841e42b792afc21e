import { Tensor, buildGradientGraph, gradName, type Graph } from "@attn/core";
import { backend, rand } from "./helpers.js";

/**
 * Finite-difference gradient checks on the cpu backend. The scalar checked is L = Σᵢ Σ outᵢ ⊙ uᵢ with
 * random upstream tensors uᵢ (one per float output), summed in double; the analytic side is the backward
 * graph of core's autodiff seeded with the same uᵢ. Kernels run in float32, so a coordinate is moved by
 * ±eps as float32 actually represents it and the difference quotient divides by that exact step.
 */

export interface GradCheckOptions {
  /** Graph inputs to differentiate (default: every float32 input). */
  readonly inputs?: readonly string[];
  /** Parameters to differentiate (default: all). */
  readonly params?: readonly string[];
  /** Step of the central difference (default 1e-2). */
  readonly eps?: number;
  /** |fd − analytic| ≤ atol + rtol·|analytic| (defaults 2e-4, 2e-3). */
  readonly atol?: number;
  readonly rtol?: number;
  /** Coordinates checked per tensor (default: all up to 64, else a seeded sample of 64). */
  readonly sample?: number;
  /** Seed of the upstream gradients and the coordinate sample. */
  readonly seed?: number;
}

export interface GradCheckResult {
  /** One line per coordinate out of tolerance (at most 5 per tensor). */
  readonly failures: string[];
  /** The largest |fd − analytic| / (atol + rtol·|analytic|) seen (≤ 1 passes). */
  readonly worst: number;
  /** Coordinates compared. */
  readonly checked: number;
}

/** Copies of the tensors, so a check can perturb them in place without touching the caller's. */
function clone(ts: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(ts).map(([k, t]) => [k, new Tensor(t.dtype, t.shape, t.data.slice())]));
}

export async function gradCheck(
  graph: Graph,
  feedsIn: Record<string, Tensor>,
  paramsIn: ReadonlyMap<string, Tensor> = new Map(),
  opts: GradCheckOptions = {},
): Promise<GradCheckResult> {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 2e-4;
  const rtol = opts.rtol ?? 2e-3;
  const r = rand(opts.seed ?? 1234);
  const feeds = clone(feedsIn);
  const params = new Map(Object.entries(clone(Object.fromEntries(paramsIn))));
  const floatOuts = graph.outputs.filter((o) => graph.values[o.value].type.dtype === "float32").map((o) => o.name);
  const wrtInputs = opts.inputs ?? graph.inputs.map((id) => graph.values[id]).filter((v) => v.type.dtype === "float32").map((v) => v.name);
  const wrtParams = opts.params ?? graph.params.map((p) => p.name);

  // The forward executable reads `feeds` and `params` in place: perturbing them changes the next run.
  const fwd = await backend.compile(graph, { params });
  const base = await fwd.run(feeds);
  const upstream = Object.fromEntries(floatOuts.map((n) => [n, Tensor.from(Array.from({ length: base[n].size }, () => r(-1, 1)), { shape: base[n].shape })]));
  const loss = async () => {
    const out = await fwd.run(feeds, { outputs: floatOuts });
    let s = 0;
    for (const n of floatOuts) {
      const o = out[n].data;
      const u = upstream[n].data;
      // A -inf output (a masked score) carries no gradient: PyTorch's fixtures leave it out the same way.
      for (let i = 0; i < o.length; i++) if (Number.isFinite(o[i])) s += o[i] * u[i];
    }
    return s;
  };

  const seeds = Object.fromEntries(floatOuts.map((n) => [n, "input" as const]));
  const bwdGraph = buildGradientGraph(graph, { seeds, params: wrtParams, inputs: wrtInputs });
  const bwd = await backend.compile(bwdGraph, { params });
  const wrt = [...wrtInputs.map((n) => [n, feeds[n]] as const), ...wrtParams.map((n) => [n, params.get(n)!] as const)];
  const analytic = await bwd.run({ ...feeds, ...Object.fromEntries(floatOuts.map((n) => [gradName(n), upstream[n]])) }, { outputs: wrt.map(([n]) => gradName(n)) });

  const failures: string[] = [];
  let worst = 0;
  let checked = 0;
  for (const [name, t] of wrt) {
    const an = analytic[gradName(name)];
    const n = t.size;
    const limit = opts.sample ?? 64;
    const coords = n <= limit ? [...Array(n).keys()] : Array.from({ length: limit }, () => Math.floor(r(0, n)));
    let bad = 0;
    for (const i of coords) {
      const orig = t.data[i];
      const up = Math.fround(orig + eps);
      const down = Math.fround(orig - eps);
      t.data[i] = up;
      const lp = await loss();
      t.data[i] = down;
      const lm = await loss();
      t.data[i] = orig;
      const fd = (lp - lm) / (up - down);
      const a = an.data[i];
      const ratio = Math.abs(fd - a) / (atol + rtol * Math.abs(a));
      worst = Math.max(worst, ratio);
      checked++;
      if (!(ratio <= 1) && bad++ < 5) failures.push(`${name}[${i}]: finite difference ${fd}, backward graph ${a}`);
    }
  }
  fwd.dispose();
  bwd.dispose();
  return { failures, worst, checked };
}
