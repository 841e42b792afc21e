/**
 * The `.attn` grammar as a chevrotain CstParser with error recovery on: a syntax error is recorded
 * and the parser re-synchronises (single-token insertion/deletion, or skipping to the next token
 * that can follow the failed rule), so one pass reports every independent mistake and still yields
 * a (partial) tree for the later stages.
 *
 * The grammar is deliberately a little more liberal than the language where that turns a parse
 * error into a precise diagnostic later: a dtype position accepts any name (`float` → "did you mean
 * `float32`?"), a dimension accepts a float, and argument lists accept named arguments everywhere
 * (`build-ast.ts` reports the misplaced ones).
 *
 * Statements end at a `Newline` token, which `lexer/newlines.ts` inserts where a line ends outside
 * brackets. Each statement is followed by exactly that token (see `body`), so the only token that can
 * follow a statement is `Newline`; that is what makes recovery resynchronise at the end of the broken
 * line rather than at the next identifier on it.
 */
import {
  EMPTY_ALT, CstParser, EOF, type CstNode, type IToken, type TokenType } from "chevrotain";
import * as T from "../lexer/tokens.js";

/**
 * Chevrotain builds error messages through this provider. We do not want its wording; we want the
 * expected token type, which its exceptions do not keep. So the "message" is a small JSON record that
 * `syntax-errors.ts` decodes and turns into a catalogue diagnostic.
 */
export interface ParserErrorDetail {
  /** Token types that would have been accepted (names as in tokens.ts). */
  expected: string[];
}

const structuredMessages = {
  buildMismatchTokenMessage: ({ expected }: { expected: TokenType }) =>
    JSON.stringify({ expected: [expected.name] } satisfies ParserErrorDetail),
  buildNotAllInputParsedMessage: () => JSON.stringify({ expected: ["EOF"] } satisfies ParserErrorDetail),
  buildNoViableAltMessage: ({ expectedPathsPerAlt }: { expectedPathsPerAlt: TokenType[][][] }) =>
    JSON.stringify({ expected: firstTokens(expectedPathsPerAlt.flat()) } satisfies ParserErrorDetail),
  buildEarlyExitMessage: ({ expectedIterationPaths }: { expectedIterationPaths: TokenType[][] }) =>
    JSON.stringify({ expected: firstTokens(expectedIterationPaths) } satisfies ParserErrorDetail),
};

function firstTokens(paths: TokenType[][]): string[] {
  return [...new Set(paths.map((p) => p[0]?.name).filter((n): n is string => n !== undefined))];
}

export class AttnParser extends CstParser {
  constructor() {
    super(T.allTokens, {
      recoveryEnabled: true,
      nodeLocationTracking: "full",
      errorMessageProvider: structuredMessages,
    });
    this.performSelfAnalysis();
  }

  // ---- files and declarations ---------------------------------------------------------------------

