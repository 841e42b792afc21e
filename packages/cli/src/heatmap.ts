import type { Tensor } from "@attn/core";

const SHADES = [" ", "░", "▒", "▓", "█"];

/**
 * A terminal heatmap of one [rows, cols] attention matrix (the first batch item of [B, …, rows, cols]):
 * one shade character per weight on the absolute scale 0 … 1 (weights are probabilities), so a flat row
 * looks faint and a confident one dark.
 */
export function heatmap(t: Tensor, rowLabels?: readonly string[], colLabels?: readonly string[]): string {
  const rows = t.shape[t.shape.length - 2] ?? 1;
  const cols = t.shape[t.shape.length - 1];
  const lines: string[] = [];
  const pad = Math.max(0, ...(rowLabels ?? []).map((l) => l.length));
  if (colLabels) lines.push(" ".repeat(pad + 1) + colLabels.map((c) => c[0] ?? " ").join(""));
  for (let r = 0; r < rows; r++) {
    const row = Array.from(t.data.subarray(r * cols, (r + 1) * cols));
    const cells = row.map((v) => SHADES[Math.max(0, Math.min(SHADES.length - 1, Math.round(v * (SHADES.length - 1))))]).join("");
    lines.push(`${(rowLabels?.[r] ?? "").padStart(pad)} ${cells}`);
  }
  return lines.join("\n");
}
