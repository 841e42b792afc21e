/**
 * Statement separation, the way Python does it: a line break ends a statement unless a `(` or `[` is
 * still open. This pass turns those line breaks into {@link Newline} tokens.
 *
 * One refinement for error recovery: when a `(` or `[` is left open and the next line plainly starts a
 * new statement (`name = ...`, `input ...`, `}` ...), the bracket is taken as unclosed right there. The
 * parser then reports "expected `)` to close the call to `linear` opened at 4:12" on the right line and
 * carries on, instead of swallowing the rest of the file as arguments.
 */
import { createTokenInstance, type IToken, type TokenType } from "chevrotain";
import * as T from "./tokens.js";

/** Keywords that can only begin a statement or declaration, never appear inside an expression. */
const statementKeywords: ReadonlySet<TokenType> = new Set([
  T.Input, T.Output, T.Yield, T.Encoder, T.Decoder, T.Scope, T.Model, T.Block, T.Import, T.RBrace,
]);

function newlineAfter(token: IToken): IToken {
  const offset = (token.endOffset ?? token.startOffset) + 1;
  const line = token.endLine ?? token.startLine ?? 1;
  const column = (token.endColumn ?? token.startColumn ?? 0) + 1;
  return createTokenInstance(T.Newline, "\n", offset, offset, line, line, column, column);
}

/**
 * Does the line starting at `tokens[i]` look like the start of a statement? Only asked while a bracket
 * is open (`opener` is the index of the innermost one), so a `name =` inside a scan header or a
 * parameter list (`h = h0`, `p2 = 3`) does not count.
 */
function startsStatement(tokens: readonly IToken[], i: number, opener: number): boolean {
  if (statementKeywords.has(tokens[i].tokenType)) return true;
  const before = tokens[opener - 1]?.tokenType;
  const beforeName = tokens[opener - 2]?.tokenType;
  const isHeader =
    before === T.Scan || (before === T.Identifier && (beforeName === T.Model || beforeName === T.Block));
  if (tokens[opener].tokenType === T.LParen && isHeader) return false;
  // `a, b = ...`: a plain `=` never appears inside an argument list otherwise.
  let j = i;
  while (tokens[j]?.tokenType === T.Identifier) {
    if (tokens[j + 1]?.tokenType === T.Equals) return true;
    if (tokens[j + 1]?.tokenType !== T.Comma) return false;
    j += 2;
  }
  return false;
}

export function insertNewlines(tokens: readonly IToken[]): IToken[] {
  const out: IToken[] = [];
  // Indices (into `tokens`) of the brackets and braces still open.
  const open: number[] = [];
  const kindOf = (index: number) => tokens[index].tokenType;
  const last = () => out[out.length - 1];
  const pushNewline = () => {
    const prev = last();
    if (prev !== undefined && prev.tokenType !== T.Newline && prev.tokenType !== T.LBrace) {
      out.push(newlineAfter(prev));
    }
  };
  const popToBrace = () => {
    while (open.length > 0 && kindOf(open[open.length - 1]) !== T.LBrace) open.pop();
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const prev = last();
    const top = open[open.length - 1];
    const inBrackets = top !== undefined && kindOf(top) !== T.LBrace;
    const lineBreak = prev !== undefined && (token.startLine ?? 0) > (prev.endLine ?? prev.startLine ?? 0);
    // No Newline before a `{`: `model M()` and its body may sit on different lines.
    if (lineBreak && token.tokenType !== T.LBrace) {
      if (!inBrackets) {
        pushNewline();
      } else if (startsStatement(tokens, i, top)) {
        popToBrace();
        pushNewline();
      }
    }
    switch (token.tokenType) {
      case T.LParen:
      case T.LBracket:
      case T.LBrace:
        open.push(i);
        break;
      case T.RParen:
      case T.RBracket: {
        const want = token.tokenType === T.RParen ? T.LParen : T.LBracket;
        if (open.length > 0 && kindOf(open[open.length - 1]) === want) open.pop();
        break;
      }
      case T.RBrace:
        // A statement inside `{ ... }` ends at the `}` even on the same line: `encoder { y = f(x) }`.
        popToBrace();
        open.pop();
        pushNewline();
        break;
    }
    out.push(token);
  }
  // Every statement ends with a Newline, including the last one of a file without a final line break.
  pushNewline();
  return out;
}
