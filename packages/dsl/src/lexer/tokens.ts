/**
 * Token vocabulary of the `.attn` language.
 *
 * Order matters twice: chevrotain tries patterns in the order of {@link allTokens}, so longer operators
 * come before their prefixes (`==` before `=`) and floats before integers; and every keyword names
 * {@link Identifier} as its `longer_alt`, so `models` or `input_ids` still lex as identifiers.
 */
import { createToken, Lexer, type TokenType } from "chevrotain";

// ---- trivia -------------------------------------------------------------------------------------

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

export const Comment = createToken({
  name: "Comment",
  pattern: /#[^\r\n]*/,
  group: Lexer.SKIPPED,
});

/**
 * End of a statement. Never matched by the lexer: `newlines.ts` inserts it where a line ends outside
 * `(...)` / `[...]`, so statements are line-delimited and error recovery can resynchronise at the
 * next line instead of at the next identifier.
 */
export const Newline = createToken({ name: "Newline", label: "end of line", pattern: Lexer.NA });

// ---- identifiers and keywords -------------------------------------------------------------------

export const Identifier = createToken({
  name: "Identifier",
  label: "a name",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
});

/** Category shared by every keyword: lets error messages say "`scope` is a keyword". */
export const Keyword = createToken({ name: "Keyword", pattern: Lexer.NA });

/** Category for the three dtype keywords, so the parser can `CONSUME(Dtype)`. */
export const Dtype = createToken({ name: "Dtype", pattern: Lexer.NA });

function keyword(word: string, categories: TokenType[] = []): TokenType {
  return createToken({
    name: word[0].toUpperCase() + word.slice(1),
    label: `\`${word}\``,
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: [Keyword, ...categories],
  });
}

export const Model = keyword("model");
export const Block = keyword("block");
export const Input = keyword("input");
export const Output = keyword("output");
export const Import = keyword("import");
export const Encoder = keyword("encoder");
export const Decoder = keyword("decoder");
export const Scope = keyword("scope");
export const Repeat = keyword("repeat");
export const Scan = keyword("scan");
export const Over = keyword("over");
export const Yield = keyword("yield");
export const As = keyword("as");
export const Attention = keyword("attention");
export const Train = keyword("train");
export const True = keyword("true");
export const False = keyword("false");
export const Float32 = keyword("float32", [Dtype]);
export const Int32 = keyword("int32", [Dtype]);
export const Bool = keyword("bool", [Dtype]);

// ---- literals -----------------------------------------------------------------------------------

export const FloatLiteral = createToken({
  name: "FloatLiteral",
  label: "a number",
  pattern: /\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/,
});

export const IntegerLiteral = createToken({
  name: "IntegerLiteral",
  label: "an integer",
  pattern: /\d+/,
});

export const StringLiteral = createToken({
  name: "StringLiteral",
  label: "a string",
  pattern: /"(?:[^"\\\r\n]|\\.)*"/,
});

/**
 * A string that reaches the end of its line without a closing quote. Matching it as a token (instead
 * of letting the lexer fail character by character) gives one precise "unterminated string" error;
 * the lexer wrapper reports it and hands the parser a normal string in its place.
 */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\r\n]|\\.)*/,
});

/** `'text'`: reported ("strings use double quotes") and then treated as a string, like above. */
export const SingleQuotedString = createToken({
  name: "SingleQuotedString",
  pattern: /'[^'\r\n]*'?/,
});

// ---- punctuation and operators ------------------------------------------------------------------

function punct(name: string, text: string, categories: TokenType[] = []): TokenType {
  const escaped = text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return createToken({
    name,
    label: `\`${text}\``,
    pattern: new RegExp(escaped),
    categories,
  });
}

export const AddOp = createToken({ name: "AddOp", pattern: Lexer.NA });
export const MulOp = createToken({ name: "MulOp", pattern: Lexer.NA });
export const CompareOp = createToken({ name: "CompareOp", pattern: Lexer.NA });

export const EqualsEquals = punct("EqualsEquals", "==", [CompareOp]);
export const NotEquals = punct("NotEquals", "!=", [CompareOp]);
export const Less = punct("Less", "<", [CompareOp]);
export const Greater = punct("Greater", ">", [CompareOp]);
export const Equals = punct("Equals", "=");
export const Plus = punct("Plus", "+", [AddOp]);
export const Minus = punct("Minus", "-", [AddOp]);
export const Star = punct("Star", "*", [MulOp]);
export const Slash = punct("Slash", "/", [MulOp]);
export const LParen = punct("LParen", "(");
export const RParen = punct("RParen", ")");
export const LBracket = punct("LBracket", "[");
export const RBracket = punct("RBracket", "]");
export const LBrace = punct("LBrace", "{");
export const RBrace = punct("RBrace", "}");
export const Comma = punct("Comma", ",");
export const Colon = punct("Colon", ":");

/** Keywords in the order they are tried (before {@link Identifier}). */
export const keywordTokens: TokenType[] = [
  Model, Block, Input, Output, Import, Encoder, Decoder, Scope, Repeat, Scan, Over, Yield, As,
  Attention, Train, True, False, Float32, Int32, Bool,
];

/** Every token type, in lexing priority order; the parser is built from the same list. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  ...keywordTokens,
  Identifier,
  FloatLiteral,
  IntegerLiteral,
  StringLiteral,
  UnterminatedString,
  SingleQuotedString,
  EqualsEquals,
  NotEquals,
  Less,
  Greater,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  // Tokens without a pattern (inserted, or categories) must still be known to the lexer and parser.
  Newline,
  Keyword,
  Dtype,
  AddOp,
  MulOp,
  CompareOp,
];

/** The keyword spellings, e.g. for "`scope` is a keyword" and for did-you-mean on dtypes. */
export const keywordSpellings: readonly string[] = [
  "model", "block", "input", "output", "import", "encoder", "decoder", "scope", "repeat", "scan",
  "over", "yield", "as", "attention", "true", "false", "float32", "int32", "bool",
];

export const dtypeSpellings = ["float32", "int32", "bool"] as const;
