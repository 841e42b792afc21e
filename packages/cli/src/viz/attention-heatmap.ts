import { CliError } from "../io.js";
import { el, hexColor, num, svgDocument, text, textWidth, tooltip } from "./svg.js";

/** What {@link attentionHeatmapSvg} draws: one [rows, cols] matrix of attention weights, row-major. */
export interface AttentionHeatmapOptions {
  /** `weights[r * cols + c]`: how much target (query) token r attends to source (key) token c. */
  weights: Float32Array | readonly number[];
  rows: number;
  cols: number;
  /** One label per row (query tokens); default the indices 0, 1, …. */
  rowLabels?: readonly string[];
  /** One label per column (key tokens); default the indices 0, 1, …. */
  colLabels?: readonly string[];
  title?: string;
  /** What the rows are, written along the left edge (e.g. "query"). */
  rowAxis?: string;
  /** What the columns are, written above the column labels (e.g. "key"). */
  colAxis?: string;
}

/** The colour of weight 1 (ColorBrewer's darkest "Blues"); weight 0 is white. */
export const HEAT_DARK = "#08306b";
const DARK_RGB = [0x08, 0x30, 0x6b] as const;

/**
 * The fill for one weight: white at 0 to {@link HEAT_DARK} at 1, linear in each channel, clamped to 0…1.
 * The scale is absolute, not the matrix's own min…max, because weights are probabilities: a flat
 * (uncertain) row should look faint and a confident one dark, whatever the rest of the matrix holds.
 */
export function heatColor(w: number): string {
  const t = Math.max(0, Math.min(1, w));
  return hexColor(255 + (DARK_RGB[0] - 255) * t, 255 + (DARK_RGB[1] - 255) * t, 255 + (DARK_RGB[2] - 255) * t);
}

const PAD = 10;
const TITLE_SIZE = 14;
const GRADIENT_ID = "attn-heat-scale";

/**
 * An SVG heatmap of attention weights: a grid of cells (row r = target/query token, column c =
 * source/key token), column labels on top (rotated when any is longer than 2 characters), row labels on
 * the left, an optional title and axis names, a colour bar from 0 to 1, and a tooltip on each cell
 * ("row → col: 0.123"). Cells are emitted in row-major order, each as `<rect class="cell">`.
 *
 * @throws CliError when the weights do not fill rows × cols, a label list has the wrong length, or a
 * weight is not finite (the message names its index).
 */
