/**
 * A region of `.attn` source text. Lines and columns are 1-based; `length` counts characters on the
 * starting line (a caret underline), `offset` is the 0-based character offset into the file.
 */
export interface SourceSpan {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly length: number;
  readonly offset?: number;
}

/** Formats a span as `file:line:col`, the form editors and terminals turn into links. */
export function formatSpan(span: SourceSpan): string {
  return `${span.file}:${span.line}:${span.column}`;
}
