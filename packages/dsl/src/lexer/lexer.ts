/**
 * Lexing: text → tokens plus diagnostics. Never throws; bad characters are reported and skipped so
 * the parser still sees the rest of the file.
 */
import { createTokenInstance, Lexer, type IToken } from "chevrotain";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics } from "../diagnostics/messages.js";
import { spanAtOffset, spanOfToken } from "../span.js";
import { insertNewlines } from "./newlines.js";
import { allTokens, SingleQuotedString, StringLiteral, UnterminatedString } from "./tokens.js";

// One shared instance: building a lexer validates and optimises every pattern, which is costly.
const lexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: true });

export interface LexResult {
  /** The parser's input: significant tokens plus the inserted statement-ending Newlines. */
  tokens: IToken[];
  diagnostics: Diagnostic[];
}

export function tokenize(text: string, file: string): LexResult {
  const result = lexer.tokenize(text);
  const diagnostics: Diagnostic[] = result.errors.map((e) => {
    const found = text.substr(e.offset, e.length);
    return createDiagnostic(
      Diagnostics.UnexpectedCharacter,
      { found: describeCharacters(found) },
      spanAtOffset(file, text, e.offset, e.length),
      { hint: characterHint(found) },
    );
  });
  const tokens = result.tokens.map((token) => {
    if (token.tokenType === UnterminatedString) {
      diagnostics.push(createDiagnostic(Diagnostics.UnterminatedString, {}, spanOfToken(file, token)));
    } else if (token.tokenType === SingleQuotedString) {
      const quote = spanOfToken(file, token);
      const span = { ...quote, length: 1, endOffset: quote.offset + 1 };
      diagnostics.push(
        createDiagnostic(Diagnostics.UnexpectedCharacter, { found: "`'`" }, span, { hint: characterHint("'") }),
      );
    } else {
      return token;
    }
    // Hand the parser a well-formed string so one bad quote does not cascade into parse errors.
    const body = token.image.replace(/^['"]/, "").replace(/['"]$/, "");
    return createTokenInstance(
      StringLiteral,
      `"${body}"`,
      token.startOffset,
      token.endOffset ?? token.startOffset,
      token.startLine ?? 1,
      token.endLine ?? 1,
      token.startColumn ?? 1,
      token.endColumn ?? 1,
    );
  });
  return { tokens: insertNewlines(tokens), diagnostics };
}

function describeCharacters(chars: string): string {
  return chars.length === 1 ? `\`${chars}\`` : `\`${chars}\` (${chars.length} characters)`;
}

/** Targeted hints for characters people bring from other languages. */
function characterHint(chars: string): string | undefined {
  if (chars.startsWith("'")) return 'strings use double quotes: "..."';
  if (chars.startsWith(";")) return "statements end at the end of the line; remove the `;`";
  if (chars.startsWith("!")) return "the only operator with `!` is `!=`";
  if (chars.startsWith(".")) return "names cannot contain `.`; parameter scopes are named with `as name`";
  return undefined;
}
