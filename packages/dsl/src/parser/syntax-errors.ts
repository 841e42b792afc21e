/**
 * Turns chevrotain's recognition exceptions into catalogue diagnostics that read like a compiler's:
 * "expected `)` to close the call to `linear` opened at 4:12" rather than "Expecting token of type
 * --> RParen <-- but found --> 'z' <--".
 *
 * The exception tells us what failed (its type, the rule stack, the offending and previous tokens,
 * and through parser.ts's message provider the expected token types). Context such as "the call to
 * `linear`" or "input `x`" is recovered from the token vector around the error, which is simpler and
 * more robust than threading state through a recovering parser.
 */
import { EOF, tokenMatcher, type IRecognitionException, type IToken, type TokenType } from "chevrotain";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics, format, Hints } from "../diagnostics/messages.js";
import { suggest } from "../diagnostics/suggest.js";
import * as T from "../lexer/tokens.js";
import {
  formatPosition,
  isVirtualToken,
  joinSpans,
  spanAfterToken,
  spanAtOffset,
  spanOfToken,
  type SourceSpan,
} from "../span.js";
import type { ParserErrorDetail } from "./parser.js";

const tokenTypesByName = new Map<string, TokenType>([...T.allTokens, EOF].map((t) => [t.name, t]));

/** Rules whose closing bracket follows a comma-separated list: "expected `,` or `)`". */
const listRules = new Set(["argList", "paramList", "list", "tensorType", "scanExpr"]);
const closers = new Map<TokenType, TokenType>([
  [T.RParen, T.LParen],
  [T.RBracket, T.LBracket],
  [T.RBrace, T.LBrace],
]);
const topLevelKeywords = new Set<TokenType>([T.Model, T.Block, T.Import]);

interface Context {
  file: string;
  text: string;
  tokens: readonly IToken[];
}

const isReal = (t: IToken | undefined): t is IToken =>
  t !== undefined && t.tokenType !== EOF && !isVirtualToken(t);

/** "`)`", "end of line", "end of file", or a quoted (shortened) image. */
export function describeToken(token: IToken | undefined): string {
  if (token === undefined || token.tokenType === EOF) return "end of file";
  if (token.tokenType === T.Newline) return "end of line";
  const image = token.image.length > 24 ? token.image.slice(0, 21) + "..." : token.image;
  return `\`${image}\``;
}

function describeExpected(names: readonly string[]): string {
  const labels = [
    ...new Set(
      names.map((n) => {
        if (n === "EOF") return "end of file";
        const type = tokenTypesByName.get(n);
        return type?.LABEL ?? n;
      }),
    ),
  ];
  if (labels.length <= 1) return labels[0] ?? "something else";
  return `${labels.slice(0, -1).join(", ")} or ${labels[labels.length - 1]}`;
}

