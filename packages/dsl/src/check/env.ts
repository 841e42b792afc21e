/**
 * What the checker knows about names, without shapes: what each name is bound to and the kind of
 * value it holds (enough to catch `hidden: "16"` or a tensor used as a dimension).
 */
import type { SourceSpan } from "../span.js";

/** The kind of a value, as far as it can be known without shapes. */
export type ValueKind = "int" | "float" | "bool" | "string" | "dtype" | "list" | "tensor" | "unknown";

export type BindingKind = "hyperparameter" | "input" | "variable" | "sequence" | "carry";

export interface Binding {
  readonly kind: BindingKind;
  readonly valueKind: ValueKind;
  readonly span: SourceSpan;
}

/**
 * A lexical scope of value names. A model or block body has one (shared by its `encoder`/`decoder`/
 * `scope` blocks, whose names stay visible after them); a scan body gets a child, so names bound per
 * step do not leak out.
 */
export class Env {
  private readonly names = new Map<string, Binding>();

  constructor(readonly parent?: Env) {}

  lookup(name: string): Binding | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }

  /** Bound here, not in a parent. */
  own(name: string): Binding | undefined {
    return this.names.get(name);
  }

  bind(name: string, binding: Binding): void {
    this.names.set(name, binding);
  }

  /** Every visible name, innermost first: the candidates for "did you mean". */
  visibleNames(): string[] {
    return [...new Set([...this.names.keys(), ...(this.parent?.visibleNames() ?? [])])];
  }
}

export function describeKind(kind: ValueKind): string {
  switch (kind) {
    case "int":
      return "an integer";
    case "float":
      return "a float";
    case "bool":
      return "a boolean";
    case "string":
      return "a string";
    case "dtype":
      return "a dtype";
    case "list":
      return "a list";
    case "tensor":
      return "a tensor";
    case "unknown":
      return "a value of unknown kind";
  }
}

/** The kind of `a op b` for arithmetic: tensors win, then floats; anything odd is left unknown. */
export function arithmeticKind(a: ValueKind, b: ValueKind): ValueKind {
  if (a === "tensor" || b === "tensor") return "tensor";
  if (a === "unknown" || b === "unknown") return "unknown";
  if (a === "int" && b === "int") return "int";
  if ((a === "int" || a === "float") && (b === "int" || b === "float")) return "float";
  return "unknown";
}
