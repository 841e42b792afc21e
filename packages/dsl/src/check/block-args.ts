/**
 * The first argument list of a block use, `Block(params...)`, against the block's parameters: by
 * position or by name, required unless they have a default. (Layer calls are checked against the
 * catalogue in args.ts instead.)
 */
import type { BlockUse, Decl } from "../ast/ast.js";
import { createDiagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics, format, Hints } from "../diagnostics/messages.js";
import { suggest } from "../diagnostics/suggest.js";
import type { SourceSpan } from "../span.js";
import { positionalCount, type ArgContext } from "./args.js";

export function checkBlockArgs(ctx: ArgContext, use: BlockUse, decl: Decl): void {
  const callee = `block \`${decl.name.name}\``;
  const params = decl.params;
  const given = new Map<string, SourceSpan>();
  // Names offered as "did you mean": the misspelt argument stands for them, so they are not missing.
  const suggested = new Set<string>();

  if (use.args.length > params.length) {
    const required = params.filter((p) => p.defaultValue === undefined).length;
    ctx.report(
      createDiagnostic(
        Diagnostics.PositionalArity,
        { callee, expected: positionalCount(required, params.length), count: use.args.length },
        use.args[params.length].span,
      ),
    );
  }
  use.args.forEach((arg, i) => {
    if (params[i]) given.set(params[i].name.name, arg.span);
    ctx.valueKind(arg);
  });

  for (const arg of use.named) {
    ctx.valueKind(arg.value);
    const param = params.find((p) => p.name.name === arg.name.name);
    if (param === undefined) {
      const guess = suggest(arg.name.name, params.map((p) => p.name.name));
      if (guess !== undefined) suggested.add(guess);
      ctx.report(
        createDiagnostic(Diagnostics.UnknownArgument, { callee, name: arg.name.name }, arg.name.span, {
          hint: guess ? format(Hints.DidYouMean, { name: guess }) : undefined,
        }),
      );
      continue;
    }
    const first = given.get(param.name.name);
    if (first !== undefined) {
      ctx.report(
        createDiagnostic(Diagnostics.DuplicateArgument, { name: arg.name.name }, arg.name.span, {
          related: [{ message: "first given here", span: first }],
        }),
      );
    }
    given.set(param.name.name, arg.span);
  }

  if (use.incomplete) return; // a syntax error cut the list short: do not guess what is missing
  for (const param of params) {
    if (param.defaultValue === undefined && !given.has(param.name.name) && !suggested.has(param.name.name)) {
      ctx.report(
        createDiagnostic(Diagnostics.MissingArgument, { callee, name: param.name.name }, use.block.span, {
          hint: `add \`${param.name.name}: ...\` to the first argument list`,
        }),
      );
    }
  }
}
