import { existsSync } from "node:fs";
import { Session } from "@attn/core";
import {
  DEFAULT_FASHION, FASHION_CLASSES, FASHION_MNIST_DEBIAN_DIR, FASHION_MNIST_SLICE_DIR, classifyFashion, compileZooModel, loadFashionMnist, zooModel, type ZooModel,
} from "@attn/models";
import { CliError, writeFileAtomic } from "../io.js";
import { gridSvg } from "../viz/grid.js";
import { imageAttentionSvg } from "../viz/image-attention.js";
import { backendByName } from "./run.js";
import { pretrainedOr } from "./translate.js";

export interface PredictFlags {
  model?: string;
  weights?: string;
  backend: string;
  /** Folder with the Fashion-MNIST IDX files (default Debian's, else the slice shipped with @attn/models). */
  data?: string;
  svg?: string;
  json: boolean;
}

function fashionModel(name: string | undefined): ZooModel {
  let m: ZooModel;
  try {
    m = zooModel(name ?? DEFAULT_FASHION);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (m.task !== "fashion") throw new CliError(`${m.name} is a ${m.task} model; attn predict needs a Fashion-MNIST model (fashion-*)`);
  return m;
}

/**
 * `attn predict [INDEX...]`: classifies Fashion-MNIST test images (by index; default the first eight) with
 * a zoo model; `--svg` draws each image with the model's attention over its 7×7 cells (the cells a
 * hard-attention model kept are outlined).
 */
export async function predict(indexArgs: readonly string[], f: PredictFlags, out: (s: string) => void): Promise<number> {
  const model = fashionModel(f.model);
  const dir = f.data ?? (existsSync(FASHION_MNIST_DEBIAN_DIR) ? FASHION_MNIST_DEBIAN_DIR : FASHION_MNIST_SLICE_DIR);
  const set = loadFashionMnist("test", dir);
  const indices = indexArgs.length ? indexArgs.map((a) => Number(a)) : Array.from({ length: Math.min(8, set.count) }, (_, i) => i);
  const bad = indices.findIndex((i) => !Number.isInteger(i) || i < 0 || i >= set.count);
  if (bad >= 0) throw new CliError(`image index "${indexArgs[bad]}" is not an integer in 0…${set.count - 1} (the test images in ${dir})`);
  const { graph } = await compileZooModel(model);
  const session = await Session.create(graph, backendByName(f.backend), { weights: pretrainedOr(model, f.weights) });
  try {
    const { predicted, where, logits } = await classifyFashion(session, set, indices);
    const C = logits.shape[1];
    const rows = indices.map((i, b) => {
      const l = Array.from(logits.data.subarray(b * C, (b + 1) * C));
      const m = Math.max(...l);
      const z = l.reduce((s, x) => s + Math.exp(x - m), 0);
      return { index: i, predicted: FASHION_CLASSES[predicted[b]], confidence: 1 / z, truth: FASHION_CLASSES[set.labels[i]] };
    });
    if (f.json) out(JSON.stringify(rows));
    else for (const r of rows) out(`#${String(r.index).padEnd(5)} ${r.predicted.padEnd(12)} ${(100 * r.confidence).toFixed(1).padStart(5)}%   true: ${r.truth} ${r.predicted === r.truth ? "✓" : "✗"}`);
    if (f.svg) {
      const px = set.height * set.width;
      const cells = where.shape[1];
      const pictures = indices.map((i, b) => {
        const att = Array.from(where.data.subarray(b * cells, (b + 1) * cells));
        const selected = model.name.includes("hard") ? att.flatMap((w, k) => (w > 0 ? [k] : [])) : undefined;
        return imageAttentionSvg({
          image: set.images.subarray(i * px, (i + 1) * px), height: set.height, width: set.width, attention: att, patch: set.height / Math.sqrt(cells),
          ...(selected ? { selected } : {}), scale: 6, title: `#${i}: ${rows[b].predicted}`, caption: `true: ${rows[b].truth}`,
        });
      });
      await writeFileAtomic(f.svg, gridSvg(pictures, 4));
      out(`wrote ${f.svg}`);
    }
    return 0;
  } finally {
    session.dispose();
  }
}
