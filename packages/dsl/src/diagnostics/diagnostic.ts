/**
 * The diagnostic value every stage produces. Plain data (JSON-serialisable), so the CLI, the docs
 * playground and an editor integration can all consume it.
 */
import type { SourceSpan } from "../span.js";
import { format, type DiagnosticTemplate, type Severity, type TemplateArgs } from "./messages.js";

export type { Severity } from "./messages.js";

/** A secondary location, e.g. "first declared here" or "opened here". */
export interface RelatedInformation {
  readonly message: string;
  readonly span: SourceSpan;
}

export interface Diagnostic {
  /** Stable code from the catalogue, e.g. `ATTN2003`. */
  readonly code: string;
  readonly severity: Severity;
  /** One line, no trailing period. */
  readonly message: string;
  readonly span: SourceSpan;
  /** What to do about it, e.g. "did you mean `linear`?". */
  readonly hint?: string;
  readonly related?: readonly RelatedInformation[];
}

export interface DiagnosticExtras {
  hint?: string | undefined;
  related?: readonly RelatedInformation[] | undefined;
}

/** Builds a diagnostic from a catalogue entry; the only way the package creates one. */
export function createDiagnostic<T extends string>(
  entry: DiagnosticTemplate<T>,
  args: TemplateArgs<T>,
  span: SourceSpan,
  extras: DiagnosticExtras = {},
): Diagnostic {
  const diagnostic: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = {
    code: entry.code,
    severity: entry.severity,
    message: format(entry, args),
    span,
  };
  if (extras.hint !== undefined) diagnostic.hint = extras.hint;
  if (extras.related !== undefined && extras.related.length > 0) diagnostic.related = extras.related;
  return diagnostic;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Orders by file, then position, then code, so output is stable whatever order checks ran in. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.span.file.localeCompare(b.span.file) ||
      a.span.offset - b.span.offset ||
      a.code.localeCompare(b.code),
  );
}

/**
 * Thrown by APIs that cannot return diagnostics (e.g. a future `lower()` handed a broken program).
 * Carries every diagnostic; the message is the first one.
 */
export class DslError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    const first = diagnostics[0];
    super(
      first
        ? `${first.span.file}:${first.span.line}:${first.span.column}: ${first.code}: ${first.message}` +
            (diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : "")
        : "invalid .attn program",
    );
    this.name = "DslError";
    this.diagnostics = diagnostics;
  }
}
