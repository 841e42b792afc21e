/**
 * Deterministic inputs and weights, generated the same way in every child process from a name, so every
 * implementation of a case sees identical numbers without shipping tensors between processes.
 */

/** FNV-1a hash of a string (a seed). */
export function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `size` float32 values uniform in [−scale, scale), from a generator seeded by `name` (mulberry32). */
export function seededArray(name: string, size: number, scale = 1): Float32Array {
  let s = hashName(name);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (2 * u - 1) * scale;
  }
  return out;
}
