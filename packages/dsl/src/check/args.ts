/**
 * Checks the arguments of a call against its catalogue entry: arity, unknown and duplicate names,
 * missing required arguments, and the kind of literal values (`hidden: "16"`). Used for layers,
 * functions and attention kinds alike (block parameters are checked in resolve.ts).
 */
import type { Expr, Identifier, NamedArg, NameExpr } from "../ast/ast.js";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics, format, Hints } from "../diagnostics/messages.js";
import { suggest } from "../diagnostics/suggest.js";
import { dtypeSpellings } from "../lexer/tokens.js";
import { describeArgType, keywordArgs, positionalArgs, type ArgSpec, type ArgType } from "../layers/catalogue.js";
import { joinSpans } from "../span.js";
import { describeKind, type ValueKind } from "./env.js";

/** What argument checking needs from the expression checker. */
export interface ArgContext {
  report(diagnostic: Diagnostic): void;
  /** Checks an expression in value position (names, nested calls) and returns its kind. */
  valueKind(expr: Expr): ValueKind;
  /** Checks a name used as a dimension (hyperparameter, symbolic dim, or integer variable). */
  dimName(expr: NameExpr): void;
  /** Whether a value name is bound (so `none` can mean "absent" only when it is not). */
  isBound(name: string): boolean;
}

export interface CallShape {
  /** For messages: "`linear`", "attention `additive`". */
  readonly callee: string;
  readonly calleeName: Identifier;
  readonly args: readonly Expr[];
  readonly named: readonly NamedArg[];
  /** The list was cut short by a syntax error: do not report missing arguments. */
  readonly incomplete?: boolean;
}

/** "1 positional argument", "2 to 3 positional arguments", "at least 1 positional argument". */
export function positionalCount(min: number, max: number): string {
  const noun = (n: number) => `${n} positional argument${n === 1 ? "" : "s"}`;
  if (max === Infinity) return `at least ${noun(min)}`;
  if (min === max) return noun(min);
  return `${min} to ${noun(max)}`;
}

export function checkCallArgs(
  ctx: ArgContext,
  call: CallShape,
  specs: readonly ArgSpec[],
  variadic?: { readonly name: string; readonly min: number },
): void {
  const positional = positionalArgs(specs);
  const keyword = keywordArgs(specs);
  const given = new Map<string, { span: NamedArg["span"] }>();
  // Names offered as "did you mean": the misspelt argument stands for them, so they are not missing.
  const suggested = new Set<string>();

  // Positional arguments, by position.
  const max = variadic ? Infinity : positional.length;
  const requiredPositional = positional.filter((p) => p.required).length + (variadic?.min ?? 0);
  const min = Math.min(requiredPositional, max);
  if (call.args.length > max || (variadic && call.args.length < min && !call.incomplete)) {
    const extra = call.args.slice(max);
    const span = extra.length > 0 ? joinSpans(extra[0].span, extra[extra.length - 1].span) : call.calleeName.span;
    ctx.report(
      createDiagnostic(Diagnostics.PositionalArity, { callee: call.callee, expected: positionalCount(min, max), count: call.args.length }, span),
    );
  }
  call.args.forEach((arg, i) => {
    const spec = positional[i] ?? (variadic ? { name: variadic.name, type: "tensor" as const } : undefined);
    if (spec === undefined) {
      ctx.valueKind(arg); // still resolve names inside it
      return;
    }
    if (i < positional.length) given.set(spec.name, { span: arg.span });
    checkValue(ctx, call.callee, spec, arg);
  });

  // Named arguments.
  for (const arg of call.named) {
    const spec = keyword.find((s) => s.name === arg.name.name);
    if (spec === undefined) {
      const guess = suggest(arg.name.name, keyword.map((s) => s.name));
      if (guess !== undefined) suggested.add(guess);
      const list = keyword.map((s) => `\`${s.name}\``).join(", ");
      ctx.report(
        createDiagnostic(Diagnostics.UnknownArgument, { callee: call.callee, name: arg.name.name }, arg.name.span, {
          hint: guess ? format(Hints.DidYouMean, { name: guess }) : list ? `its named arguments are ${list}` : "it takes no named arguments",
        }),
      );
      ctx.valueKind(arg.value);
      continue;
    }
    const previous = given.get(spec.name);
    if (previous !== undefined) {
      ctx.report(
        createDiagnostic(Diagnostics.DuplicateArgument, { name: spec.name }, arg.name.span, {
          related: [{ message: "first given here", span: previous.span }],
        }),
      );
    }
    given.set(spec.name, { span: arg.span });
    checkValue(ctx, call.callee, spec, arg.value);
  }

  // Required arguments that were not given at all (unknowable if a syntax error cut the list short).
  if (call.incomplete) return;
  for (const spec of specs) {
    if (!spec.required || given.has(spec.name) || suggested.has(spec.name)) continue;
    const isPositionalOnly = spec.positional === true && spec.keyword === false;
    ctx.report(
      createDiagnostic(Diagnostics.MissingArgument, { callee: call.callee, name: spec.name }, call.calleeName.span, {
        hint: isPositionalOnly ? `pass \`${spec.name}\` as positional argument ${positional.indexOf(spec) + 1}` : `add \`${spec.name}: ...\``,
      }),
    );
  }
}

