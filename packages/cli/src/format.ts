import type { Tensor } from "@attn/core";
import { formatShape } from "@attn/core";

const fmt = (v: number, dtype: string) => (dtype === "float32" ? (Number.isFinite(v) ? v.toFixed(4) : String(v)) : dtype === "bool" ? (v ? "true" : "false") : String(v));

/**
 * Prints a tensor the way NumPy does, with rows aligned and long axes elided (`…`) beyond `edge` items
 * at each end.
 */
export function formatTensor(t: Tensor, edge = 4): string {
  const cells = Array.from(t.data, (v) => fmt(v, t.dtype));
  const width = Math.max(1, ...cells.map((c) => c.length));
  const rec = (dim: number, offset: number, indent: string): string => {
    if (t.shape.length === 0) return cells[0];
    const n = t.shape[dim];
    const stride = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const idx = n > 2 * edge ? [...Array(edge).keys(), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)] : [...Array(n).keys()];
    if (dim === t.shape.length - 1) {
      return `[${idx.map((i) => (i < 0 ? "…".padStart(width) : cells[offset + i].padStart(width))).join(" ")}]`;
    }
    const sep = ",\n".padEnd(2 + t.shape.length - dim - 1 - 1, "\n") + indent + " ";
    return `[${idx.map((i) => (i < 0 ? "…" : rec(dim + 1, offset + i * stride, indent + " "))).join(sep)}]`;
  };
  return rec(0, 0, "");
}

export function describeTensor(name: string, t: Tensor): string {
  return `${name}: ${t.dtype}${formatShape(t.shape)}\n${formatTensor(t)}`;
}