export function attentionHeatmapSvg(o: AttentionHeatmapOptions): string {
  const { weights, rows, cols } = o;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new CliError(`attention heatmap: rows and cols must be positive integers, got rows=${rows}, cols=${cols}`);
  }
  if (weights.length !== rows * cols) {
    throw new CliError(`attention heatmap: got ${weights.length} weights, expected rows × cols = ${rows} × ${cols} = ${rows * cols}`);
  }
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i])) {
      throw new CliError(`attention heatmap: weight at index ${i} (row ${Math.floor(i / cols)}, col ${i % cols}) is ${weights[i]}; weights must be finite`);
    }
  }
  const rowLabels = labelsOrIndices(o.rowLabels, rows, "rowLabels", "row");
  const colLabels = labelsOrIndices(o.colLabels, cols, "colLabels", "column");

  // Cells shrink as the matrix grows so a 100-token sentence still fits a screen, but never below a size
  // that can be hovered.
  const cell = Math.max(6, Math.min(32, Math.floor(640 / Math.max(rows, cols))));
  const fs = Math.max(6, Math.min(12, Math.round(cell * 0.75)));
  const rotate = colLabels.some((l) => [...l].length > 2);
  const widest = (ls: readonly string[]) => Math.max(0, ...ls.map((l) => textWidth(l, fs)));

  const titleH = o.title ? TITLE_SIZE + 10 : 0;
  const colAxisH = o.colAxis ? fs + 8 : 0;
  const colLabelH = (rotate ? widest(colLabels) : fs) + 8;
  const rowAxisW = o.rowAxis ? fs + 8 : 0;
  const gridX = PAD + rowAxisW + widest(rowLabels) + 8;
  const gridY = PAD + titleH + colAxisH + colLabelH;
  const gridW = cols * cell;
  const gridH = rows * cell;
  const barX = gridX + gridW + 16;
  const barW = 12;
  const barH = Math.max(48, Math.min(gridH, 200));
  const width = Math.max(barX + barW + 6 + textWidth("1", fs) + PAD, PAD * 2 + (o.title ? textWidth(o.title, TITLE_SIZE) : 0));
  const height = Math.max(gridY + gridH, gridY + barH) + PAD;

  const body: string[] = [];
  if (o.title) body.push(text(PAD, PAD + TITLE_SIZE, o.title, { "font-size": TITLE_SIZE, "font-weight": "bold" }));
  if (o.colAxis) body.push(text(gridX + gridW / 2, PAD + titleH + fs, o.colAxis, { "font-size": fs, "text-anchor": "middle", fill: "#444444" }));
  if (o.rowAxis) {
    const x = PAD + fs;
    const y = gridY + gridH / 2;
    body.push(text(x, y, o.rowAxis, { "font-size": fs, "text-anchor": "middle", fill: "#444444", transform: `rotate(-90 ${num(x)} ${num(y)})` }));
  }
  colLabels.forEach((l, c) => {
    const cx = gridX + (c + 0.5) * cell;
    if (rotate) {
      // Reads bottom to top, starting just above its column; 0.35 em centres the glyphs on the column.
      const x = cx + fs * 0.35;
      const y = gridY - 6;
      body.push(text(x, y, l, { "font-size": fs, transform: `rotate(-90 ${num(x)} ${num(y)})` }));
    } else {
      body.push(text(cx, gridY - 6, l, { "font-size": fs, "text-anchor": "middle" }));
    }
  });
  rowLabels.forEach((l, r) => body.push(text(gridX - 6, gridY + (r + 0.5) * cell + fs * 0.35, l, { "font-size": fs, "text-anchor": "end" })));

  // crispEdges: neighbouring cells would otherwise show hairline seams from anti-aliasing.
  body.push('<g shape-rendering="crispEdges">');
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const w = weights[r * cols + c];
      body.push(el("rect", { class: "cell", x: gridX + c * cell, y: gridY + r * cell, width: cell, height: cell, fill: heatColor(w) }, tooltip(`${rowLabels[r]} → ${colLabels[c]}: ${w.toFixed(3)}`)));
    }
  }
  body.push("</g>");
  // The outline makes the extent of a mostly-white (near-zero) matrix visible on the white page.
  body.push(el("rect", { x: gridX, y: gridY, width: gridW, height: gridH, fill: "none", stroke: "#888888", "stroke-width": 1 }));

  // The gradient interpolates in sRGB, as heatColor does, so the bar matches the cells.
  body.push(el("defs", {}, el("linearGradient", { id: GRADIENT_ID, x1: 0, y1: 1, x2: 0, y2: 0 }, [el("stop", { offset: 0, "stop-color": heatColor(0) }), el("stop", { offset: 1, "stop-color": heatColor(1) })])));
  body.push(el("rect", { class: "colorbar", x: barX, y: gridY, width: barW, height: barH, fill: `url(#${GRADIENT_ID})`, stroke: "#888888", "stroke-width": 1 }));
  body.push(text(barX + barW + 4, gridY + fs * 0.8, "1", { "font-size": fs }));
  body.push(text(barX + barW + 4, gridY + barH, "0", { "font-size": fs }));
  return svgDocument(width, height, body);
}

/** The given labels after checking their count, or the indices 0 … n−1. */
function labelsOrIndices(labels: readonly string[] | undefined, n: number, name: string, what: string): readonly string[] {
  if (!labels) return Array.from({ length: n }, (_, i) => String(i));
  if (labels.length !== n) throw new CliError(`attention heatmap: ${name} has ${labels.length} labels, expected ${n} (one per ${what})`);
  return labels;
}