/** Index of `token` in the vector (by offset); the vector's length for EOF. */
function indexOf(tokens: readonly IToken[], token: IToken): number {
  if (!isReal(token)) return tokens.length;
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const offset = tokens[mid].startOffset;
    if (offset === token.startOffset && tokens[mid].tokenType === token.tokenType) return mid;
    if (offset < token.startOffset || (offset === token.startOffset && tokens[mid].tokenType === T.Newline)) {
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return tokens.findIndex((t) => t === token);
}

/** The innermost unmatched `open` before index `from`, or -1. */
function findOpener(tokens: readonly IToken[], from: number, open: TokenType, close: TokenType): number {
  let depth = 0;
  for (let i = from - 1; i >= 0; i--) {
    const type = tokens[i].tokenType;
    if (type === close) depth++;
    else if (type === open) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** "input `x`" / "output `y`": the declaration a shape or dtype error sits in. */
function declarationOwner(tokens: readonly IToken[], from: number): string {
  for (let i = Math.min(from, tokens.length) - 1; i >= 0; i--) {
    const type = tokens[i].tokenType;
    if (type === T.Input || type === T.Output) {
      const name = tokens[i + 1];
      const what = type === T.Input ? "input" : "output";
      return name?.tokenType === T.Identifier ? `${what} \`${name.image}\`` : what;
    }
    if (type === T.Newline) break;
  }
  return "this type";
}

/** Describes what the bracket at `index` opens: "the call to `linear`", "the body of model `M`"... */
function describeOpener(tokens: readonly IToken[], index: number): string {
  const type = tokens[index].tokenType;
  const prev = tokens[index - 1];
  const prev2 = tokens[index - 2];
  const name = (t: IToken | undefined) => `\`${t?.image ?? "?"}\``;
  if (type === T.LParen) {
    if (prev?.tokenType === T.Identifier) {
      if (prev2?.tokenType === T.Model) return `the hyperparameters of model ${name(prev)}`;
      if (prev2?.tokenType === T.Block) return `the parameters of block ${name(prev)}`;
      if (prev2?.tokenType === T.Attention) return `the call to attention ${name(prev)}`;
      return `the call to ${name(prev)}`;
    }
    if (prev?.tokenType === T.RParen) {
      const j = findOpener(tokens, index - 1, T.LParen, T.RParen);
      if (tokens[j - 1]?.tokenType === T.Identifier) return `the inputs of block ${name(tokens[j - 1])}`;
    }
    if (prev?.tokenType === T.Scan) return "the scan header";
    return "the parenthesis";
  }
  if (type === T.LBracket) {
    if ((prev !== undefined && tokenMatcher(prev, T.Dtype)) || prev2?.tokenType === T.Colon) {
      return `the shape of ${declarationOwner(tokens, index)}`;
    }
    return "the list";
  }
  return describeBody(tokens, index);
}

/** "the body of model `M`", "the scan body", "the `encoder` block", "scope `attn`". */
function describeBody(tokens: readonly IToken[], braceIndex: number): string {
  if (braceIndex < 0) return "this body";
  const prev = tokens[braceIndex - 1];
  switch (prev?.tokenType) {
    case T.Encoder:
      return "the `encoder` block";
    case T.Decoder:
      return "the `decoder` block";
    case T.Identifier:
      if (tokens[braceIndex - 2]?.tokenType === T.Scope) return `scope \`${prev.image}\``;
      break;
    case T.RParen: {
      const j = findOpener(tokens, braceIndex - 1, T.LParen, T.RParen);
      const head = tokens[j - 1];
      const kw = tokens[j - 2]?.tokenType;
      if (head?.tokenType === T.Scan) return "the scan body";
      if (head?.tokenType === T.Identifier && kw === T.Model) return `the body of model \`${head.image}\``;
      if (head?.tokenType === T.Identifier && kw === T.Block) return `the body of block \`${head.image}\``;
      break;
    }
  }
  return "this body";
}

function ruleOf(e: IRecognitionException): string {
  const stack = e.context?.ruleStack ?? [];
  return stack[stack.length - 1] ?? "file";
}

function expectedOf(e: IRecognitionException): string[] {
  try {
    return (JSON.parse(e.message) as ParserErrorDetail).expected;
  } catch {
    return [];
  }
}

function previousOf(e: IRecognitionException): IToken | undefined {
  const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
  return isReal(prev) ? prev : undefined;
}

/** Where to point for a *missing* token: at the offender on the same line, else just after the previous token. */
function insertionSpan(ctx: Context, found: IToken, previous: IToken | undefined): SourceSpan {
  const foundIsHere = isReal(found) && found.tokenType !== T.Newline;
  if (foundIsHere && (previous === undefined || found.startLine === previous.endLine)) {
    return spanOfToken(ctx.file, found);
  }
  // An inserted Newline already sits just after the last token of its line.
  if (previous?.tokenType === T.Newline) return spanOfToken(ctx.file, previous);
  if (previous !== undefined) return spanAfterToken(ctx.file, previous);
  if (isReal(found)) return spanOfToken(ctx.file, found);
  return spanAtOffset(ctx.file, ctx.text, ctx.text.length, 1);
}

/** Where to point for an *unexpected* token: the token itself (or the end of the previous one). */
function offenderSpan(ctx: Context, found: IToken, previous: IToken | undefined): SourceSpan {
  if (isReal(found) && found.tokenType !== T.Newline) return spanOfToken(ctx.file, found);
  return insertionSpan(ctx, found, previous);
}

export function syntaxDiagnostic(ctx: Context, e: IRecognitionException): Diagnostic {
  const rule = ruleOf(e);
  const found = e.token;
  const previous = previousOf(e);
  const foundText = describeToken(found);
  const expected = expectedOf(e);
  const at = indexOf(ctx.tokens, found);

  if (e.name === "MismatchedTokenException" || e.name === "NotAllInputParsedException") {
    const want = tokenTypesByName.get(expected[0] ?? "");
    if (want === EOF || e.name === "NotAllInputParsedException") {
      return createDiagnostic(Diagnostics.ExpectedDeclaration, { found: foundText }, offenderSpan(ctx, found, previous));
    }
    const keywordAsName = keywordMisuse(ctx, found, previous, want === T.Identifier);
    if (keywordAsName) return keywordAsName;
    const opener = want !== undefined ? closers.get(want) : undefined;
    if (want !== undefined && opener !== undefined) {
      const onSameLine = isReal(found) && found.tokenType !== T.Newline && (previous === undefined || found.startLine === previous.endLine);
      const openIndex = findOpener(ctx.tokens, at, opener, want);
      if (want === T.RBrace && isReal(found) && !topLevelKeywords.has(found.tokenType)) {
        // A stray token where a statement should start (chevrotain reports it as "expected `}`").
        return createDiagnostic(
          Diagnostics.ExpectedStatement,
          { owner: describeBody(ctx.tokens, openIndex), found: foundText },
          offenderSpan(ctx, found, previous),
        );
      }
      if (onSameLine && listRules.has(rule)) {
        return createDiagnostic(
          Diagnostics.UnexpectedToken,
          { expected: `\`,\` or ${want.LABEL}`, found: foundText },
          spanOfToken(ctx.file, found),
        );
      }
      if (openIndex >= 0 && !onSameLine) {
        const openSpan = spanOfToken(ctx.file, ctx.tokens[openIndex]);
        return createDiagnostic(
          Diagnostics.UnclosedDelimiter,
          { close: want.LABEL ?? want.name, construct: describeOpener(ctx.tokens, openIndex), location: formatPosition(openSpan) },
          insertionSpan(ctx, found, previous),
          {
            hint: format(Hints.Found, { found: foundText }),
            related: [{ message: `\`${ctx.tokens[openIndex].image}\` opened here`, span: openSpan }],
          },
        );
      }
    }
    return createDiagnostic(
      Diagnostics.UnexpectedToken,
      { expected: describeExpected(expected), found: foundText },
      insertionSpan(ctx, found, previous),
    );
  }

  // NoViableAltException / EarlyExitException: nothing that could start the construct was found.
  const span = offenderSpan(ctx, found, previous);
  switch (rule) {
    case "primary":
    case "unary":
    case "rhs":
    case "yieldStmt":
      if (tokenMatcher(found, T.Keyword)) {
        const misuse = keywordMisuse(ctx, found, previous, true);
        if (misuse && found.tokenType !== T.Attention) return misuse;
      }
      return createDiagnostic(Diagnostics.ExpectedExpression, { found: foundText }, span);
    case "dimAtom":
      return createDiagnostic(
        Diagnostics.ExpectedDimension,
        { owner: declarationOwner(ctx.tokens, at), found: foundText },
        span,
      );
    case "dtype":
      return createDiagnostic(Diagnostics.ExpectedDtype, { owner: declarationOwner(ctx.tokens, at), found: foundText }, span);
    case "scanBinding":
    case "scanExpr":
      return createDiagnostic(Diagnostics.ExpectedScanBinding, { found: foundText }, span, {
        hint: found.image === "in" || found.image === ":" ? "a sequence is written `e over seq`" : undefined,
      });
    case "file":
      return createDiagnostic(Diagnostics.ExpectedDeclaration, { found: foundText }, span);
    case "member": {
      // A name followed by neither `=`, `,` nor `{`: most likely an assignment missing its `=`.
      const next = ctx.tokens[at + 1];
      if (found.tokenType === T.Identifier && next !== undefined) {
        return createDiagnostic(
          Diagnostics.UnexpectedToken,
          { expected: "`=`", found: describeToken(next) },
          insertionSpan(ctx, next, found),
        );
      }
      const owner = describeBody(ctx.tokens, findOpener(ctx.tokens, at, T.LBrace, T.RBrace));
      return createDiagnostic(Diagnostics.ExpectedStatement, { owner, found: foundText }, span);
    }
    default:
      return createDiagnostic(Diagnostics.UnexpectedToken, { expected: describeExpected(expected), found: foundText }, span);
  }
}

/**
 * A keyword used as a name: `input scope: ...` (the keyword is where a name was expected) or
 * `encoder = ...` (the keyword started a statement, then `=` or `,` made no sense).
 */
function keywordMisuse(
  ctx: Context,
  found: IToken,
  previous: IToken | undefined,
  nameExpected: boolean,
): Diagnostic | undefined {
  const isKeyword = (t: IToken | undefined) => t !== undefined && tokenMatcher(t, T.Keyword);
  let culprit: IToken | undefined;
  if (nameExpected && isKeyword(found) && isReal(found)) culprit = found;
  else if (isKeyword(previous) && (found.tokenType === T.Equals || found.tokenType === T.Comma)) culprit = previous;
  if (culprit === undefined) return undefined;
  return createDiagnostic(Diagnostics.KeywordAsName, { keyword: culprit.image }, spanOfToken(ctx.file, culprit), {
    hint: format(Hints.RenameKeyword, { name: culprit.image }),
  });
}

/** "expected end of line" for tokens left over after a complete statement. */
export function junkDiagnostic(ctx: Context, skipped: readonly IToken[]): Diagnostic {
  const first = skipped[0];
  const sameLine = skipped.filter((t) => t.startLine === first.startLine);
  const span = joinSpans(spanOfToken(ctx.file, first), spanOfToken(ctx.file, sameLine[sameLine.length - 1]));
  return createDiagnostic(Diagnostics.UnexpectedToken, { expected: "end of line", found: describeToken(first) }, span, {
    hint: "a statement ends at the end of its line; put the next one on a line of its own",
  });
}

/** "expected `import`, `block` or `model`" for a run of tokens between declarations. */
export function topLevelJunkDiagnostic(ctx: Context, skipped: readonly IToken[]): Diagnostic {
  const first = skipped[0];
  const guess = first.tokenType === T.Identifier ? suggest(first.image, ["model", "block", "import"]) : undefined;
  return createDiagnostic(Diagnostics.ExpectedDeclaration, { found: describeToken(first) }, spanOfToken(ctx.file, first), {
    hint: guess ? format(Hints.DidYouMean, { name: guess }) : "everything up to the next `model`, `block` or `import` was skipped",
  });
}

/**
 * Keeps the first parser error on each line, and none on a line the lexer already complained about:
 * after one mistake, the rest of a line is usually consequences of it, not news.
 */
export function dedupeSyntaxErrors(lexical: readonly Diagnostic[], parsed: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set(lexical.map((d) => d.span.line));
  const kept: Diagnostic[] = [];
  for (const d of [...parsed].sort((a, b) => a.span.offset - b.span.offset)) {
    if (seen.has(d.span.line)) continue;
    seen.add(d.span.line);
    kept.push(d);
  }
  return kept;
}

export type { Context as SyntaxErrorContext };
