import type { Dim, ValueId } from "@attn/core";
import type { SourceSpan } from "../span.js";

/** What an `.attn` expression evaluates to while lowering. */
export type Val =
  | { readonly kind: "tensor"; readonly id: ValueId }
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "dim"; readonly dim: Dim }
  | { readonly kind: "list"; readonly items: readonly Val[] }
  | { readonly kind: "dtype"; readonly value: "float32" | "int32" | "bool" }
  /** The value of a statement that already failed: uses of it report nothing more. */
  | { readonly kind: "poison" };

export function describeVal(v: Val): string {
  switch (v.kind) {
    case "tensor":
      return "a tensor";
    case "number":
      return `the number ${v.value}`;
    case "bool":
      return `${v.value}`;
    case "string":
      return `the string "${v.value}"`;
    case "dim":
      return `the dimension ${v.dim}`;
    case "list":
      return "a list";
    case "dtype":
      return `the dtype ${v.value}`;
    case "poison":
      return "an invalid value";
  }
}

/** An argument as written at a call: its value and where it is, for precise errors. */
export interface ArgVal {
  readonly value: Val;
  readonly span: SourceSpan;
}
