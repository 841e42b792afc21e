// Bundles src/tfjs-entry.ts (tfjs-core + gradients + cpu and wasm backends) into dist/tfjs-bundle.cjs.
// The wasm binaries are not bundled: the runner points tfjs at node_modules/@tensorflow/tfjs-backend-wasm/dist/.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
await build({
  entryPoints: [`${root}src/tfjs-entry.ts`],
  outfile: `${root}dist/tfjs-bundle.cjs`,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "error",
  legalComments: "none",
});
