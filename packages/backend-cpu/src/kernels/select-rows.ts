/**
 * Row selections shared by softmax-family kernels and by attention (weights path). Each works in place on
 * a double-precision row `x[0..n)` and follows docs/ir.md: stable (row max subtracted); a row that is all
 * -inf gives zeros (log_softmax: -inf); -inf entries never receive weight; ties go to the lower index.
 * NaN entries propagate through softmax/log_softmax; hardmax and topk skip them.
 */

/** The row's maximum; NaN if any entry is NaN (so NaN propagates); -Infinity for an all -inf row. */
function rowMax(x: Float64Array, n: number): number {
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = x[j];
    if (v > m) m = v;
    else if (v !== v) return NaN;
  }
  return m;
}

/** softmax(x) in place. */
export function softmaxRow(x: Float64Array, n: number): void {
  const m = rowMax(x, n);
  if (m === -Infinity) {
    x.fill(0, 0, n);
    return;
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(x[j] - m);
    x[j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) x[j] /= sum;
}

/** log_softmax(x) in place; an all -inf row stays -inf. */
export function logSoftmaxRow(x: Float64Array, n: number): void {
  const m = rowMax(x, n);
  if (m === -Infinity) {
    x.fill(-Infinity, 0, n);
    return;
  }
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp(x[j] - m);
  const lse = Math.log(sum);
  for (let j = 0; j < n; j++) x[j] = x[j] - m - lse;
}

/** One-hot at the first maximum; zeros when every entry is -inf. */
export function hardmaxRow(x: Float64Array, n: number): void {
  let best = -Infinity;
  let bi = -1;
  for (let j = 0; j < n; j++) {
    if (x[j] > best) {
      best = x[j];
      bi = j;
    }
  }
  x.fill(0, 0, n);
  if (bi >= 0) x[bi] = 1;
}

/** Largest k before switching from insertion into a sorted top list (O(n·k)) to a full sort (O(n log n)). */
const SMALL_K = 16;

/**
 * Softmax over the k largest entries (ties: lower index first; -inf and NaN are never kept), zeros
 * elsewhere. `idx` and `tmp` are scratch of length ≥ n.
 */
export function topkSoftmaxRow(x: Float64Array, n: number, k: number, idx: Int32Array, tmp: Float64Array): void {
  let kept = 0;
  if (k <= SMALL_K) {
    // idx[0..kept) holds the best entries in order (value desc, index asc).
    for (let j = 0; j < n; j++) {
      const v = x[j];
      if (!(v > -Infinity)) continue;
      if (kept === k && !(v > x[idx[k - 1]])) continue;
      let p = kept === k ? k - 1 : kept++;
      while (p > 0 && v > x[idx[p - 1]]) {
        idx[p] = idx[p - 1];
        p--;
      }
      idx[p] = j;
    }
  } else {
    for (let j = 0; j < n; j++) if (x[j] > -Infinity) idx[kept++] = j;
    const cand = idx.subarray(0, kept);
    cand.sort((a, b) => x[b] - x[a] || a - b);
    kept = Math.min(kept, k);
  }
  if (kept === 0) {
    x.fill(0, 0, n);
    return;
  }
  let m = -Infinity;
  for (let t = 0; t < kept; t++) m = Math.max(m, x[idx[t]]);
  let sum = 0;
  for (let t = 0; t < kept; t++) {
    tmp[t] = Math.exp(x[idx[t]] - m);
    sum += tmp[t];
  }
  x.fill(0, 0, n);
  for (let t = 0; t < kept; t++) x[idx[t]] = tmp[t] / sum;
}
