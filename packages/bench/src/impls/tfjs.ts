import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { ImplSpec } from "../catalog.js";
import { ATTN_DIM, ATTN_HEADS, TRAIN_STEP } from "../graphs.js";
import { sampleOf, type Params, type Sample } from "../protocol.js";
import type * as Entry from "../tfjs-entry.js";
import { attentionInputs, gemmInputs, trainStepData } from "./inputs.js";
import { bool, LossLog, num, UnsupportedWorkload, type Instance } from "./types.js";

type Tf = typeof Entry.tf;
type T = ReturnType<Tf["tensor"]>;

const require = createRequire(import.meta.url);

/** Loads the esbuild bundle and selects `backend`; the wasm binary comes from node_modules (no download). */
async function loadTf(backend: "wasm" | "cpu"): Promise<{ tf: Tf; detail: string }> {
  const { tf, tfWasm } = require("../tfjs-bundle.cjs") as typeof Entry;
  if (backend === "wasm") tfWasm.setWasmPaths(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + "/");
  // Silence the "install tfjs-node" banner of the cpu backend.
  tf.env().set("IS_TEST", true);
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend "${backend}" failed to initialise`);
  await tf.ready();
  const simd = backend === "wasm" ? `, SIMD ${String(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"))}, threads ${String(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"))}` : "";
  return { tf, detail: `tfjs-core ${tf.version_core}, backend ${tf.getBackend()}${simd}` };
}

export async function createTfjsInstance(spec: ImplSpec, workload: string, params: Params): Promise<Instance> {
  const { tf, detail } = await loadTf(spec.tfjsBackend ?? "cpu");
  let first: Sample | undefined;
  let step: () => Float32Array | number[];
  let what: string;
  const kept: T[] = [];
  const keep = <X extends T>(t: X): X => (kept.push(t), t);

  if (workload === "attention") {
    const n = num(params, "n");
    const causal = bool(params, "causal");
    const { q, k, v } = attentionInputs(n);
    const shape3: [number, number, number] = [ATTN_HEADS, n, ATTN_DIM];
    const [qs, ks, vs] = [q, k, v].map((t) => tf.unstack(keep(tf.tensor3d(t.data as Float32Array, shape3))).map(keep));
    let mask: T | null = null;
    if (causal) {
      const m = new Float32Array(n * n);
      for (let i = 0; i < n; i++) m.fill(-Infinity, i * n + i + 1, (i + 1) * n);
      mask = keep(tf.tensor2d(m, [n, n]));
    }
    const scale = 1 / Math.sqrt(ATTN_DIM);
    // Per head as 2-D matMuls: tfjs-wasm's batched matMul is much slower than its 2-D one (NOTES.md).
    step = () => {
      const out = tf.tidy(() => {
        const heads = qs.map((qh, h) => {
          let s = tf.mul(tf.matMul(qh, ks[h], false, true), scale);
          if (mask) s = tf.add(s, mask);
          return tf.matMul(tf.softmax(s), vs[h]);
        });
        return tf.stack(heads);
      });
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    };
    what = `per-head matMul + softmax${causal ? " + additive −inf mask" : ""}`;
  } else if (workload === "gemm") {
    const size = num(params, "size");
    const { a, b } = gemmInputs(size, size, size);
    const ta = keep(tf.tensor2d(a.data as Float32Array, [size, size]));
    const tb = keep(tf.tensor2d(b.data as Float32Array, [size, size]));
    step = () => {
      const out = tf.matMul(ta, tb);
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    };
    what = "matMul";
  } else if (workload === "train-step") {
    const { batch: B, seq: S, dModel: d, heads: H, lr } = TRAIN_STEP;
    const dh = d / H;
    const { x, target, weights } = trainStepData();
    const w = (name: string, shape: number[]) => keep(tf.variable(tf.tensor(weights.get(name)!.data as Float32Array, shape), true, name.replace(/\./g, "_")));
    const wIn = w("mha.in_proj_weight", [3 * d, d]);
    const bIn = w("mha.in_proj_bias", [3 * d]);
    const wOut = w("mha.out_proj.weight", [d, d]);
    const bOut = w("mha.out_proj.bias", [d]);
    const x2 = keep(tf.tensor2d(x.data as Float32Array, [B * S, d]));
    const t2 = keep(tf.tensor2d(target.data as Float32Array, [B * S, d]));
    // PyTorch's Adam defaults (tfjs defaults epsilon to 1e-7).
    const opt = tf.train.adam(lr, 0.9, 0.999, 1e-8);
    const split = (t: T) => tf.reshape(tf.transpose(tf.reshape(t, [B, S, H, dh]), [0, 2, 1, 3]), [B * H, S, dh]);
    const loss = (): T => {
      const qkv = tf.add(tf.matMul(x2, wIn, false, true), bIn);
      const [q, k, v] = tf.split(qkv, 3, 1);
      const p = tf.softmax(tf.mul(tf.matMul(split(q), split(k), false, true), 1 / Math.sqrt(dh)));
      const ctx = tf.reshape(tf.transpose(tf.reshape(tf.matMul(p, split(v)), [B, H, S, dh]), [0, 2, 1, 3]), [B * S, d]);
      const y = tf.add(tf.matMul(ctx, wOut, false, true), bOut);
      return tf.mean(tf.square(tf.sub(y, t2)));
    };
    step = () => {
      const { value, grads } = tf.variableGrads(loss as () => ReturnType<Tf["scalar"]>);
      opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
      const l = value.dataSync()[0];
      value.dispose();
      tf.dispose(Object.values(grads));
      return [l];
    };
    what = "tf.variableGrads + tf.train.adam, attention as batched matMul/softmax";
  } else throw new UnsupportedWorkload(spec.id, workload);

  const log = new LossLog(1);
  return {
    detail: `${detail}; ${what}`,
    async run() {
      const out = step();
      if (workload === "train-step") log.add(out[0]);
      else if (!first) first = sampleOf(out);
    },
    // A training step's sample is its loss curve: the loss before the first and the second update.
    sample: () => (workload === "train-step" ? log.sample() : first),
    dispose: () => tf.dispose(kept),
  };
}
