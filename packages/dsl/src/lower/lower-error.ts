import type { SourceSpan } from "../span.js";
import { format, type DiagnosticTemplate, type TemplateArgs } from "../diagnostics/messages.js";

/**
 * A problem found while lowering one statement, made from a catalogue entry. The lowering turns it into a
 * diagnostic and goes on with the next statement, so one file reports many mistakes.
 */
export class LowerError extends Error {
  readonly code: string;
  constructor(
    entry: DiagnosticTemplate,
    args: Record<string, string | number>,
    readonly span: SourceSpan,
    readonly hint?: string,
  ) {
    super(format(entry, args as TemplateArgs<string>));
    this.code = entry.code;
  }
}

/** Thrown when a statement reads a value whose own statement already failed: reported once, not again. */
export class PoisonedError extends Error {}
