import { CliError } from "../io.js";
import { el, escapeXml, num, svgDocument, text } from "./svg.js";

/** One metric over the x axis, in log order. */
export interface Series {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/** Options of {@link trainingCurvesSvg}. */
export interface CurvesOptions {
  /** The metrics to draw, one panel each, in this order (default: every numeric field, in order of appearance). */
  metrics?: readonly string[];
  title?: string;
}

/** Fields that are coordinates or bookkeeping, not curves worth a panel of their own. */
const NOT_METRICS = new Set(["time", "epoch", "batch", "batches", "examples", "step"]);
/** `attn train --log` events that carry no curve (`best` of early stopping is not a series). */
const SKIPPED_EVENTS = new Set(["checkpoint", "early_stop"]);
/** The most points a polyline gets: more than a panel has pixels across only costs bytes. */
export const MAX_POINTS = 800;

/**
 * Parses JSON Lines: one JSON object per non-blank line. A bad line is a CliError naming
 * `source:line`, so a log truncated by a crash says where.
 */
export function parseJsonl(text: string, source: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  // A byte-order mark (some Windows editors add one) is not JSON; line numbers stay those an editor shows.
  text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new CliError(`${source}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new CliError(`${source}:${i + 1}: expected a JSON object, got ${Array.isArray(v) ? "an array" : JSON.stringify(v)}`);
    out.push(v as Record<string, unknown>);
  });
  return out;
}

/**
 * The series in a training log: every finite numeric field of each record (and of a nested `metrics`
 * object, as `attn train --log` writes per-epoch validation results) against the x axis, which is `step`
 * when any record has one, else `epoch`, else the record's position (1, 2, …).
 *
 * On the step axis a record without a step (an epoch summary) is placed at the last step logged before
 * it: the log is chronological, so that is the step at which the epoch ended.
 */
export function curveSeries(records: readonly object[]): { xAxis: string; series: Series[] } {
  const recs = (records as readonly Record<string, unknown>[]).filter((r) => !SKIPPED_EVENTS.has(r.type as string));
  const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  const xAxis = recs.some((r) => isNum(r.step)) ? "step" : recs.some((r) => isNum(r.epoch)) ? "epoch" : "record";
  // A Map keeps first-appearance order, which is the order panels are drawn in by default.
  const series = new Map<string, { x: number[]; y: number[] }>();
  let lastX: number | undefined;
  recs.forEach((r, i) => {
    const x = xAxis === "record" ? i + 1 : isNum(r[xAxis]) ? (r[xAxis] as number) : xAxis === "step" ? lastX : undefined;
    if (x === undefined) return;
    lastX = x;
    const fields: [string, unknown][] = Object.entries(r);
    if (r.metrics && typeof r.metrics === "object" && !Array.isArray(r.metrics)) {
      for (const [k, v] of Object.entries(r.metrics)) if (!(k in r)) fields.push([k, v]);
    }
    for (const [k, v] of fields) {
      if (k === xAxis || NOT_METRICS.has(k) || !isNum(v)) continue;
      let s = series.get(k);
      if (!s) series.set(k, (s = { x: [], y: [] }));
      s.x.push(x);
      s.y.push(v);
    }
  });
  return { xAxis, series: [...series].map(([name, s]) => ({ name, ...s })) };
}

/**
 * At most `max` points: consecutive runs of `bucket` = ⌈n / max⌉ points replaced by the mean of their x
 * and of their y (the last run may be shorter). Means rather than every k-th point, so a noisy step loss
 * becomes its moving trend instead of an arbitrary sample of the noise.
 */
export function downsample(x: readonly number[], y: readonly number[], max = MAX_POINTS): { x: number[]; y: number[]; bucket: number } {
  if (x.length !== y.length) throw new CliError(`downsample: ${x.length} x values but ${y.length} y values`);
  if (x.length <= max) return { x: [...x], y: [...y], bucket: 1 };
  const bucket = Math.ceil(x.length / max);
  const ox: number[] = [];
  const oy: number[] = [];
  for (let i = 0; i < x.length; i += bucket) {
    const end = Math.min(x.length, i + bucket);
    let sx = 0;
    let sy = 0;
    for (let j = i; j < end; j++) {
      sx += x[j];
      sy += y[j];
    }
    ox.push(sx / (end - i));
    oy.push(sy / (end - i));
  }
  return { x: ox, y: oy, bucket };
}

/** Axis ticks: their values, and the exponent of their step (for formatting the labels). */
export interface Ticks {
  readonly values: readonly number[];
  readonly exponent: number;
}

/**
 * 4 to 6 evenly spaced "nice" ticks (a step of 1, 2 or 5 × 10^k) whose first is ≤ `min` and last ≥ `max`,
 * so the axis covers the data and reads at a glance. A single value gets a small range around it.
 */
export function niceTicks(min: number, max: number): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new CliError(`axis range must be finite, got ${min} … ${max}`);
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    [min, max] = [min - d, max + d];
  }
  const top = Math.floor(Math.log10(max - min));
  // k = value / step, snapped when within rounding error of an integer: 0.3 / 0.1 is 2.9999999999999996,
  // and flooring that would add a needless tick below the data.
  const snap = (q: number) => (Math.abs(q - Math.round(q)) < 1e-9 ? Math.round(q) : q);
  // Steps from fine to coarse: the first that gives at most 6 ticks is the finest grid that fits. Its
  // finer predecessor gave 7 or more, so this one rarely gives fewer than 4; when it does (rounding at
  // both ends), a tick is added on top, which keeps the ticks nice and the data covered.
  for (let e = top - 2; ; e++) {
    for (const m of [1, 2, 5]) {
      const step = scaled(m, e);
      const lo = Math.floor(snap(min / step));
      const hi = Math.ceil(snap(max / step));
      if (hi - lo + 1 > 6) continue;
      const values: number[] = [];
      for (let k = lo; k <= Math.max(hi, lo + 3); k++) values.push(scaled(k * m, e));
      return { values, exponent: e };
    }
  }
}

/** k × 10^e, divided rather than multiplied for negative e, so 3 × 10^-1 is 0.3 and not 0.30000000000000004. */
function scaled(k: number, e: number): number {
  const v = e >= 0 ? k * 10 ** e : k / 10 ** -e;
  return Object.is(v, -0) ? 0 : v;
}

/** A tick label with as many decimals as the tick step needs; exponent notation for tiny or huge steps. */
export function formatTick(v: number, exponent: number): string {
  if (v === 0) return "0";
  if (exponent < -4 || exponent > 5) return v.toExponential(Math.max(0, Math.floor(Math.log10(Math.abs(v)) + 1e-9) - exponent));
  return v.toFixed(Math.max(0, -exponent));
}

const WIDTH = 720;
const PANEL_H = 230;
const PAD = 10;
const TITLE_SIZE = 14;
const FS = 11;
const PLOT = { left: 70, right: 20, top: 44, bottom: 44 } as const;
const LINE_COLOR = "#1f77b4";
/** Series this short get a dot per point: one epoch's value would otherwise be an invisible polyline. */
const MARKERS_UP_TO = 50;

/**
 * Line charts of a training log (the records of `attn train --log`, or plain per-epoch records of any
 * numeric fields): one panel per metric with nice ticks on both axes and the series as a polyline
 * (`<polyline class="series">`). Series longer than {@link MAX_POINTS} are averaged in buckets, which
 * the panel's subtitle says.
 *
 * @throws CliError when there is nothing numeric to draw or a requested metric is not in the log.
 */
export function trainingCurvesSvg(records: readonly object[], opts: CurvesOptions = {}): string {
  const { xAxis, series } = curveSeries(records);
  if (!series.length) throw new CliError(`no numeric fields to plot (besides ${[xAxis, ...NOT_METRICS].filter((k, i, a) => a.indexOf(k) === i).join(", ")})`);
  const byName = new Map(series.map((s) => [s.name, s]));
  const chosen = opts.metrics?.length
    ? opts.metrics.map((m) => {
        const s = byName.get(m);
        if (!s) throw new CliError(`no metric "${m}" in the log (available: ${series.map((x) => x.name).join(", ")})`);
        return s;
      })
    : series;
  const titleH = opts.title ? TITLE_SIZE + 12 : 0;
  const body: string[] = [];
  if (opts.title) body.push(text(PAD, PAD + TITLE_SIZE, opts.title, { "font-size": TITLE_SIZE, "font-weight": "bold" }));
  chosen.forEach((s, i) => body.push(panel(s, xAxis, PAD + titleH + i * PANEL_H)));
  return svgDocument(WIDTH, PAD * 2 + titleH + chosen.length * PANEL_H, body);
}

/** One metric's chart, its top edge at `top`, as one `<g class="panel">`. */
function panel(s: Series, xAxis: string, top: number): string {
  const d = downsample(s.x, s.y);
  const n = s.x.length;
  const subtitle = d.bucket > 1
    ? `${n.toLocaleString("en-US")} points, shown as ${d.x.length} means of ${d.bucket} consecutive points`
    : `${n.toLocaleString("en-US")} point${n === 1 ? "" : "s"}`;
  const xt = niceTicks(Math.min(...d.x), Math.max(...d.x));
  const yt = niceTicks(Math.min(...d.y), Math.max(...d.y));
  const x0 = PLOT.left;
  const y0 = top + PLOT.top;
  const w = WIDTH - PLOT.left - PLOT.right;
  const h = PANEL_H - PLOT.top - PLOT.bottom;
  const [xlo, xhi] = [xt.values[0], xt.values[xt.values.length - 1]];
  const [ylo, yhi] = [yt.values[0], yt.values[yt.values.length - 1]];
  const px = (v: number) => x0 + ((v - xlo) / (xhi - xlo)) * w;
  const py = (v: number) => y0 + h - ((v - ylo) / (yhi - ylo)) * h;

  const parts: string[] = [];
  parts.push(text(x0, top + 16, s.name, { "font-size": 13, "font-weight": "bold" }));
  parts.push(text(x0, top + 31, subtitle, { "font-size": FS, fill: "#666666", class: "subtitle" }));
  for (const v of yt.values) {
    parts.push(el("line", { x1: x0, y1: py(v), x2: x0 + w, y2: py(v), stroke: "#e5e5e5" }));
    parts.push(text(x0 - 6, py(v) + FS * 0.35, formatTick(v, yt.exponent), { "font-size": FS, "text-anchor": "end", class: "ytick" }));
  }
  for (const v of xt.values) {
    parts.push(el("line", { x1: px(v), y1: y0, x2: px(v), y2: y0 + h, stroke: "#e5e5e5" }));
    parts.push(text(px(v), y0 + h + FS + 4, formatTick(v, xt.exponent), { "font-size": FS, "text-anchor": "middle", class: "xtick" }));
  }
  parts.push(el("rect", { x: x0, y: y0, width: w, height: h, fill: "none", stroke: "#888888" }));
  parts.push(text(x0 + w / 2, y0 + h + 2 * FS + 10, xAxis, { "font-size": FS, "text-anchor": "middle", fill: "#444444" }));
  const points = d.x.map((x, i) => `${num(px(x))},${num(py(d.y[i]))}`).join(" ");
  parts.push(el("polyline", { class: "series", points, fill: "none", stroke: LINE_COLOR, "stroke-width": 1.5, "stroke-linejoin": "round" }));
  if (d.x.length <= MARKERS_UP_TO) {
    d.x.forEach((x, i) => parts.push(el("circle", { cx: px(x), cy: py(d.y[i]), r: 2.5, fill: LINE_COLOR })));
  }
  return `<g class="panel" data-metric="${escapeXml(s.name)}">\n${parts.join("\n")}\n</g>`;
}
