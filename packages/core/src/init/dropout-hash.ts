/**
 * The keep/drop draw of training-mode dropout, as a pure function of (step, salt, element index): a
 * counter-based generator (murmur3's finaliser over a mixed key) instead of a stateful one, so every
 * backend (CPU, WGSL, ONNX integer ops) computes the same masks, and a resumed run replays them exactly.
 */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1) for element `index` of the dropout node `salt` at training step `step`. */
export function dropoutUniform(step: number, salt: number, index: number): number {
  const key = fmix32((Math.imul(step >>> 0, 0x9e3779b9) ^ Math.imul(salt >>> 0, 0x85ebca6b)) >>> 0);
  return fmix32((key ^ Math.imul(index >>> 0, 0xc2b2ae35)) + 0x27d4eb2f) / 4294967296;
}
