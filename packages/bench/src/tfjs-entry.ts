/**
 * The tfjs side of the benchmark, bundled by `scripts/bundle-tfjs.mjs` into `dist/tfjs-bundle.cjs`:
 * tfjs-core imported alone in Node registers no gradients (its `register_all_gradients` entry is
 * extension-less ESM), so core, its gradients and both kernel backends go through esbuild together.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import * as tfCpu from "@tensorflow/tfjs-backend-cpu";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";

export { tf, tfCpu, tfWasm };
