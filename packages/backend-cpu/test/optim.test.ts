import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BackendError, GraphBuilder, ShapeError, Tensor, clipGradNorm, type Attrs } from "@attn/core";
import { FIXTURES_DIR, compareTensors, decodeTensor, type CaseTolerance, type TensorJson } from "@attn/conformance";
import { backend, expectClose, runOp } from "./helpers.js";

/** fixtures/optim/{sgd,adam,adamw}.json (format: packages/conformance/README.md). */
interface OptimizerCase {
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

/** fixtures/optim/clip_grad_norm.json. */
interface ClipCase {
  readonly name: string;
  readonly kind: "clip_grad_norm";
  readonly max_norm: number;
  readonly norm_type: 2 | "inf";
  readonly grads: readonly TensorJson[];
  readonly clipped: readonly TensorJson[];
  readonly total_norm: TensorJson;
  readonly tolerance?: CaseTolerance;
}

const OPTIM_DIR = join(FIXTURES_DIR, "optim");
const load = <T>(file: string): T[] => JSON.parse(readFileSync(join(OPTIM_DIR, file), "utf8")) as T[];
const optimizerCases = readdirSync(OPTIM_DIR)
  .filter((f) => f.endsWith(".json") && f !== "clip_grad_norm.json")
  .sort()
  .flatMap((f) => load<OptimizerCase>(f));
const clipCases = load<ClipCase>("clip_grad_norm.json");

const TOL = { atol: 1e-5, rtol: 1e-4 };
const scalar = (v: number) => Tensor.from([v], { shape: [] });

/** The op's state slots (inputs after grad, outputs after param), by PyTorch state name. */
function slots(c: OptimizerCase): string[] {
  if (c.op === "sgd_update") return ["momentum_buffer"];
  return ["exp_avg", "exp_avg_sq", ...(c.attrs.amsgrad ? ["max_exp_avg_sq"] : [])];
}

/** Runs one update of one parameter: (param, grad, state…) → (param', state'…). */
async function update(c: OptimizerCase, p: Tensor, g: Tensor, state: Tensor[], step: number, lr: number): Promise<Tensor[]> {
  const s = scalar(step);
  const l = scalar(lr);
  const inputs = c.op === "sgd_update" ? [p, g, state[0], s, l] : [p, g, state[0], state[1], s, l, ...state.slice(2)];
  return runOp(c.op, inputs, c.attrs);
}

describe("optimizer ops vs torch.optim (fixtures/optim)", () => {
  it("has the cases the issue asks for", () => {
    const names = optimizerCases.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["sgd/momentum", "sgd/nesterov", "sgd/momentum_weight_decay_dampening", "adam/default", "adamw/weight_decay"]));
    expect(clipCases.length).toBeGreaterThanOrEqual(3);
  });

  for (const c of optimizerCases) {
    it(`${c.name}: three steps match`, async () => {
      const tol = c.tolerance ?? TOL;
      const failures: string[] = [];
      for (const [name, pj] of Object.entries(c.params)) {
        let p = decodeTensor(pj, `${c.name} ${name}`);
        // PyTorch's state starts at zeros (the SGD buffer is set from the first gradient, so zeros are fine).
        let state = slots(c).map(() => new Tensor("float32", p.shape));
        for (let s = 0; s < c.steps.length; s++) {
          const g = decodeTensor(c.grads[s][name], `${c.name} grad ${s} ${name}`);
          [p, ...state] = await update(c, p, g, state, s, c.lr[s]);
          const want = c.steps[s];
          const d = compareTensors(p, decodeTensor(want.params[name], "want"), tol);
          if (d) failures.push(`step ${s} ${name}: ${d}`);
          for (const [slot, byParam] of Object.entries(want.state)) {
            const got = state[slots(c).indexOf(slot)];
            const ds = compareTensors(got, decodeTensor(byParam[name], "want"), tol);
            if (ds) failures.push(`step ${s} ${slot} ${name}: ${ds}`);
          }
        }
      }
      expect(failures, failures.join("\n")).toEqual([]);
    });
  }
});

describe("clipGradNorm vs torch.nn.utils.clip_grad_norm_ (fixtures/optim/clip_grad_norm.json)", () => {
  for (const c of clipCases) {
    it(c.name, async () => {
      const b = new GraphBuilder(c.name);
      const grads = c.grads.map((t, i) => decodeTensor(t, `${c.name} grad ${i}`));
      const ids = grads.map((g, i) => b.input(`g${i}`, { dtype: "float32", shape: g.shape }));
      const { clipped, norm } = clipGradNorm(b, ids, c.max_norm, { normType: c.norm_type });
      clipped.forEach((id, i) => b.output(`clipped${i}`, id));
      b.output("norm", norm);
      const exe = await backend.compile(b.build(), { params: new Map() });
      const res = await exe.run(Object.fromEntries(grads.map((g, i) => [`g${i}`, g])));
      const tol = c.tolerance ?? TOL;
      const failures = [
        compareTensors(res.norm, decodeTensor(c.total_norm, "total_norm"), tol),
        ...c.clipped.map((t, i) => compareTensors(res[`clipped${i}`], decodeTensor(t, "clipped"), tol)),
      ].filter((x) => x);
      expect(failures, failures.join("\n")).toEqual([]);
    });
  }

  it("returns a zero norm and nothing to clip for an empty list", async () => {
    const b = new GraphBuilder("empty");
    const { clipped, norm, coef } = clipGradNorm(b, [], 1);
    b.output("norm", norm);
    b.output("coef", coef);
    expect(clipped).toEqual([]);
    const res = await (await backend.compile(b.build(), { params: new Map() })).run({});
    expect(res.norm.data[0]).toBe(0);
    expect(res.coef.data[0]).toBe(1);
  });

  it("rejects a negative max_norm", () => {
    expect(() => clipGradNorm(new GraphBuilder("x"), [], -1)).toThrow(/max_norm/);
  });
});

