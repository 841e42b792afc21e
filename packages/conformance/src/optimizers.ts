import { GraphBuilder, Tensor, clipGradNorm, type Attrs, type Backend } from "@attn/core";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { CaseTolerance } from "./cases.js";
import { compareTensors, DEFAULT_TOLERANCE } from "./compare.js";
import { FIXTURES_DIR } from "./load.js";
import { decodeTensor, type TensorJson } from "./tensor-json.js";

/** fixtures/optim/{sgd,adam,adamw}.json: three updates of torch.optim on fixed gradients (README). */
export interface OptimizerCase {
  readonly name: string;
  readonly kind: "optimizer";
  readonly op: "sgd_update" | "adam_update";
  readonly attrs: Attrs;
  readonly lr: readonly number[];
  readonly params: Record<string, TensorJson>;
  readonly grads: readonly Record<string, TensorJson>[];
  readonly steps: readonly { params: Record<string, TensorJson>; state: Record<string, Record<string, TensorJson>> }[];
  readonly tolerance?: CaseTolerance;
}

/** fixtures/optim/clip_grad_norm.json: torch.nn.utils.clip_grad_norm_. */
export interface ClipCase {
  readonly name: string;
  readonly kind: "clip_grad_norm";
  readonly max_norm: number;
  readonly norm_type: 2 | "inf";
  readonly grads: readonly TensorJson[];
  readonly clipped: readonly TensorJson[];
  readonly total_norm: TensorJson;
  readonly tolerance?: CaseTolerance;
}

/** Every optimizer and clipping case under fixtures/optim. */
export async function loadOptimizerCases(dir: string = FIXTURES_DIR): Promise<{ optimizers: OptimizerCase[]; clips: ClipCase[] }> {
  const folder = join(dir, "optim");
  const files = (await readdir(folder)).filter((f) => f.endsWith(".json")).sort();
  const all = (await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(folder, f), "utf8")) as (OptimizerCase | ClipCase)[]))).flat();
  return { optimizers: all.filter((c): c is OptimizerCase => c.kind === "optimizer"), clips: all.filter((c): c is ClipCase => c.kind === "clip_grad_norm") };
}

/** The op's state slots (inputs after the gradient, outputs after the parameter), by PyTorch name. */
function slots(c: OptimizerCase): string[] {
  return c.op === "sgd_update" ? ["momentum_buffer"] : ["exp_avg", "exp_avg_sq", ...(c.attrs.amsgrad ? ["max_exp_avg_sq"] : [])];
}

async function runOp(backend: Backend, op: string, inputs: readonly Tensor[], attrs: Attrs): Promise<Tensor[]> {
  const b = new GraphBuilder(op);
  const ids = inputs.map((x, i) => b.input(`in${i}`, { dtype: x.dtype, shape: x.shape }));
  const outs = b.add(op, ids, attrs);
  outs.forEach((o, i) => b.output(`out${i}`, o));
  const exe = await backend.compile(b.build(), { params: new Map() });
  try {
    const res = await exe.run(Object.fromEntries(inputs.map((x, i) => [`in${i}`, x])));
    return outs.map((_, i) => res[`out${i}`]);
  } finally {
    exe.dispose();
  }
}

/**
 * Applies the case's three updates with the backend's optimizer op, each step starting from the op's own
 * previous outputs (state starts at zeros, as PyTorch's), and compares parameters and state after each.
 */
export async function runOptimizerCase(backend: Backend, c: OptimizerCase): Promise<string[]> {
  const tol = c.tolerance ?? DEFAULT_TOLERANCE;
  const scalar = (v: number) => Tensor.from([v], { shape: [] });
  const failures: string[] = [];
  for (const [name, pj] of Object.entries(c.params)) {
    let p = decodeTensor(pj, `${c.name} ${name}`);
    let state = slots(c).map(() => new Tensor("float32", p.shape));
    for (let s = 0; s < c.steps.length; s++) {
      const g = decodeTensor(c.grads[s][name], `${c.name} grad ${s} ${name}`);
      const inputs = c.op === "sgd_update" ? [p, g, state[0], scalar(s), scalar(c.lr[s])] : [p, g, state[0], state[1], scalar(s), scalar(c.lr[s]), ...state.slice(2)];
      [p, ...state] = await runOp(backend, c.op, inputs, c.attrs);
      const want = c.steps[s];
      const d = compareTensors(p, decodeTensor(want.params[name], "want"), tol);
      if (d) failures.push(`step ${s + 1} ${name}: ${d}`);
      for (const [slot, byParam] of Object.entries(want.state)) {
        const ds = compareTensors(state[slots(c).indexOf(slot)], decodeTensor(byParam[name], "want"), tol);
        if (ds) failures.push(`step ${s + 1} ${slot} ${name}: ${ds}`);
      }
    }
  }
  return failures;
}

/** Runs core's `clipGradNorm` IR on the backend and compares the clipped gradients and the total norm. */
export async function runClipCase(backend: Backend, c: ClipCase): Promise<string[]> {
  const b = new GraphBuilder(c.name);
  const grads = c.grads.map((t, i) => decodeTensor(t, `${c.name} grad ${i}`));
  const ids = grads.map((g, i) => b.input(`g${i}`, { dtype: "float32", shape: g.shape }));
  const { clipped, norm } = clipGradNorm(b, ids, c.max_norm, { normType: c.norm_type });
  clipped.forEach((id, i) => b.output(`clipped${i}`, id));
  b.output("norm", norm);
  const exe = await backend.compile(b.build(), { params: new Map() });
  try {
    const res = await exe.run(Object.fromEntries(grads.map((g, i) => [`g${i}`, g])));
    const tol = c.tolerance ?? DEFAULT_TOLERANCE;
    return [compareTensors(res.norm, decodeTensor(c.total_norm, "total_norm"), tol), ...c.clipped.map((t, i) => compareTensors(res[`clipped${i}`], decodeTensor(t, "clipped"), tol))].filter(
      (x): x is string => x !== undefined,
    );
  } finally {
    exe.dispose();
  }
}
