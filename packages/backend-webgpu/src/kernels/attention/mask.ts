/**
 * What every attention-family kernel shares: which keys a query may see. The bool mask (true = masked out,
 * stored as u32) is addressed through broadcast strides kept in the uniforms, so one pipeline serves every
 * mask layout (key-padding [B, Tk] or a full-rank mask broadcasting to the scores); `causal` and `window`
 * give each query a contiguous key range [lo, hi), which lets the kernels skip whole key tiles.
 */
import { BackendError } from "@attn/core";
import type { GpuTensor } from "../../buffers.js";
import { MAX_RANK } from "../../kernel.js";
import { broadcastStrides } from "../binary.js";

/** The most batch dims (those before Tq, Tk) the mask addressing takes: the uniforms hold them. */
export const MAX_BATCH_DIMS = MAX_RANK - 2;

/** Uniform words used by {@link maskWords}: causal, window, sq, sk, nbd, then sizes and strides. */
export const MASK_WORDS = 5 + 2 * MAX_BATCH_DIMS;

/** Window "none" as a u32 uniform: larger than any key distance. */
const NO_WINDOW = 0xffffffff;

/**
 * The masking uniforms for scores of shape `scores` [B, ..., Tq, Tk]: causal flag, window (NO_WINDOW for
 * none), the mask's query and key strides, and per batch dim its size and the mask's stride (0 where the
 * mask broadcasts). Without a mask the strides are unused.
 */
export function maskWords(op: string, mask: GpuTensor | null, scores: readonly number[], causal: boolean, window: number | null): number[] {
  const r = scores.length;
  const nbd = r - 2;
  if (nbd > MAX_BATCH_DIMS) throw new BackendError(`${op}: rank ${r} is above the webgpu backend's limit of ${MAX_RANK}`);
  let strides = new Array<number>(r).fill(0);
  if (mask) {
    if (mask.shape.length === 2 && r > 2) {
      // key-padding mask [B, Tk]: indexed by the first batch dim and the key only
      const [mb, mk] = mask.shape;
      strides = scores.map((_, i) => (i === 0 ? (mb === 1 ? 0 : mk) : i === r - 1 ? (mk === 1 ? 0 : 1) : 0));
    } else {
      strides = broadcastStrides(mask.shape, scores);
    }
  }
  const w = new Array<number>(MASK_WORDS).fill(0);
  w[0] = causal ? 1 : 0;
  w[1] = window === null ? NO_WINDOW : window;
  w[2] = strides[r - 2];
  w[3] = strides[r - 1];
  w[4] = nbd;
  for (let d = 0; d < nbd; d++) {
    w[5 + d] = scores[d];
    w[5 + MAX_BATCH_DIMS + d] = strides[d];
  }
  return w;
}

/**
 * WGSL for the masking helpers, reading {@link maskWords} at uniform word `base`; `binding` is the mask
 * buffer's binding, or null when the node has no mask input (then only causal / window apply).
 *
 * - `key_lo(i, tk)`, `key_hi(i, tk)`: query i's visible key range [lo, hi) (empty as lo = hi = 0);
 *   `key_lo_raw` / `key_hi_raw` are the same bounds unclamped: both are non-decreasing in i, so a tile of
 *   queries q0..q1 sees at most keys [key_lo_raw(q0), key_hi_raw(q1)).
 * - `mask_base(b)`: offset of flattened batch b's [Tq, Tk] block in the mask.
 * - `visible(mb, i, j, tk)`: key j is in range and not masked (mb from `mask_base`).
 */
export function wgslMask(base: number, binding: number | null): string {
  const decl = binding === null ? "" : `@group(0) @binding(${binding}) var<storage, read> M: array<u32>;\n`;
  const maskTest = binding === null ? "false" : `M[mb + i * u(${base + 2}u) + j * u(${base + 3}u)] != 0u`;
  return `${decl}
fn key_lo_raw(i: u32) -> u32 {
  let w = u(${base + 1}u);
  if (w != 0xffffffffu && i > w) { return i - w; }
  return 0u;
}
fn key_hi_raw(i: u32, tk: u32) -> u32 {
  let w = u(${base + 1}u);
  var hi = tk;
  if (u(${base}u) != 0u) { hi = min(hi, i + 1u); }
  else if (w < tk) { hi = min(hi, i + w + 1u); } // w ≥ tk cannot cut (and i + w + 1 could wrap)
  return hi;
}
fn key_lo(i: u32, tk: u32) -> u32 {
  let lo = key_lo_raw(i);
  return select(0u, lo, lo < key_hi_raw(i, tk));
}
fn key_hi(i: u32, tk: u32) -> u32 {
  let hi = key_hi_raw(i, tk);
  return select(0u, hi, key_lo_raw(i) < hi);
}
fn mask_base(b: u32) -> u32 {
  var r = b;
  var off = 0u;
  for (var d = i32(u(${base + 4}u)) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = u(${base + 5}u + k);
    off += (r % s) * u(${base + 5 + MAX_BATCH_DIMS}u + k);
    r = r / s;
  }
  return off;
}
fn visible(mb: u32, i: u32, j: u32, tk: u32) -> bool {
  if (j < key_lo(i, tk) || j >= key_hi(i, tk)) { return false; }
  return !(${maskTest});
}
`;
}
