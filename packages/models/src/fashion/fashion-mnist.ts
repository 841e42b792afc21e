import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { AttnError, Tensor, type Dataset } from "@attn/core";
import { parseIdx } from "./idx.js";

/** Where Debian's `dataset-fashion-mnist` installs the IDX files. */
export const FASHION_MNIST_DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

/** The small slice shipped with this package (the first 500 test images), for tests and the demo. */
export const FASHION_MNIST_SLICE_DIR = fileURLToPath(new URL("../../data/fashion-mnist/", import.meta.url));

/** The ten Fashion-MNIST classes, by label. */
export const FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"] as const;

/** Per-pixel mean and standard deviation of the training images (scaled to 0…1), for normalisation. */
export const FASHION_MEAN = 0.286;
export const FASHION_STD = 0.353;

/** Images (N × 28 × 28 bytes) and labels (N bytes, 0–9) of one split. */
export interface FashionMnist {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
}

function readMaybeGz(dir: string, base: string): { bytes: Uint8Array; path: string } {
  for (const name of [`${base}.gz`, base]) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    const raw = readFileSync(path);
    try {
      return { bytes: name.endsWith(".gz") ? gunzipSync(raw) : raw, path };
    } catch (e) {
      throw new AttnError(`${path}: cannot gunzip (${(e as Error).message})`);
    }
  }
  throw new AttnError(`Fashion-MNIST: neither ${join(dir, base)}.gz nor ${join(dir, base)} exists (install Debian's dataset-fashion-mnist, or pass the folder holding the IDX files)`);
}

/**
 * Loads one split from a folder of IDX files (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
 * `t10k-…` for test), by default Debian's. Checks that images and labels agree.
 */
export function loadFashionMnist(split: "train" | "test", dir = FASHION_MNIST_DEBIAN_DIR): FashionMnist {
  const prefix = split === "train" ? "train" : "t10k";
  const img = readMaybeGz(dir, `${prefix}-images-idx3-ubyte`);
  const lab = readMaybeGz(dir, `${prefix}-labels-idx1-ubyte`);
  const images = parseIdx(img.bytes, img.path);
  const labels = parseIdx(lab.bytes, lab.path);
  if (images.dims.length !== 3) throw new AttnError(`${img.path}: expected 3 dimensions (count, height, width), got ${images.dims.length}`);
  if (labels.dims.length !== 1) throw new AttnError(`${lab.path}: expected 1 dimension (count), got ${labels.dims.length}`);
  if (images.dims[0] !== labels.dims[0]) throw new AttnError(`Fashion-MNIST ${split}: ${images.dims[0]} images but ${labels.dims[0]} labels`);
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new AttnError(`${lab.path}: label ${labels.data[bad]} at index ${bad} is not a class 0–9`);
  return { count: images.dims[0], height: images.dims[1], width: images.dims[2], images: images.data, labels: labels.data };
}

/** Images `indices` as a normalised float32 batch [B, 1, H, W]. */
export function fashionImages(set: FashionMnist, indices: readonly number[]): Tensor {
  const px = set.height * set.width;
  const t = new Tensor("float32", [indices.length, 1, set.height, set.width]);
  const d = t.data as Float32Array;
  indices.forEach((i, b) => {
    const src = set.images.subarray(i * px, (i + 1) * px);
    for (let k = 0; k < px; k++) d[b * px + k] = (src[k] / 255 - FASHION_MEAN) / FASHION_STD;
  });
  return t;
}

/** A Trainer dataset over a split: feeds `image` [B, 1, 28, 28] (normalised) and `target` [B] (int32 labels). */
export class FashionDataset implements Dataset {
  constructor(readonly set: FashionMnist) {}

  get size(): number {
    return this.set.count;
  }

  batch(indices: readonly number[]): Record<string, Tensor> {
    const target = new Tensor("int32", [indices.length]);
    indices.forEach((i, b) => (target.data[b] = this.set.labels[i]));
    return { image: fashionImages(this.set, indices), target };
  }
}
