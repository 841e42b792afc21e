/** Number and table formatting shared by the console and Markdown reports. */

/** A duration in ms with a unit that keeps 3 significant digits: `812 µs`, `12.3 ms`, `4.56 s`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1) return `${sig(ms * 1000)} µs`;
  if (ms < 1000) return `${sig(ms)} ms`;
  return `${sig(ms / 1000)} s`;
}

/** A rate with 3 significant digits (no exponent below 1e6). */
export function formatRate(x: number): string {
  return sig(x);
}

/** A ratio as `1.23×`, `—` when unknown. */
export function formatRatio(r: number | undefined): string {
  return r === undefined ? "—" : `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** Resident memory from kilobytes (as `maxRSS` reports it) in MiB, written `MB` as top and ps do. */
export function formatKb(kb: number | undefined): string {
  return kb === undefined ? "—" : `${Math.round(kb / 1024)} MB`;
}

function sig(x: number): string {
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(a)));
  return x.toFixed(digits);
}

export type Align = "left" | "right";

/** A plain-text table: columns padded to their widest cell, a rule under the header. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (align[i] === "right" ? pad(c, widths[i], true) : pad(c, widths[i], false))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** A GitHub-flavoured Markdown table; `|` inside cells is escaped. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const rule = header.map((_, i) => (align[i] === "right" ? "---:" : "---"));
  return [header, rule, ...rows].map((r) => `| ${r.map((c) => (r === rule ? c : esc(c ?? ""))).join(" | ")} |`).join("\n");
}

/** Display width: code points, so `µ` and `×` count as one column. */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, left: boolean): string {
  const fill = " ".repeat(Math.max(0, w - width(s)));
  return left ? fill + s : s + fill;
}
