/**
 * Source positions. Every AST node and diagnostic carries a {@link SourceSpan}.
 *
 * TODO(core): the IR's nodes carry the same span; this type should move to `@attn/core` and be
 * re-exported from here once core exports it (dsl may not import core while core is being written).
 */
import type { IToken } from "chevrotain";

export interface SourceSpan {
  /** The file the span is in, as given to `parse` / `loadProgram`. */
  readonly file: string;
  /** 1-based line of the first character. */
  readonly line: number;
  /** 1-based column of the first character (in UTF-16 code units, as editors count). */
  readonly column: number;
  /** Number of characters covered (`endOffset - offset`); may run over several lines. */
  readonly length: number;
  /** 0-based offset of the first character. */
  readonly offset: number;
  /** 0-based offset one past the last character. */
  readonly endOffset: number;
}

/** True for tokens that chevrotain invented during error recovery (they have no position). */
export function isVirtualToken(token: IToken): boolean {
  return token.isInsertedInRecovery === true || Number.isNaN(token.startOffset);
}

export function spanOfToken(file: string, token: IToken): SourceSpan {
  const end = (token.endOffset ?? token.startOffset + token.image.length - 1) + 1;
  return {
    file,
    line: token.startLine ?? 1,
    column: token.startColumn ?? 1,
    length: end - token.startOffset,
    offset: token.startOffset,
    endOffset: end,
  };
}

/** The smallest span covering both (which must be in the same file). */
export function joinSpans(first: SourceSpan, last: SourceSpan): SourceSpan {
  if (last.offset < first.offset) [first, last] = [last, first];
  const endOffset = Math.max(first.endOffset, last.endOffset);
  return { ...first, endOffset, length: endOffset - first.offset };
}

/**
 * A one-character span just after `token`: where a missing `)` or `]` belongs. Pointing there reads
 * better than pointing at whatever happens to follow on the next line.
 */
export function spanAfterToken(file: string, token: IToken): SourceSpan {
  const end = (token.endOffset ?? token.startOffset) + 1;
  return {
    file,
    line: token.endLine ?? token.startLine ?? 1,
    column: (token.endColumn ?? token.startColumn ?? 0) + 1,
    length: 1,
    offset: end,
    endOffset: end + 1,
  };
}

/** A span at a raw offset, computing line and column from the text (for lexer errors and EOF). */
export function spanAtOffset(file: string, text: string, offset: number, length: number): SourceSpan {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { file, line, column: offset - lineStart + 1, length, offset, endOffset: offset + length };
}

/** `line:column`, as diagnostics quote other locations ("opened at 4:12"). */
export function formatPosition(span: SourceSpan): string {
  return `${span.line}:${span.column}`;
}
