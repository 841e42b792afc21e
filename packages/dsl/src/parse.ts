/**
 * One file, text → AST + diagnostics: lex, parse (with recovery), build the AST. Never throws on bad
 * input. Name resolution and the other semantic checks are `check` (check/resolve.ts).
 */
import type { SourceFile } from "./ast/ast.js";
import { buildAst } from "./ast/build-ast.js";
import { sortDiagnostics, type Diagnostic } from "./diagnostics/diagnostic.js";
import { tokenize } from "./lexer/lexer.js";
import { parseTokens } from "./parser/parser.js";
import { dedupeSyntaxErrors, junkDiagnostic, syntaxDiagnostic, topLevelJunkDiagnostic } from "./parser/syntax-errors.js";

export interface ParseResult {
  /** The AST; with syntax errors it is partial and may contain `Invalid` nodes. */
  file: SourceFile;
  /** Syntax diagnostics (ATTN1xxx and the few structural ones), sorted by position. */
  diagnostics: Diagnostic[];
}

export function parse(text: string, file: string): ParseResult {
  const lexed = tokenize(text, file);
  const parsed = parseTokens(lexed.tokens);
  const context = { file, text, tokens: lexed.tokens };
  const syntax = [
    ...parsed.errors.map((e) => syntaxDiagnostic(context, e)),
    ...parsed.skippedLines.map((junk) => junkDiagnostic(context, junk)),
    ...parsed.skippedTopLevel.map((junk) => topLevelJunkDiagnostic(context, junk)),
  ];
  const errorOffsets = [
    ...parsed.errors.flatMap((e) => [e.token, ...e.resyncedTokens]),
    ...parsed.skippedLines.flat(),
    ...parsed.skippedTopLevel.flat(),
  ]
    .map((t) => t.startOffset)
    .filter((o) => !Number.isNaN(o));
  const built = buildAst(parsed.cst, file, text.length, errorOffsets);
  // The builder's structural errors are syntax errors too: one per line with the parser's.
  const diagnostics = [...lexed.diagnostics, ...dedupeSyntaxErrors(lexed.diagnostics, [...syntax, ...built.diagnostics])];
  return { file: built.file, diagnostics: sortDiagnostics(diagnostics) };
}