/** Checks one argument's value against the kind its spec accepts. */
export function checkValue(ctx: ArgContext, callee: string, spec: ArgSpec, expr: Expr): void {
  const type = spec.type;
  if (typeof type === "object") return checkWord(ctx, callee, spec.name, type, expr);
  switch (type) {
    case "dtype":
      return checkDtype(ctx, callee, spec.name, expr);
    case "dims":
      return checkDims(ctx, callee, spec.name, expr);
    case "tensor":
      // `h0: none` spells "absent" for an optional tensor (unless someone bound a tensor named `none`).
      if (!spec.required && expr.kind === "Name" && expr.name === "none" && !ctx.isBound("none")) return;
      return expectKind(ctx, callee, spec, expr, ["tensor", "int", "float", "bool", "unknown"]);
    case "int":
      return expectKind(ctx, callee, spec, expr, ["int", "unknown"]);
    case "number":
      return expectKind(ctx, callee, spec, expr, ["int", "float", "unknown"]);
    case "bool":
      return expectKind(ctx, callee, spec, expr, ["bool", "unknown"]);
    case "string":
      return expectKind(ctx, callee, spec, expr, ["string", "unknown"]);
    case "ints":
      if (expr.kind === "List") {
        for (const item of expr.items) expectKind(ctx, callee, spec, item, ["int", "unknown"]);
        return;
      }
      return expectKind(ctx, callee, spec, expr, ["int", "list", "unknown"]);
  }
}

function typeMismatch(ctx: ArgContext, callee: string, arg: string, type: ArgType, found: string, expr: Expr, hint?: string): void {
  ctx.report(
    createDiagnostic(Diagnostics.ArgumentType, { arg, callee, expected: describeArgType(type), found }, expr.span, { hint }),
  );
}

function expectKind(ctx: ArgContext, callee: string, spec: ArgSpec, expr: Expr, accepted: readonly ValueKind[]): void {
  const kind = ctx.valueKind(expr);
  if (!accepted.includes(kind)) typeMismatch(ctx, callee, spec.name, spec.type, describeKind(kind), expr);
}

/** A bare word from a fixed list (`select: argmax`); a string literal is accepted too. */
function checkWord(ctx: ArgContext, callee: string, arg: string, type: { readonly oneOf: readonly string[] }, expr: Expr): void {
  const word = expr.kind === "Name" ? expr.name : expr.kind === "String" ? expr.value : undefined;
  if (word !== undefined && type.oneOf.includes(word)) return;
  if (word === undefined) {
    typeMismatch(ctx, callee, arg, type, describeKind(ctx.valueKind(expr)), expr);
    return;
  }
  const guess = suggest(word, type.oneOf);
  typeMismatch(ctx, callee, arg, type, `\`${word}\``, expr, guess ? format(Hints.DidYouMean, { name: guess }) : undefined);
}

function checkDtype(ctx: ArgContext, callee: string, arg: string, expr: Expr): void {
  if (expr.kind === "Dtype" || expr.kind === "Invalid") return;
  if (expr.kind === "Name" && !ctx.isBound(expr.name)) {
    const guess = suggest(expr.name, dtypeSpellings);
    typeMismatch(ctx, callee, arg, "dtype", `\`${expr.name}\``, expr, guess ? format(Hints.DidYouMean, { name: guess }) : undefined);
    return;
  }
  const kind = ctx.valueKind(expr);
  if (kind !== "dtype" && kind !== "unknown") typeMismatch(ctx, callee, arg, "dtype", describeKind(kind), expr);
}

/** `[B, S*2, -1, hidden/4]`: integers, dimension names, arithmetic. */
function checkDims(ctx: ArgContext, callee: string, arg: string, expr: Expr): void {
  if (expr.kind !== "List") {
    const kind = ctx.valueKind(expr);
    if (kind !== "list" && kind !== "unknown") typeMismatch(ctx, callee, arg, "dims", describeKind(kind), expr);
    return;
  }
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case "Number":
        if (!e.isInteger) typeMismatch(ctx, callee, arg, "dims", `the number ${e.value}`, e);
        return;
      case "Name":
        return ctx.dimName(e);
      case "Binary":
        if (e.op === "+" || e.op === "-" || e.op === "*" || e.op === "/") {
          visit(e.left);
          visit(e.right);
          return;
        }
        break;
      case "Unary":
        return visit(e.operand);
      case "Invalid":
        return;
    }
    typeMismatch(ctx, callee, arg, "dims", describeKind(ctx.valueKind(e)), e);
  };
  expr.items.forEach(visit);
}