describe("optimizer ops: semantics and validation", () => {
  const p = Tensor.from([1, -2, 3]);
  const g = Tensor.from([0.5, 0.25, -1]);
  const zeros = () => new Tensor("float32", [3]);

  it("sgd without momentum is param − lr·(grad + wd·param) and passes the buffer through", async () => {
    const buf = Tensor.from([7, 8, 9]);
    const [np, nb] = await runOp("sgd_update", [p, g, buf, scalar(5), scalar(0.1)], { weight_decay: 0.5 });
    expectClose(np, [1 - 0.1 * (0.5 + 0.5), -2 - 0.1 * (0.25 - 1), 3 - 0.1 * (-1 + 1.5)]);
    expect(Array.from(nb.data)).toEqual([7, 8, 9]);
  });

  it("sgd momentum starts the buffer at the gradient on step 0 and ignores the incoming buffer", async () => {
    const [np, nb] = await runOp("sgd_update", [p, g, Tensor.from([100, 100, 100]), scalar(0), scalar(1)], { momentum: 0.9, dampening: 0.5 });
    expectClose(nb, [0.5, 0.25, -1]);
    expectClose(np, [0.5, -2.25, 4]);
    const [, nb2] = await runOp("sgd_update", [p, g, nb, scalar(1), scalar(1)], { momentum: 0.9, dampening: 0.5 });
    expectClose(nb2, [0.9 * 0.5 + 0.5 * 0.5, 0.9 * 0.25 + 0.5 * 0.25, -0.9 - 0.5]);
  });

  it("adam's first step moves each weight by about lr·sign(grad)", async () => {
    const [np, m, v] = await runOp("adam_update", [p, g, zeros(), zeros(), scalar(0), scalar(0.01)]);
    expectClose(np, [0.99, -2.01, 3.01], { atol: 1e-6 });
    expectClose(m, [0.05, 0.025, -0.1]);
    expectClose(v, [0.001 * 0.25, 0.001 * 0.0625, 0.001]);
  });

  it("adamw decays the weights by lr·wd before the update; a zero gradient leaves only the decay", async () => {
    const [np] = await runOp("adam_update", [p, zeros(), zeros(), zeros(), scalar(0), scalar(0.1)], { weight_decay: 0.5, decoupled: true });
    expectClose(np, [0.95, -1.9, 2.85]);
  });

  it("amsgrad takes and returns max_exp_avg_sq", async () => {
    const outs = await runOp("adam_update", [p, g, zeros(), zeros(), scalar(0), scalar(0.01), Tensor.from([1, 0, 0])], { amsgrad: true });
    expect(outs).toHaveLength(4);
    expectClose(outs[3], [1, 0.001 * 0.0625, 0.001]);
    // normalised by sqrt(1)/sqrt(0.001) for the first weight: a much smaller step than plain Adam
    expect(Math.abs(outs[0].data[0] - 1)).toBeLessThan(1e-3);
  });

  it("validates step, attributes and inputs", async () => {
    await expect(runOp("sgd_update", [p, g, zeros(), scalar(0.5), scalar(0.1)])).rejects.toThrow(BackendError);
    await expect(runOp("adam_update", [p, g, zeros(), zeros(), scalar(-1), scalar(0.1)])).rejects.toThrow(/steps already taken/);
    await expect(runOp("sgd_update", [p, g, zeros(), scalar(0), scalar(0.1)], { nesterov: true })).rejects.toThrow(/nesterov/);
    await expect(runOp("adam_update", [p, g, zeros(), zeros(), scalar(0), scalar(0.1)], { amsgrad: true })).rejects.toThrow(/max_exp_avg_sq/);
    await expect(runOp("adam_update", [p, g, zeros(), zeros(), scalar(0), scalar(0.1)], { beta2: 1 })).rejects.toThrow(/beta2/);
    await expect(runOp("adam_update", [p, g, Tensor.from([1, 2]), zeros(), scalar(0), scalar(0.1)])).rejects.toThrow(ShapeError);
    await expect(runOp("sgd_update", [p, g, zeros(), Tensor.from([0]), scalar(0.1)])).rejects.toThrow(/scalar/);
  });
});