  public readonly file = this.RULE("file", () => {
    this.ACTION(() => this.skipTopLevelJunk());
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Newline) },
        { ALT: () => this.SUBRULE(this.importDecl) },
        { ALT: () => this.SUBRULE(this.modelDecl) },
        { ALT: () => this.SUBRULE(this.blockDecl) },
      ]);
      this.ACTION(() => this.skipTopLevelJunk());
    });
  });

  /** Runs of tokens skipped between declarations (`odel M() {...}`), reported once each. */
  public skippedTopLevel: IToken[][] = [];

  /**
   * Skips whatever cannot start a declaration, up to the next `model`, `block` or `import`. Chevrotain's
   * own recovery would resume at every line end and report each line of a mangled model separately.
   */
  private skipTopLevelJunk(): void {
    const starts = new Set<TokenType>([T.Newline, T.Model, T.Block, T.Import, EOF]);
    if (starts.has(this.LA(1).tokenType)) return;
    const skipped: IToken[] = [];
    while (!starts.has(this.LA(1).tokenType) || this.LA(1).tokenType === T.Newline) {
      skipped.push(this.LA(1));
      this.SKIP_TOKEN();
    }
    this.skippedTopLevel.push(skipped);
  }

  private readonly importDecl = this.RULE("importDecl", () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.StringLiteral);
  });

  private readonly modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.optionalParams);
    this.SUBRULE(this.body);
  });

  private readonly blockDecl = this.RULE("blockDecl", () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.optionalParams);
    this.SUBRULE(this.body);
  });

  /** `(params)`, or nothing before the `{` of the body: `model M { ... }` needs no empty `()`. */
  private readonly optionalParams = this.RULE("optionalParams", () => {
    this.OR([{ ALT: () => this.SUBRULE(this.paramList) }, { GATE: () => this.LA(1).tokenType === T.LBrace, ALT: EMPTY_ALT() }]);
  });

  private readonly paramList = this.RULE("paramList", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.paramDecl) });
    this.CONSUME(T.RParen);
  });

  private readonly paramDecl = this.RULE("paramDecl", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  // ---- bodies -------------------------------------------------------------------------------------

  private readonly body = this.RULE("body", () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.member);
      // In a rule of its own so that junk after a statement is skipped there, not by abandoning the body.
      this.SUBRULE(this.endOfLine);
    });
    this.CONSUME(T.RBrace);
  });

  /**
   * The end of a statement. Junk before the Newline (`y = f(x)) + 1`) is skipped by hand and kept in
   * {@link skippedLines} for syntax-errors.ts to report. Doing it by hand keeps
   * it out of the grammar: as far as chevrotain's analysis knows, a statement is followed by a Newline
   * and nothing else, so recovery inside a statement resynchronises at the end of its line, and a
   * broken line never makes chevrotain abandon the enclosing body (the only tokens that may follow a
   * body are top-level ones).
   */
  private readonly endOfLine = this.RULE("endOfLine", () => {
    this.ACTION(() => this.skipRestOfLine());
    this.CONSUME(T.Newline);
  });

  /** Runs of tokens skipped by {@link endOfLine}, one array per broken line. */
  public skippedLines: IToken[][] = [];

  private skipRestOfLine(): void {
    const skipped: IToken[] = [];
    let depth = 0; // `{ ... }` blocks inside the junk are skipped whole, so their `}` cannot close the body
    for (;;) {
      const token = this.LA(1);
      const type = token.tokenType;
      if (type === EOF || (depth === 0 && (type === T.Newline || type === T.RBrace))) break;
      if (type === T.LBrace && this.opensBlock()) depth++;
      else if (type === T.RBrace) depth--;
      skipped.push(token);
      this.SKIP_TOKEN(); // returns the *next* token, hence LA(1) above
    }
    if (skipped.length > 0) this.skippedLines.push(skipped);
  }

  /**
   * Does the `{` at LA(1) open a block: one that ends its line, or is closed on the same line? A stray
   * `{` in the middle of a line (`f{(x)`) does not, and must not make us skip to some later `}`.
   */
  private opensBlock(): boolean {
    const line = this.LA(1).endLine ?? 0;
    let depth = 0;
    for (let k = 2; ; k++) {
      const token = this.LA(k);
      const onSameLine = (token.startLine ?? Infinity) <= line;
      if (token.tokenType === EOF) return false;
      if (!onSameLine) return k === 2;
      if (token.tokenType === T.LBrace) depth++;
      if (token.tokenType === T.RBrace && depth-- === 0) return true;
    }
  }

  private readonly member = this.RULE("member", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.inputDecl) },
      { ALT: () => this.SUBRULE(this.outputDecl) },
      { ALT: () => this.SUBRULE(this.scopeStmt) },
      { ALT: () => this.SUBRULE(this.trainSection) },
      { ALT: () => this.SUBRULE(this.yieldStmt) },
      { ALT: () => this.SUBRULE(this.assignment) },
    ]);
  });

  private readonly inputDecl = this.RULE("inputDecl", () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.tensorType);
  });

  private readonly outputDecl = this.RULE("outputDecl", () => {
    this.CONSUME(T.Output);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.tensorType);
    });
  });

  private readonly tensorType = this.RULE("tensorType", () => {
    this.SUBRULE(this.dtype);
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.dim) });
    this.CONSUME(T.RBracket);
  });

  /** Any name is accepted here so that `float` gets "did you mean `float32`?" instead of a parse error. */
  private readonly dtype = this.RULE("dtype", () => {
    this.OR([{ ALT: () => this.CONSUME(T.Dtype) }, { ALT: () => this.CONSUME(T.Identifier) }]);
  });

  private readonly dim = this.RULE("dim", () => {
    this.SUBRULE(this.dimTerm);
    this.MANY(() => {
      this.CONSUME(T.AddOp);
      this.SUBRULE2(this.dimTerm);
    });
  });

  private readonly dimTerm = this.RULE("dimTerm", () => {
    this.SUBRULE(this.dimAtom);
    this.MANY(() => {
      this.CONSUME(T.MulOp);
      this.SUBRULE2(this.dimAtom);
    });
  });

  private readonly dimAtom = this.RULE("dimAtom", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.IntegerLiteral) },
      { ALT: () => this.CONSUME(T.FloatLiteral) },
      { ALT: () => this.CONSUME(T.Identifier) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.dim);
          this.CONSUME(T.RParen);
        },
      },
    ]);
  });

  /**
   * `encoder { }`, `decoder { }`, `scope name { }`; also `name { }` (a misspelt keyword such as
   * `encodr {`), accepted so the block keeps its structure, and reported by build-ast.ts.
   */
  private readonly scopeStmt = this.RULE("scopeStmt", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Encoder) },
      { ALT: () => this.CONSUME(T.Decoder) },
      {
        ALT: () => {
          this.CONSUME(T.Scope);
          this.CONSUME(T.Identifier);
        },
      },
      { ALT: () => this.CONSUME2(T.Identifier, { LABEL: "misspelt" }) },
    ]);
    this.SUBRULE(this.body);
  });

  /** `train { key: value ... }`: how the model trains (loss, optimizer, schedule, batch size, ...). */
  private readonly trainSection = this.RULE("trainSection", () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.trainEntry);
      this.SUBRULE(this.endOfLine);
    });
    this.CONSUME(T.RBrace);
  });

  private readonly trainEntry = this.RULE("trainEntry", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expression);
  });

  private readonly yieldStmt = this.RULE("yieldStmt", () => {
    this.CONSUME(T.Yield);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
  });

  private readonly assignment = this.RULE("assignment", () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Identifier) });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.rhs);
    this.OPTION(() => {
      this.CONSUME(T.As);
      this.CONSUME2(T.Identifier, { LABEL: "scopeName" });
    });
  });

  /** `repeat` and `scan` only make sense as a whole statement, so they are not expressions. */
  private readonly rhs = this.RULE("rhs", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.repeatExpr) },
      { ALT: () => this.SUBRULE(this.scanExpr) },
      { ALT: () => this.SUBRULE(this.expression) },
    ]);
  });

  private readonly repeatExpr = this.RULE("repeatExpr", () => {
    this.CONSUME(T.Repeat);
    this.SUBRULE(this.additive, { LABEL: "count" });
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.argList, { LABEL: "args" });
    this.SUBRULE2(this.argList, { LABEL: "inputs" });
  });

  private readonly scanExpr = this.RULE("scanExpr", () => {
    this.CONSUME(T.Scan);
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.scanBinding) });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.body);
  });

  private readonly scanBinding = this.RULE("scanBinding", () => {
    this.CONSUME(T.Identifier);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Over);
          this.SUBRULE(this.expression, { LABEL: "sequence" });
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Equals);
          this.SUBRULE2(this.expression, { LABEL: "init" });
        },
      },
    ]);
  });

  // ---- expressions (precedence climbs: comparison < additive < multiplicative < unary) -------------

  private readonly expression = this.RULE("expression", () => {
    this.SUBRULE(this.additive, { LABEL: "left" });
    // Non-associative on purpose: `a < b < c` means nothing for masks.
    this.OPTION(() => {
      this.CONSUME(T.CompareOp);
      this.SUBRULE2(this.additive, { LABEL: "right" });
    });
  });

  private readonly additive = this.RULE("additive", () => {
    this.SUBRULE(this.multiplicative, { LABEL: "operands" });
    this.MANY(() => {
      this.CONSUME(T.AddOp);
      this.SUBRULE2(this.multiplicative, { LABEL: "operands" });
    });
  });

  private readonly multiplicative = this.RULE("multiplicative", () => {
    this.SUBRULE(this.unary, { LABEL: "operands" });
    this.MANY(() => {
      this.CONSUME(T.MulOp);
      this.SUBRULE2(this.unary, { LABEL: "operands" });
    });
  });

  private readonly unary = this.RULE("unary", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  private readonly primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.IntegerLiteral) },
      { ALT: () => this.CONSUME(T.FloatLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.Dtype) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.parenthesized) },
      { ALT: () => this.SUBRULE(this.attentionExpr) },
      { ALT: () => this.SUBRULE(this.callOrName) },
    ]);
  });

  private readonly list = this.RULE("list", () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(T.RBracket);
  });

  private readonly parenthesized = this.RULE("parenthesized", () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
  });

  private readonly attentionExpr = this.RULE("attentionExpr", () => {
    this.CONSUME(T.Attention);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.argList);
  });

  /** `name`, `f(args)`, or a block use `Block(params)(inputs)`. */
  private readonly callOrName = this.RULE("callOrName", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.SUBRULE(this.argList, { LABEL: "args" });
      this.OPTION2(() => this.SUBRULE2(this.argList, { LABEL: "inputs" }));
    });
  });

  private readonly argList = this.RULE("argList", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
    this.CONSUME(T.RParen);
  });

  private readonly argument = this.RULE("argument", () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier, { LABEL: "key" });
      this.CONSUME(T.Colon);
    });
    this.SUBRULE(this.expression);
  });
}

/** One shared parser: construction runs grammar analysis, which is far costlier than a parse. */
export const parser = new AttnParser();

export interface CstParseResult {
  cst: CstNode;
  errors: AttnParser["errors"];
  /** Tokens skipped after a complete statement, one array per line (reported as "expected end of line"). */
  skippedLines: IToken[][];
  /** Tokens skipped between declarations, one array per run (reported as "expected a declaration"). */
  skippedTopLevel: IToken[][];
}

/** Parses a token vector into a CST. Never throws on bad input; errors come back in `errors`. */
export function parseTokens(tokens: IToken[]): CstParseResult {
  parser.input = tokens; // also resets the parser's errors
  parser.skippedLines = [];
  parser.skippedTopLevel = [];
  const cst = parser.file();
  return { cst, errors: parser.errors, skippedLines: parser.skippedLines, skippedTopLevel: parser.skippedTopLevel };
}
