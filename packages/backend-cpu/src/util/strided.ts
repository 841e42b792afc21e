import { sizeOf, stridesOf, type AnyTypedArray } from "@attn/core";

/**
 * Strided iteration helpers shared by the layout, broadcasting and reduction kernels. Every loop here is
 * linear in the number of elements: dims are first coalesced (adjacent dims that are contiguous for every
 * operand merge into one), then an odometer walks the outer dims and the caller's innermost loop runs
 * over plain typed-array indices.
 */

/** Strides of `shape` read as `outShape` under NumPy broadcasting (right-aligned; 0 on size-1 dims). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const off = outShape.length - shape.length;
  const st = stridesOf(shape);
  return outShape.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : st[i - off]));
}

/** A shape with one stride list per operand, after coalescing. */
export interface Coalesced {
  readonly shape: number[];
  readonly strides: number[][];
}

/**
 * Drops size-1 dims and merges adjacent dims that are contiguous for every stride list, so the innermost
 * loop is as long as possible. A result of rank 0 means a single element.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): Coalesced {
  const outShape: number[] = [];
  const outStrides = strides.map(() => [] as number[]);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[i] * d)) {
      outShape[last] *= d;
      strides.forEach((s, k) => (outStrides[k][last] = s[i]));
    } else {
      outShape.push(d);
      strides.forEach((s, k) => outStrides[k].push(s[i]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Walks every position of the outer dims (all but the last) of a coalesced iteration space and calls
 * `row(offsets…)` with each operand's offset; the callee loops over the last dim itself. `base` gives each
 * operand's starting offset.
 */
export function forEachRow(c: Coalesced, base: readonly number[], row: (offs: readonly number[]) => void): void {
  const r = c.shape.length;
  const offs = [...base];
  if (r <= 1) {
    row(offs);
    return;
  }
  const outer = c.shape.slice(0, r - 1);
  const n = sizeOf(outer);
  const idx = new Int32Array(r - 1);
  const k = offs.length;
  for (let count = 0; count < n; count++) {
    row(offs);
    for (let d = r - 2; d >= 0; d--) {
      for (let o = 0; o < k; o++) offs[o] += c.strides[o][d];
      if (++idx[d] < outer[d]) break;
      for (let o = 0; o < k; o++) offs[o] -= c.strides[o][d] * outer[d];
      idx[d] = 0;
    }
  }
}

/** Length and per-operand stride of the innermost dim of a coalesced space (1 and 0s for rank 0). */
export function innerOf(c: Coalesced): { len: number; strides: number[] } {
  const r = c.shape.length;
  return r === 0 ? { len: 1, strides: c.strides.map(() => 0) } : { len: c.shape[r - 1], strides: c.strides.map((s) => s[r - 1]) };
}

/**
 * Copies the strided view of `src` (starting at `offset`, with `strides` over `shape`) into `dst`
 * contiguously from `dstOffset`, row-major over `shape`. Dims are coalesced first; then, when the
 * innermost source stride is 1, rows are copied with a plain loop (or `set` for long rows); when another
 * dim has source stride 1 (a transpose), that dim and the innermost one are copied in 32×32 tiles so both
 * sides stay in cache; anything else walks element by element. No closures or per-row allocations.
 */
export function gather(src: AnyTypedArray, offset: number, strides: readonly number[], shape: readonly number[], dst: AnyTypedArray, dstOffset = 0): void {
  if (sizeOf(shape) === 0) return;
  const c = coalesce(shape, [strides, stridesOf(shape)]);
  const dims = c.shape;
  const ss = c.strides[0];
  const ds = c.strides[1];
  const r = dims.length;
  if (r === 0) {
    dst[dstOffset] = src[offset];
    return;
  }
  const len = dims[r - 1];
  const si = ss[r - 1];
  // A transposed pair: a dim q < r − 1 read with unit stride while the innermost dim is strided.
  let q = -1;
  if (si !== 1 && len >= 4) for (let d = r - 2; d >= 0; d--) if (ss[d] === 1 && dims[d] >= 4) { q = d; break; }
  // The dims the odometer walks: all but the innermost (and q, which the tile loop covers).
  const outer: number[] = [];
  for (let d = 0; d < r - 1; d++) if (d !== q) outer.push(d);
  const no = outer.length;
  const idx = new Int32Array(no);
  let rows = 1;
  for (const d of outer) rows *= dims[d];
  let so = offset;
  let doff = dstOffset;
  for (let count = 0; count < rows; count++) {
    if (q >= 0) transposeTile(src, so, ss[r - 1], dims[q], len, dst, doff, ds[q]);
    else if (si === 1) {
      if (len >= 256) dst.set(src.subarray(so, so + len), doff);
      else for (let j = 0; j < len; j++) dst[doff + j] = src[so + j];
    } else for (let j = 0, p = so; j < len; j++, p += si) dst[doff + j] = src[p];
    for (let k = no - 1; k >= 0; k--) {
      const d = outer[k];
      so += ss[d];
      doff += ds[d];
      if (++idx[k] < dims[d]) break;
      so -= ss[d] * dims[d];
      doff -= ds[d] * dims[d];
      idx[k] = 0;
    }
  }
}

/**
 * dst[doff + i·dstRow + j] = src[soff + i + j·srcCol] for i < rowsN, j < cols (a transpose: the source is
 * read along i, the destination written along j), in 32×32 tiles.
 */
function transposeTile(src: AnyTypedArray, soff: number, srcCol: number, rowsN: number, cols: number, dst: AnyTypedArray, doff: number, dstRow: number): void {
  const T = 32;
  for (let i0 = 0; i0 < rowsN; i0 += T) {
    const i1 = Math.min(i0 + T, rowsN);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(j0 + T, cols);
      for (let i = i0; i < i1; i++) {
        const dRow = doff + i * dstRow;
        let p = soff + i + j0 * srcCol;
        for (let j = j0; j < j1; j++, p += srcCol) dst[dRow + j] = src[p];
      }
    }
  }
}

/** Splits a shape around `axis` into [outer, n, inner] element counts (rank 0 counts as [1, 1, 1]). */
export function splitAxis(shape: readonly number[], axis: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

/** Normalises a possibly negative axis (the shape function has already range-checked it). */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** `[i, j, k]` of a flat row-major index, for error messages. */
export function formatIndex(flat: number, shape: readonly number[]): string {
  const st = stridesOf(shape);
  const idx = st.map((s, i) => Math.floor(flat / s) % Math.max(shape[i], 1));
  return `[${idx.join(", ")}]`;
}

/** True when two concrete shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
