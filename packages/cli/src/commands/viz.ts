import { basename } from "node:path";
import { CliError, readInput, writeFileAtomic } from "../io.js";
import { attentionHeatmapSvg } from "../viz/attention-heatmap.js";
import { attentionMatrix } from "../viz/attention-matrix.js";
import { parseJsonl, trainingCurvesSvg } from "../viz/curves.js";
import { openSession, type ModelRunFlags } from "./run.js";

/** The pictures `attn viz KIND FILE` draws. */
export const VIZ_KINDS = ["curves", "attention"] as const;
/** One of {@link VIZ_KINDS}. */
export type VizKind = (typeof VIZ_KINDS)[number];

export interface VizFlags extends ModelRunFlags {
  /** The SVG file to write (`-o`). */
  out?: string;
  /** `--metric NAME`… for curves (default: every metric in the log). */
  metrics: readonly string[];
  /** `--output NAME` for attention: the model output holding the weights. */
  output?: string;
  /** `--rows a,b,c` / `--cols x,y,z`: token labels for attention. */
  rows?: string;
  cols?: string;
}

/**
 * `attn viz curves LOG.jsonl -o curves.svg` and `attn viz attention FILE --inputs X.json --output NAME
 * -o heat.svg`: SVG pictures of a training log and of a model's attention weights, written atomically.
 */
export async function viz(kind: VizKind, path: string, f: VizFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  // Checked before any work: a long model run that then cannot say where to write is wasted.
  if (!f.out) throw new CliError(`attn viz ${kind} needs -o FILE.svg`);
  return kind === "curves" ? curves(path, f.out, f, out) : attention(path, f.out, f, out, err);
}

async function curves(path: string, dest: string, f: VizFlags, out: (s: string) => void): Promise<number> {
  const records = parseJsonl((await readInput(path, "log file")).toString("utf8"), path);
  const svg = trainingCurvesSvg(records, { metrics: f.metrics, title: `training curves: ${basename(path)}` });
  await writeFileAtomic(dest, svg);
  out(`wrote ${dest} (${records.length} records)`);
  return 0;
}

async function attention(path: string, dest: string, f: VizFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  // The picture is of the reference computation; other backends are for speed, which one run does not need.
  if (f.backend !== "cpu") throw new CliError(`attn viz attention runs on the cpu backend; --backend ${f.backend} is not supported here`);
  const { graph, session, feeds } = await openSession(path, f, err, "attn viz attention");
  try {
    const names = graph.outputs.map((o) => o.name);
    const attn = graph.outputs.filter((o) => o.role === "attention").map((o) => o.name);
    // Without --output, a model that names exactly one attention output leaves no doubt which to draw.
    const name = f.output ?? (attn.length === 1 ? attn[0] : undefined);
    if (name === undefined) throw new CliError(`attn viz attention needs --output NAME (outputs of ${graph.name}: ${names.join(", ")})`);
    if (!names.includes(name)) throw new CliError(`no output "${name}" in ${graph.name} (available: ${names.join(", ")})`);
    // Any output of rank 2–4 can be drawn, but only attention weights are probabilities; say so rather than
    // refuse, since a graph built without the DSL may not mark its attention outputs.
    if (!attn.includes(name)) err(`note: output "${name}" is not marked as attention weights; its values are drawn on the 0…1 scale, clamped`);
    const results = await session.run(feeds, { outputs: [name] });
    const m = attentionMatrix(results[name], name);
    const rowLabels = labels(f.rows, "--rows", m.rows, "rows", name);
    const colLabels = labels(f.cols, "--cols", m.cols, "columns", name);
    const title = `${graph.name}: ${name}${m.note ? ` (${m.note})` : ""}`;
    await writeFileAtomic(dest, attentionHeatmapSvg({ ...m, rowLabels, colLabels, title, rowAxis: "query", colAxis: "key" }));
    out(`wrote ${dest} (${m.rows} × ${m.cols} attention weights "${name}"${m.note ? `, ${m.note}` : ""})`);
    return 0;
  } finally {
    session.dispose();
  }
}

/** Comma-separated labels from a flag, checked against the matrix so the message can name the flag. */
function labels(raw: string | undefined, flag: string, n: number, what: string, output: string): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(",").map((s) => s.trim());
  if (list.length !== n) throw new CliError(`${flag} has ${list.length} label${list.length === 1 ? "" : "s"} but output "${output}" has ${n} ${what}`);
  return list;
}
