/**
 * Human and machine renderings of diagnostics. The text form is what `attn check` prints:
 *
 * ```text
 * model.attn:7:7: error ATTN2003: unknown layer or function `lnear`
 *   7 |   y = lnear(pooled, out: 1) as head
 *     |       ^~~~~
 *   hint: did you mean `linear`?
 * ```
 */
import type { SourceSpan } from "../span.js";
import { sortDiagnostics, type Diagnostic } from "./diagnostic.js";

/** Where to find the text of a file named in a span. */
export type SourceLookup =
  | ReadonlyMap<string, string>
  | Readonly<Record<string, string>>
  | ((file: string) => string | undefined);

export interface RenderOptions {
  /** ANSI colours (off by default: logs and tests want plain text). */
  color?: boolean;
  /** Append "2 errors, 1 warning" (on by default). */
  summary?: boolean;
}

function lookup(sources: SourceLookup, file: string): string | undefined {
  if (typeof sources === "function") return sources(file);
  if (sources instanceof Map) return sources.get(file);
  return (sources as Readonly<Record<string, string>>)[file];
}

const ansi = (code: string, on: boolean) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/**
 * The source line of a span and a caret line under it. The caret line copies tabs from the source so
 * the caret lines up whatever the terminal's tab width; a span running past the line end is cut there.
 */
export function snippet(text: string, span: SourceSpan): { lineText: string; caret: string } | undefined {
  const lines = text.split(/\r?\n/);
  const lineText = lines[span.line - 1];
  if (lineText === undefined) return undefined;
  const start = Math.min(span.column - 1, lineText.length);
  const prefix = lineText.slice(0, start).replace(/[^\t]/g, " ");
  const width = Math.max(1, Math.min(span.length, lineText.length - start));
  return { lineText, caret: prefix + "^" + "~".repeat(width - 1) };
}

function renderSnippet(text: string | undefined, span: SourceSpan, color: boolean): string[] {
  if (text === undefined) return [];
  const s = snippet(text, span);
  if (!s) return [];
  const gutter = String(span.line);
  const pad = " ".repeat(gutter.length);
  const blue = ansi("34", color);
  return [
    `  ${blue(gutter + " |")} ${s.lineText}`,
    `  ${blue(pad + " |")} ${ansi("1;31", color)(s.caret)}`,
  ];
}

function location(span: SourceSpan): string {
  return `${span.file}:${span.line}:${span.column}`;
}

/** One diagnostic as text: header line, snippet, hint, related notes. */
export function renderDiagnostic(d: Diagnostic, sources: SourceLookup, options: RenderOptions = {}): string {
  const color = options.color ?? false;
  const label = d.severity === "error" ? ansi("1;31", color)("error") : ansi("1;33", color)("warning");
  const out = [`${ansi("1", color)(location(d.span))}: ${label} ${d.code}: ${d.message}`];
  out.push(...renderSnippet(lookup(sources, d.span.file), d.span, color));
  if (d.hint) out.push(`  ${ansi("36", color)("hint")}: ${d.hint}`);
  for (const r of d.related ?? []) {
    out.push(`  ${ansi("36", color)("note")}: ${r.message} (${location(r.span)})`);
    out.push(...renderSnippet(lookup(sources, r.span.file), r.span, color).map((l) => "  " + l));
  }
  return out.join("\n");
}

/** Every diagnostic, sorted by position, separated by blank lines, with a summary line. */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: SourceLookup,
  options: RenderOptions = {},
): string {
  const sorted = sortDiagnostics(diagnostics);
  const parts = sorted.map((d) => renderDiagnostic(d, sources, options));
  if ((options.summary ?? true) && sorted.length > 0) parts.push(summarize(sorted));
  return parts.join("\n\n");
}

/** "2 errors, 1 warning". */
export function summarize(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return [errors > 0 ? plural(errors, "error") : "", warnings > 0 ? plural(warnings, "warning") : ""]
    .filter(Boolean)
    .join(", ");
}

/** The JSON form (for `attn check --json`, editors and the playground): stable, versioned, sorted. */
export interface DiagnosticsJson {
  readonly format: "attn-diagnostics";
  readonly version: 1;
  readonly diagnostics: readonly Diagnostic[];
}

export function diagnosticsToJson(diagnostics: readonly Diagnostic[]): DiagnosticsJson {
  return { format: "attn-diagnostics", version: 1, diagnostics: sortDiagnostics(diagnostics) };
}

export function renderDiagnosticsJson(diagnostics: readonly Diagnostic[]): string {
  return JSON.stringify(diagnosticsToJson(diagnostics), null, 2);
}
